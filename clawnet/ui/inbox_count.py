"""The inbox link in the navigation: how many approvals and access requests wait on the bots the
person may see, kept live on every page."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import runtime
from clawnet.events import FleetEvent, Kind
from clawnet.ui import live
from clawnet.ui.session import current_principal
from clawnet.ui.typed import Field, event, field


class InboxCountState(rx.State):
    pending: Field[int] = field(0)
    _watch_gen: int = 0

    @event
    async def start(self) -> Any:
        """on_mount of the navigation link: read the count, then follow it live."""
        principal = await current_principal(self)
        self.pending = await runtime.bots().inbox_count(principal)
        return InboxCountState.watch if principal is not None else None

    @event(background=True)
    async def watch(self) -> None:
        async with self:
            self._watch_gen += 1

        async def apply(_batch: list[FleetEvent]) -> None:
            self.pending = await runtime.bots().inbox_count(await current_principal(self))

        await live.follow(
            self,
            kinds=[Kind.APPROVALS, Kind.ACCESS_REQUESTS, Kind.FLEET_CHANGED],
            where=lambda _e: True,
            apply=apply,
            generation=lambda: self._watch_gen,
            on_page=lambda _path: True,
        )
