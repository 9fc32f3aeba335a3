"""The notification bell: the unread count in the navigation, kept live on every page."""

from __future__ import annotations

import reflex as rx

from clawnet import live
from clawnet.db import session_scope
from clawnet.events.bus import FleetEvent, Kind
from clawnet.social import profiles
from clawnet.social.service import unread_count
from clawnet.state import current_principal


class NotifyState(rx.State):
    unread: int = 0
    _profile_id: int = 0
    _watch_gen: int = 0

    @rx.event
    async def start(self):
        """on_mount of the navigation: read the count, then follow it live."""
        principal = await current_principal(self)
        if principal is None:
            self.unread = 0
            return None
        with session_scope() as session:
            profile = profiles.person_profile_of(session, principal.user_id)
            if profile is None or profile.id is None:
                return None
            self._profile_id = profile.id
            self.unread = unread_count(session, profile.id)
        return NotifyState.watch

    @rx.event(background=True)
    async def watch(self):
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
