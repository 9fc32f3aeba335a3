"""Events between processes over Redis pub/sub: with several web workers and a control plane of
its own, a crash seen by the controller, or a post created in one worker, reaches the live pages
of every worker.

Publishing stays non-blocking (the bus's promise): events go into a bounded queue that one task
sends in order; if Redis is down the queue drops its oldest events and the sender reconnects with
backoff. The receiving side resubscribes after a lost connection.

Every message is signed (HMAC-SHA256 over its key id, time and body) with a key the runtime
derives from the installation's key ring and passes in (`MessageKeys`), so a client that can reach
Redis cannot make the control plane act (a `chat.request` runs a turn). Receivers drop, with a
logged warning, messages that are unsigned, badly signed, signed with an unknown key, or older (or
newer) than `MAX_AGE_S`, and any message seen before (a replay).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from clawnet.aio import wait_for
from clawnet.events import FleetEvent

log = logging.getLogger(__name__)

CHANNEL = "clawnet:events"
QUEUE_MAX = 10_000
SIGNED = "cns1"
MAX_AGE_S = 60.0  # how old (or, across skewed clocks, how far ahead) a message may be
WARN_EVERY_S = 10.0


class MessageKeys(Protocol):
    """Signing keys (bytes), by key id; `verifying_key` is None for a key this process lacks."""

    def signing_key(self) -> tuple[str, bytes]: ...

    def verifying_key(self, key_id: str) -> bytes | None: ...


def _mac(key: bytes, key_id: str, stamp: str, body: str) -> str:
    return hmac.new(key, f"{SIGNED}:{key_id}:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()


def seal(body: str, keys: MessageKeys, now: float | None = None) -> str:
    """`body` signed: `cns1:<key id>:<unix time>:<hmac>:<body>`."""
    key_id, key = keys.signing_key()
    stamp = f"{time.time() if now is None else now:.3f}"
    return f"{SIGNED}:{key_id}:{stamp}:{_mac(key, key_id, stamp, body)}:{body}"


class Opener:
    """Checks signed messages; remembers the signatures of the last `MAX_AGE_S` to refuse replays."""

    def __init__(self, keys: MessageKeys, max_age_s: float = MAX_AGE_S) -> None:
        self.keys = keys
        self.max_age_s = max_age_s
        self._seen: set[str] = set()
        self._order: deque[tuple[float, str]] = deque()  # (when received, signature), oldest first
        self._warned_at = 0.0
        self.dropped = 0

    def open(self, raw: str | bytes, now: float | None = None) -> str | None:
        """The body of a good message; None (and a warning) for anything else."""
        now = time.time() if now is None else now
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        parts = text.split(":", 4)
        if len(parts) != 5 or parts[0] != SIGNED:
            return self._drop("an unsigned message")
        _, key_id, stamp, mac, body = parts
        key = self.keys.verifying_key(key_id)
        if key is None:
            return self._drop(f"a message signed with an unknown key ({key_id[:16]!r})")
        expected = _mac(key, key_id, stamp, body).encode()
        if not hmac.compare_digest(mac.encode("utf-8", "replace"), expected):  # bytes: any text compares
            return self._drop("a message with a bad signature")
        try:
            at = float(stamp)
        except ValueError:
            return self._drop("a message with a bad time")
        if abs(now - at) > self.max_age_s:
            return self._drop(f"a message {now - at:.0f} s old (replayed, or a clock is wrong)")
        while self._order and self._order[0][0] < now - 2 * self.max_age_s:  # too old to replay now
            self._seen.discard(self._order.popleft()[1])
        if mac in self._seen:
            return self._drop("a message seen before (replayed)")
        self._seen.add(mac)
        self._order.append((now, mac))
        return body

    def _drop(self, what: str) -> str | None:
        self.dropped += 1
        now = time.monotonic()
        if now - self._warned_at > WARN_EVERY_S:  # a flood must not flood the log too
            self._warned_at = now
            log.warning("dropped %s from Redis (%d dropped so far)", what, self.dropped)
        return None


def encode(event: FleetEvent) -> str:
    return json.dumps(event.to_dict(), default=str, separators=(",", ":"))


def decode(raw: str | bytes) -> FleetEvent | None:
    try:
        data = json.loads(raw)
        return FleetEvent(
            kind=str(data["kind"]),
            payload=dict(data.get("payload") or {}),
            gateway_id=data.get("gateway_id"),
            bot_id=data.get("bot_id"),
            at=float(data.get("at") or 0),
            origin=str(data.get("origin") or ""),
        )
    except (ValueError, KeyError, TypeError):
        log.warning("ignored a malformed event from Redis")
        return None


class RedisTransport:
    def __init__(self, url: str, keys: MessageKeys, channel: str = CHANNEL) -> None:
        self.url = url
        self.channel = channel
        self.keys = keys
        self.opener = Opener(keys)
        self._outbox: asyncio.Queue[tuple[str, float | None]] = asyncio.Queue(QUEUE_MAX)
        self._tasks: list[asyncio.Task[Any]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self.subscribed = asyncio.Event()

    async def start(self, deliver: Callable[[FleetEvent], None]) -> None:
        self._loop = asyncio.get_running_loop()
        self._tasks = [
            asyncio.create_task(self._receive(deliver), name="redis-events-in"),
            asyncio.create_task(self._send_loop(), name="redis-events-out"),
        ]
        with contextlib.suppress(TimeoutError):
            await wait_for(self.subscribed.wait(), 5)  # best effort: Redis may be starting

    def send(self, event: FleetEvent) -> None:
        """Queue an event (safe from any thread; never blocks)."""
        if self._loop is None or self._loop.is_closed():
            return
        raw = encode(event)
        # A request whose asker gives up at `act_before` (this machine's clock) is not sent later.
        until = event.payload.get("act_before")
        item = (raw, float(until) if isinstance(until, int | float) else None)
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._enqueue(item)
        else:
            self._loop.call_soon_threadsafe(self._enqueue, item)

    def _enqueue(self, item: tuple[str, float | None]) -> None:
        if self._outbox.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self._outbox.get_nowait()  # drop the oldest: live views recover by reloading
        self._outbox.put_nowait(item)

    async def _send_loop(self) -> None:
        delay = 0.5
        while True:
            client = aioredis.from_url(self.url)
            try:
                while True:
                    item = await self._outbox.get()
                    raw, until = item
                    if until is not None and time.time() > until:
                        log.info("did not send a request held back past its asker's deadline")
                        continue
                    try:  # signed now, not when queued: a message held during an outage is not stale
                        await client.publish(self.channel, seal(raw, self.keys))
                    except RedisError:
                        self._requeue(item)
                        raise
                    delay = 0.5
            except RedisError as exc:
                log.warning("publishing events to Redis failed (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)
            finally:
                with contextlib.suppress(Exception):
                    await client.aclose()

    def _requeue(self, item: tuple[str, float | None]) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self._outbox.put_nowait(item)

    async def _receive(self, deliver: Callable[[FleetEvent], None]) -> None:
        delay = 0.5
        while True:
            client = aioredis.from_url(self.url)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self.subscribed.set()
                delay = 0.5
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    try:  # one bad message never ends the receiving loop
                        body = self.opener.open(message["data"])
                        if body is not None and (event := decode(body)) is not None:
                            deliver(event)
                    except Exception:
                        log.exception("ignored a message from Redis that could not be handled")
            except RedisError as exc:
                self.subscribed.clear()
                log.warning("receiving events from Redis failed (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                    await client.aclose()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
