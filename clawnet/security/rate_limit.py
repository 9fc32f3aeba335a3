"""Rate limits: a refusal that says how long to wait, never a queue.

Costly actions (chat turns, bot starts/stops/restarts, imports, session changes, API calls) are
limited per person (`user:<id>`) or per API token (`token:<id>`): at most `count` in any
`window_s` seconds. Defaults are below; an admin's changes are stored in `rate_limits` and read
with a short cache. The counters live in this process (one worker) or in Redis (`use_redis`, when
events cross processes over Redis) so every worker counts together.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel import select

from clawnet.db import session_scope
from clawnet.errors import RateLimited
from clawnet.models import RateLimitSetting
from clawnet.security.limiter import MemoryWindows, RedisWindows, WindowBackend
from clawnet.settings import Settings

__all__ = [
    "DEFAULT_LIMITS",
    "Limit",
    "LimitAction",
    "RateLimited",
    "RateLimiter",
    "rate_limiter",
    "retry_after",
    "use_redis",
    "wait_phrase",
]

log = logging.getLogger(__name__)

CACHE_S = 10.0
MAX_COUNT = 1_000_000
MAX_WINDOW_S = 7 * 86400


def wait_phrase(seconds: float) -> str:
    """'30 seconds', '4 minutes', '2 hours': how long to wait, rounded up."""
    seconds = max(1, math.ceil(seconds))
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    if minutes < 90:
        return f"{minutes} minutes"
    return f"{math.ceil(minutes / 60)} hours"


def retry_after(oldest_in_window: datetime, window: timedelta, now: datetime) -> float:
    """Seconds until the oldest counted event leaves the window."""
    return max(1.0, (oldest_in_window + window - now).total_seconds())


class LimitAction(StrEnum):
    CHAT = "chat"
    LIFECYCLE = "lifecycle"
    IMPORT = "import"
    SESSION = "session"
    API = "api"


@dataclass(frozen=True)
class Limit:
    count: int
    window_s: int


DEFAULT_LIMITS: dict[LimitAction, Limit] = {
    LimitAction.CHAT: Limit(30, 60),
    LimitAction.LIFECYCLE: Limit(20, 60),
    LimitAction.IMPORT: Limit(10, 3600),
    LimitAction.SESSION: Limit(60, 60),
    LimitAction.API: Limit(300, 300),
}

LABELS: dict[LimitAction, str] = {
    LimitAction.CHAT: "Chat messages (per person)",
    LimitAction.LIFECYCLE: "Bot starts, stops and restarts (per person)",
    LimitAction.IMPORT: "Configuration imports (per person)",
    LimitAction.SESSION: "Session changes (per person)",
    LimitAction.API: "API calls (per token)",
}

_REFUSALS: dict[LimitAction, str] = {
    LimitAction.CHAT: "Too many chat messages.",
    LimitAction.LIFECYCLE: "Too many bot starts, stops and restarts.",
    LimitAction.IMPORT: "Too many imports.",
    LimitAction.SESSION: "Too many session changes.",
    LimitAction.API: "Too many API calls with this token.",
}


def refusal(action: LimitAction, wait_s: float) -> RateLimited:
    """'Too many chat messages. Try again in 30 seconds.'"""
    return RateLimited(f"{_REFUSALS[action]} Try again in {wait_phrase(wait_s)}.", max(1.0, wait_s))


def check_limit(count: int, window_s: int) -> str:
    """What is wrong with a limit ('' when nothing)."""
    if not 1 <= count <= MAX_COUNT:
        return f"Give a number from 1 to {MAX_COUNT:,}."
    if not 1 <= window_s <= MAX_WINDOW_S:
        return f"Give a number of seconds from 1 to {MAX_WINDOW_S:,} (7 days)."
    return ""


class RateLimiter:
    """The limits of one installation (its database) and the counters that enforce them."""

    def __init__(
        self, database_url: str, backend: WindowBackend | None = None, *, enabled: bool = True
    ) -> None:
        self.database_url = database_url
        self.backend = backend or MemoryWindows()
        self.enabled = enabled
        self._cached: dict[LimitAction, Limit] | None = None
        self._cached_at = 0.0
        self._lock = threading.Lock()

    def limits(self) -> dict[LimitAction, Limit]:
        """Every action's limit: the defaults with an admin's changes (cached for 10 s)."""
        with self._lock:
            if self._cached is not None and time.monotonic() - self._cached_at < CACHE_S:
                return self._cached
        found = dict(DEFAULT_LIMITS)
        try:
            with session_scope(self.database_url) as session:
                for row in session.exec(select(RateLimitSetting)).all():
                    if row.action in LimitAction.__members__.values():
                        found[LimitAction(row.action)] = Limit(row.max_count, row.window_s)
        except Exception as exc:  # a database hiccup must not refuse work: the defaults apply
            log.warning("could not read the rate limits (%s); using the defaults", str(exc).split("\n")[0])
            found = dict(DEFAULT_LIMITS)
        with self._lock:
            self._cached, self._cached_at = found, time.monotonic()
        return found

    def forget_cached(self) -> None:
        with self._lock:
            self._cached = None

    def hit(self, action: LimitAction, subject: str) -> None:
        """Count one `action` by `subject`; RateLimited (nothing counted) when over the limit.
        Blocking (database, Redis): call it off the event loop, or use `check`."""
        if not self.enabled:
            return
        limit = self.limits()[action]
        wait = self.backend.hit(f"{action.value}:{subject}", limit.count, limit.window_s)
        if wait > 0:
            raise refusal(action, wait)

    async def check(self, action: LimitAction, subject: str) -> None:
        if self.enabled:
            await asyncio.to_thread(self.hit, action, subject)


_redis_url = ""
_limiters: dict[str, RateLimiter] = {}
_registry_lock = threading.Lock()


def use_redis(url: str) -> None:
    """Count in Redis at `url` from now on ('' : in this process)."""
    global _redis_url
    with _registry_lock:
        if url != _redis_url:
            _redis_url = url
            _limiters.clear()


def rate_limiter(settings: Settings) -> RateLimiter:
    """This process's limiter for the installation `settings` describe."""
    with _registry_lock:
        found = _limiters.get(settings.database_url)
        if found is None:
            backend = RedisWindows(_redis_url) if _redis_url else MemoryWindows()
            found = RateLimiter(settings.database_url, backend, enabled=settings.rate_limits_enabled)
            _limiters[settings.database_url] = found
        return found
