"""The notification bell: the unread count in the navigation, kept live on every page."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import runtime
from clawnet.events import FleetEvent, Kind
from clawnet.ui import live
from clawnet.ui.session import current_principal
from clawnet.ui.typed import Field, event, field


class NotifyState(rx.State):
    unread: Field[int] = field(0)
    _profile_id: int = 0
    _watch_gen: int = 0

    @event
    async def start(self) -> Any:
        """on_mount of the navigation: read the count, then follow it live."""
        principal = await current_principal(self)
        self._profile_id, self.unread = await runtime.social().unread(principal)
        return NotifyState.watch if self._profile_id else None

    @event(background=True)
    async def watch(self) -> None:
        async with self:
            self._watch_gen += 1
            profile_id = self._profile_id

        def apply(batch: list[FleetEvent]) -> None:
            self.unread = int(batch[-1].payload.get("unread", self.unread))

        await live.follow(
            self,
            kinds=[Kind.NOTIFICATION],
            where=lambda e: e.payload.get("recipient_id") == profile_id,
            apply=apply,
            generation=lambda: self._watch_gen,
            on_page=lambda _path: True,
        )
