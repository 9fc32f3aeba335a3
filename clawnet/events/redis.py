"""Events between processes over Redis pub/sub: with several web workers and a control plane of
its own, a crash seen by the controller, or a post created in one worker, reaches the live pages
of every worker.

Publishing stays non-blocking (the bus's promise): events go into a bounded queue that one task
sends in order; if Redis is down the queue drops its oldest events and the sender reconnects with
backoff. The receiving side resubscribes after a lost connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from clawnet.events import FleetEvent

log = logging.getLogger(__name__)

CHANNEL = "clawnet:events"
QUEUE_MAX = 10_000


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
    def __init__(self, url: str, channel: str = CHANNEL) -> None:
        self.url = url
        self.channel = channel
        self._outbox: asyncio.Queue[str] = asyncio.Queue(QUEUE_MAX)
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
            await asyncio.wait_for(self.subscribed.wait(), 5)  # best effort: Redis may be starting

    def send(self, event: FleetEvent) -> None:
        """Queue an event (safe from any thread; never blocks)."""
        if self._loop is None or self._loop.is_closed():
            return
        raw = encode(event)
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._enqueue(raw)
        else:
            self._loop.call_soon_threadsafe(self._enqueue, raw)

    def _enqueue(self, raw: str) -> None:
        if self._outbox.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self._outbox.get_nowait()  # drop the oldest: live views recover by reloading
        self._outbox.put_nowait(raw)

    async def _send_loop(self) -> None:
        delay = 0.5
        while True:
            client = aioredis.from_url(self.url)
            try:
                while True:
                    raw = await self._outbox.get()
                    try:
                        await client.publish(self.channel, raw)
                    except RedisError:
                        self._requeue(raw)
                        raise
                    delay = 0.5
            except RedisError as exc:
                log.warning("publishing events to Redis failed (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)
            finally:
                with contextlib.suppress(Exception):
                    await client.aclose()

    def _requeue(self, raw: str) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self._outbox.put_nowait(raw)

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
                    if message.get("type") == "message" and (event := decode(message["data"])) is not None:
                        deliver(event)
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
