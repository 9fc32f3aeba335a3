"""What every part of the bots service shares: settings, the bus, the way to the control plane,
and database work off the event loop."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlmodel import Session

from clawnet.controlplane.access import Control
from clawnet.db import run_in_session
from clawnet.events import EventBus, Kind
from clawnet.security.rate_limit import LimitAction, rate_limiter
from clawnet.settings import Settings

T = TypeVar("T")


class BotsBase:
    settings: Settings
    bus: EventBus
    control: Control

    async def _db(self, fn: Callable[[Session], T]) -> T:
        """`fn(session)` in one transaction, on a worker thread."""
        return await run_in_session(fn, self.settings.database_url)

    async def _limit(self, action: LimitAction, user_id: int) -> None:
        """Count one costly `action` by the person; RateLimited when they are over its limit."""
        await rate_limiter(self.settings).check(action, f"user:{user_id}")

    def _changed(self, bot_id: int | None = None) -> None:
        """The desired state changed: reconcile soon, and open pages reload their lists."""
        self.control.kick()
        self.bus.publish(Kind.FLEET_CHANGED, {"bot_id": bot_id}, bot_id=bot_id)
