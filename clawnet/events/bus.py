"""The fleet's event bus: every status change, log line, session change and error, published
for whoever is listening (dashboards, tests, benchmarks).

Publishing never blocks and never fails: each subscriber has a bounded queue, and a subscriber
that falls behind loses its oldest events and is told so (`lagged`), so one slow browser cannot
stall the control plane. A `Transport` can carry events to other processes (Redis pub/sub when
several web workers run); events arriving from a transport are delivered locally only.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from clawnet.aio import wait_for

log = logging.getLogger(__name__)


_seq = itertools.count(1)


@dataclass(frozen=True)
class FleetEvent:
    kind: str
    payload: dict[str, Any] = field(default_factory=dict)
    gateway_id: int | None = None
    bot_id: int | None = None
    at: float = field(default_factory=time.time)
    seq: int = field(default_factory=lambda: next(_seq))
    origin: str = ""  # the process that published it, for transports

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Subscription:
    """An async iterator of events matching a filter."""

    def __init__(self, bus: EventBus, accepts: Callable[[FleetEvent], bool], maxsize: int) -> None:
        self._bus = bus
        self._accepts = accepts
        self._queue: asyncio.Queue[FleetEvent] = asyncio.Queue(maxsize)
        self._loop = asyncio.get_running_loop()
        self.lagged = 0  # events dropped because this subscriber fell behind
        self.closed = False

    def _offer(self, event: FleetEvent) -> None:
        if self.closed or not self._accepts(event):
            return
        if self._queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self._queue.get_nowait()
            self.lagged += 1
        self._queue.put_nowait(event)

    async def get(self, timeout: float | None = None) -> FleetEvent:
        if timeout is None:
            return await self._queue.get()
        return await wait_for(self._queue.get(), timeout)

    def get_nowait(self) -> FleetEvent | None:
        try:
            return self._queue.get_nowait()
        except asyncio.QueueEmpty:
            return None

    def __aiter__(self) -> AsyncIterator[FleetEvent]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[FleetEvent]:
        while not self.closed:
            yield await self._queue.get()

    def close(self) -> None:
        self.closed = True
        self._bus._remove(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Transport(Protocol):
    """Carries events between processes. `start` gets a callback for events from elsewhere."""

    async def start(self, deliver: Callable[[FleetEvent], None]) -> None: ...

    def send(self, event: FleetEvent) -> None: ...

    async def stop(self) -> None: ...


class EventBus:
    def __init__(self, origin: str = "") -> None:
        self.origin = origin
        self._subscribers: list[Subscription] = []
        self._lock = threading.Lock()
        self._transport: Transport | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def subscribe(
        self,
        kinds: Iterable[str] | None = None,
        *,
        bot_ids: Iterable[int] | None = None,
        gateway_ids: Iterable[int] | None = None,
        where: Callable[[FleetEvent], bool] | None = None,
        maxsize: int = 1000,
    ) -> Subscription:
        """Subscribe (inside a running event loop) to events of `kinds` (all if None)."""
        kind_set = frozenset(kinds) if kinds is not None else None
        bot_set = frozenset(bot_ids) if bot_ids is not None else None
        gw_set = frozenset(gateway_ids) if gateway_ids is not None else None

        def accepts(event: FleetEvent) -> bool:
            if kind_set is not None and event.kind not in kind_set:
                return False
            if bot_set is not None and event.bot_id not in bot_set:
                return False
            if gw_set is not None and event.gateway_id not in gw_set:
                return False
            return where is None or where(event)

        sub = Subscription(self, accepts, maxsize)
        with self._lock:
            self._subscribers.append(sub)
            self._loop = sub._loop
        return sub

    def _remove(self, sub: Subscription) -> None:
        with self._lock, contextlib.suppress(ValueError):
            self._subscribers.remove(sub)

    @property
    def has_transport(self) -> bool:
        """Whether events cross to other processes (Redis)."""
        return self._transport is not None

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def publish(
        self,
        kind: str,
        payload: dict[str, Any] | None = None,
        *,
        gateway_id: int | None = None,
        bot_id: int | None = None,
    ) -> FleetEvent:
        event = FleetEvent(kind, dict(payload or {}), gateway_id, bot_id, origin=self.origin)
        self.deliver(event)
        if self._transport is not None:
            try:
                self._transport.send(event)
            except Exception:
                log.exception("event transport failed to send %s", kind)
        return event

    def deliver(self, event: FleetEvent) -> None:
        """Hand an event to local subscribers (safe from any thread)."""
        with self._lock:
            subscribers = list(self._subscribers)
        for sub in subscribers:
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is sub._loop:
                sub._offer(event)
            elif not sub._loop.is_closed():
                sub._loop.call_soon_threadsafe(sub._offer, event)

    async def attach_transport(self, transport: Transport) -> None:
        self._transport = transport
        await transport.start(self._from_transport)

    def _from_transport(self, event: FleetEvent) -> None:
        if event.origin and event.origin == self.origin:
            return  # our own event, already delivered locally
        self.deliver(event)

    async def detach_transport(self) -> None:
        if self._transport is not None:
            transport, self._transport = self._transport, None
            await transport.stop()
