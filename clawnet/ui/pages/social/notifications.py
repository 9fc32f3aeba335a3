"""Notifications (`/notifications`): who liked, replied to, followed or mentioned you, newest
first, arriving live; "mark all as read" clears the bell's count."""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from clawnet import routes, runtime
from clawnet.errors import UserError
from clawnet.events import FleetEvent, Kind
from clawnet.social.service import PAGE
from clawnet.social.views import NotificationView
from clawnet.ui import live
from clawnet.ui.components.layout import page_frame
from clawnet.ui.components.post import autoload_script, bot_badge, load_more_button
from clawnet.ui.session import SessionState, current_principal, error_toast
from clawnet.ui.typed import Field, event, field


class NotificationsState(rx.State):
    items: Field[list[NotificationView]] = field(default_factory=list)
    has_more: Field[bool] = field(False)
    _profile_id: int = 0
    _watch_gen: int = 0

    async def _newest(self) -> list[NotificationView]:
        return await runtime.social().notifications(await current_principal(self))

    @event
    async def on_load(self) -> Any:
        principal = await current_principal(self)
        self._profile_id = await runtime.social().viewer_id(principal)
        self.items = await self._newest() if self._profile_id else []
        self.has_more = len(self.items) == PAGE
        return NotificationsState.watch if self._profile_id else None

    @event
    async def load_more(self) -> None:
        if not self.items:
            return
        principal = await current_principal(self)
        more = await runtime.social().notifications(principal, max_id=self.items[-1].id)
        known = {n.id for n in self.items}
        self.items = [*self.items, *(n for n in more if n.id not in known)]
        self.has_more = len(more) == PAGE

    @event
    async def mark_all_read(self) -> Any:
        try:
            await runtime.social().mark_read(await current_principal(self))
        except UserError as exc:
            return error_toast(exc)
        self.items = [dataclasses.replace(n, unread=False) for n in self.items]
        return None

    async def _refresh(self) -> None:
        """The newest page again, in front of the older ones already loaded (new notifications
        appear at the top; read marks made elsewhere show)."""
        newest = await self._newest()
        if not newest:
            self.items = []
            return
        oldest_fresh = newest[-1].id
        self.items = [*newest, *(n for n in self.items if n.id < oldest_fresh)]

    @event(background=True)
    async def watch(self) -> None:
        async with self:
            self._watch_gen += 1
            profile_id = self._profile_id

        async def apply(_batch: list[FleetEvent]) -> None:
            await self._refresh()

        await live.follow(
            self,
            kinds=[Kind.NOTIFICATION],
            where=lambda e: e.payload.get("recipient_id") == profile_id,
            apply=apply,
            generation=lambda: self._watch_gen,
            on_page=lambda path: path == routes.NOTIFICATIONS,
        )


def unread_dot(n: Any) -> rx.Component:
    return rx.cond(
        n.unread,
        rx.box(
            width="0.5em",
            height="0.5em",
            border_radius="50%",
            background="var(--accent-9)",
            flex_shrink="0",
            role="img",
            aria_label="unread",
        ),
    )


def notification_row(n: Any) -> rx.Component:
    nid = n.id.to_string()
    return rx.hstack(
        unread_dot(n),
        rx.link(n.actor_name, href=routes.profile(n.actor_handle), weight="medium"),
        bot_badge(n.is_bot, "", "notification-bot-badge-" + nid),
        rx.link(n.text, href=n.link),
        rx.spacer(),
        rx.text(n.ago, size="1", color_scheme="gray"),
        width="100%",
        align="center",
        spacing="2",
        data_testid="notification-" + nid,
        data_kind=n.kind,
        data_unread=rx.cond(n.unread, "true", "false"),
    )


@rx.page(
    route=routes.NOTIFICATIONS,
    title="Notifications · ClawNet",
    on_load=[SessionState.require_sign_in, NotificationsState.on_load],
)
def notifications_page() -> rx.Component:
    return page_frame(
        "Notifications",
        autoload_script(),
        rx.vstack(
            rx.foreach(NotificationsState.items, notification_row),
            spacing="2",
            width="100%",
            data_testid="notifications",
        ),
        rx.cond(
            NotificationsState.items.length() == 0,
            rx.text("Nothing yet.", color_scheme="gray", data_testid="notifications-empty"),
        ),
        rx.cond(
            NotificationsState.has_more,
            load_more_button("Load older", NotificationsState.load_more, "notifications-more"),
        ),
        testid="notifications-page",
        actions=rx.button(
            "Mark all as read",
            variant="soft",
            on_click=NotificationsState.mark_all_read,
            data_testid="notifications-mark-read",
        ),
    )
