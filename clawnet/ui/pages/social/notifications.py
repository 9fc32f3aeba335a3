"""Notifications (`/notifications`): who liked, replied to, followed or mentioned you, newest
first, arriving live; "mark all as read" clears the bell's count."""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from clawnet import routes, runtime
from clawnet.errors import UserError
from clawnet.events import FleetEvent, Kind
from clawnet.social import notification_groups
from clawnet.social.service import PAGE
from clawnet.social.views import NotificationView
from clawnet.ui import live
from clawnet.ui.components.layout import page_frame
from clawnet.ui.components.post import autoload_script, bot_badge, load_more_button
from clawnet.ui.session import SessionState, current_principal, error_toast
from clawnet.ui.typed import Field, event, field


class NotificationsState(rx.State):
    # Shown grouped (likes or boosts of one post in a row, follows in a row); `_raw` holds the
    # notifications as read, for paging.
    items: Field[list[NotificationView]] = field(default_factory=list)
    has_more: Field[bool] = field(False)
    kind_filter: Field[str] = field("all")
    _raw: list[NotificationView] = []
    _profile_id: int = 0
    _watch_gen: int = 0

    def _set_raw(self, raw: list[NotificationView]) -> None:
        self._raw = raw
        self.items = notification_groups.group(raw)

    async def _newest(self, max_id: int | None = None) -> list[NotificationView]:
        return await runtime.social().notifications(
            await current_principal(self),
            max_id=max_id,
            kinds=notification_groups.kinds_for(self.kind_filter),
        )

    @event
    async def set_kind_filter(self, key: str) -> None:
        self.kind_filter = key if notification_groups.kinds_for(key) or key == "all" else "all"
        newest = await self._newest() if self._profile_id else []
        self._set_raw(newest)
        self.has_more = len(newest) == PAGE

    @event
    async def on_load(self) -> Any:
        principal = await current_principal(self)
        self._profile_id = await runtime.social().viewer_id(principal)
        self._set_raw(await self._newest() if self._profile_id else [])
        self.has_more = len(self._raw) == PAGE
        return NotificationsState.watch if self._profile_id else None

    @event
    async def load_more(self) -> None:
        if not self._raw:
            return
        more = await self._newest(max_id=self._raw[-1].id)
        known = {n.id for n in self._raw}
        self._set_raw([*self._raw, *(n for n in more if n.id not in known)])
        self.has_more = len(more) == PAGE

    @event
    async def mark_all_read(self) -> Any:
        try:
            await runtime.social().mark_read(await current_principal(self))
        except UserError as exc:
            return error_toast(exc)
        self._set_raw([dataclasses.replace(n, unread=False) for n in self._raw])
        return None

    async def _refresh(self) -> None:
        """The newest page again, in front of the older ones already loaded (new notifications
        appear at the top; read marks made elsewhere show)."""
        newest = await self._newest()
        if not newest:
            self._set_raw([])
            return
        oldest_fresh = newest[-1].id
        self._set_raw([*newest, *(n for n in self._raw if n.id < oldest_fresh)])

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


def filter_chip(key: str, label: str) -> rx.Component:
    selected = NotificationsState.kind_filter == key
    return rx.button(
        label,
        size="1",
        radius="full",
        variant=rx.cond(selected, "solid", "soft"),
        on_click=NotificationsState.set_kind_filter(key),
        aria_pressed=rx.cond(selected, "true", "false"),
        data_testid=f"notif-filter-{key}",
    )


def filter_chips() -> rx.Component:
    return rx.hstack(
        *(filter_chip(key, label) for key, label, _kinds in notification_groups.FILTERS),
        spacing="2",
        wrap="wrap",
        role="group",
        aria_label="Show",
        data_testid="notif-filters",
    )


def notification_row(n: Any) -> rx.Component:
    nid = n.id.to_string()
    return rx.hstack(
        unread_dot(n),
        rx.link(n.actor_name, href=routes.profile(n.actor_handle), weight="medium"),
        bot_badge(n.is_bot, "", "notification-bot-badge-" + nid),
        rx.cond(
            n.others > 0,
            rx.text(
                "and ",
                n.others,
                rx.cond(n.others == 1, " other", " others"),
                data_testid="notif-others-" + nid,
            ),
        ),
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
        filter_chips(),
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
