"""The alerts link in the navigation: how many of the person's alerts are open, kept live on
every page."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import runtime
from clawnet.events import FleetEvent, Kind
from clawnet.ui import live
from clawnet.ui.session import current_principal
from clawnet.ui.typed import Field, event, field


class AlertCountState(rx.State):
    open_alerts: Field[int] = field(0)
    _watch_gen: int = 0
    _user_id: int = 0

    @event
    async def start(self) -> Any:
        """on_mount of the navigation link: read the count, then follow it live."""
        principal = await current_principal(self)
        self.open_alerts = await runtime.bots().alert_count(principal)
        self._user_id = principal.user_id if principal is not None else 0
        return AlertCountState.watch if principal is not None else None

    @event(background=True)
    async def watch(self) -> None:
        async with self:
            self._watch_gen += 1
            me = self._user_id

        def apply(batch: list[FleetEvent]) -> None:
            self.open_alerts = int(batch[-1].payload.get("open_count") or 0)

        await live.follow(
            self,
            kinds=[Kind.ALERT],
            where=lambda e: e.payload.get("owner_id") == me,
            apply=apply,
            generation=lambda: self._watch_gen,
            on_page=lambda _path: True,
        )
