"""Sliding-window counters: "at most N in any W seconds" per key, in this process's memory or in
Redis (shared by every worker of a scaled-out installation).

`hit(key, count, window_s)` counts one attempt and answers 0 when it is allowed, else the seconds
until the oldest counted attempt leaves the window (a refused attempt is not counted). Redis keeps,
per key, a sorted set of attempt times; one Lua script prunes, counts and adds atomically, with the
time taken from Redis itself so workers with different clocks agree.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import deque
from typing import Protocol

import redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

KEY_PREFIX = "clawnet:rl:"
WARN_EVERY_S = 30.0


class WindowBackend(Protocol):
    def hit(self, key: str, count: int, window_s: float) -> float: ...


class MemoryWindows:
    """One process's counters (a single worker, and tests)."""

    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, count: int, window_s: float, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - window_s:
                hits.popleft()
            if len(hits) >= count:  # allowed again when all but count - 1 have left the window
                return max(0.001, hits[len(hits) - count] + window_s - now)
            hits.append(now)
            if len(self._hits) > 50_000:  # forget idle keys now and then
                self._prune(now, window_s)
            return 0.0

    def _prune(self, now: float, window_s: float) -> None:
        for key in [k for k, h in self._hits.items() if not h or h[-1] <= now - window_s]:
            del self._hits[key]


# KEYS[1]: the key; ARGV: count, window in ms, a unique member. Returns 0 (counted) or the wait in ms.
HIT_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local count = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
if n >= count then
  local oldest = redis.call('ZRANGE', KEYS[1], n - count, n - count, 'WITHSCORES')
  local wait = tonumber(oldest[2]) + window - now
  if wait < 1 then wait = 1 end
  return wait
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return 0
"""


class RedisWindows:
    """Counters in Redis. If Redis cannot answer, the attempt is allowed (a Redis outage must not
    stop people working) and a warning is logged (at most every 30 s)."""

    def __init__(self, url: str, timeout_s: float = 0.5) -> None:
        self.url = url
        self._client = redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
        self._script = self._client.register_script(HIT_SCRIPT)
        self._warned_at = 0.0

    def hit(self, key: str, count: int, window_s: float) -> float:
        try:
            wait_ms = self._script(
                keys=[KEY_PREFIX + key], args=[count, max(1, int(window_s * 1000)), secrets.token_hex(8)]
            )
        except RedisError as exc:
            now = time.monotonic()
            if now - self._warned_at > WARN_EVERY_S:
                self._warned_at = now
                log.warning("rate limits are not enforced: Redis did not answer (%s)", exc)
            return 0.0
        return float(wait_ms) / 1000

    def close(self) -> None:
        self._client.close()
