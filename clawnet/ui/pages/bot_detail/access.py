"""The Channels tab's access section: this bot's pending DM access requests (live) with Approve
and Dismiss, and the senders allowed on each of its channels with Revoke."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import runtime
from clawnet.bots.access_views import AccessRequestView, ApprovedSenderView
from clawnet.errors import UserError
from clawnet.events import FleetEvent, Kind
from clawnet.security.permissions import Principal
from clawnet.ui.components.access import (
    message_note,
    notify_switch,
    request_headers,
    request_row,
    sender_row,
)
from clawnet.ui.components.forms import data_table
from clawnet.ui.pages.bot_detail.state import BotDetailState, part
from clawnet.ui.session import current_principal, error_toast
from clawnet.ui.typed import Field, event, field

RELOAD_ON = frozenset({Kind.ACCESS_REQUESTS, Kind.ACCESS_SENDERS, Kind.FLEET_CHANGED})


@part("channels")
class BotAccessState(BotDetailState):
    access_requests: Field[list[AccessRequestView]] = field(default_factory=list)
    approved: Field[list[ApprovedSenderView]] = field(default_factory=list)
    access_notify: Field[bool] = field(True)

    async def _load_part(self, actor: Principal | None) -> None:
        bots = runtime.bots()
        self.access_requests = await bots.access_requests(actor, bot_id=self.current_bot)
        self.approved = await bots.approved_senders(actor, self.current_bot)

    async def _follow_part(self, batch: list[FleetEvent], actor: Principal | None) -> None:
        if any(e.kind in RELOAD_ON for e in batch):
            await self._load_part(actor)

    @event
    async def set_access_notify(self, value: bool) -> None:
        self.access_notify = bool(value)

    async def _act(self, what: str, *args: Any) -> Any:
        async with self:
            actor = await current_principal(self)
            bot_id, notify = self.current_bot, self.access_notify
        bots = runtime.bots()
        try:
            if what == "approve":
                message = await bots.approve_access(actor, int(args[0]), notify=notify)
            elif what == "dismiss":
                message = await bots.dismiss_access(actor, int(args[0]))
            else:
                message = await bots.revoke_sender(actor, bot_id, str(args[0]), str(args[1]))
            toast = rx.toast.success(message)
        except UserError as exc:
            toast = error_toast(exc)
        except (TypeError, ValueError):
            toast = rx.toast.error("No such request.")
        async with self:
            try:
                await self._load_part(await current_principal(self))
            except UserError:
                pass
        return toast

    @event(background=True)
    async def approve(self, request_id: int) -> Any:
        return await self._act("approve", request_id)

    @event(background=True)
    async def dismiss(self, request_id: int) -> Any:
        return await self._act("dismiss", request_id)

    @event(background=True)
    async def revoke(self, channel: str, sender_id: str) -> Any:
        return await self._act("revoke", channel, sender_id)


def access_section() -> rx.Component:
    s = BotAccessState
    can_configure = BotDetailState.header.can_configure
    return rx.vstack(
        rx.heading("Access requests", size="4"),
        rx.cond(
            s.access_requests.length() == 0,
            rx.text(
                "No one is waiting. Strangers who write to a channel whose DMs need approval "
                "(DM policy \u201cpairing\u201d) appear here at once.",
                size="2",
                color_scheme="gray",
                data_testid="bot-access-empty",
            ),
            rx.vstack(
                rx.cond(
                    can_configure, notify_switch(s.access_notify, s.set_access_notify, "bot-access-notify")
                ),
                data_table(
                    request_headers(False),
                    s.access_requests,
                    lambda r: request_row(r, s.approve, s.dismiss, show_bot=False),
                    "bot-access-requests",
                ),
                spacing="2",
                width="100%",
            ),
        ),
        message_note(),
        rx.heading("Allowed senders", size="4"),
        rx.cond(
            s.approved.length() == 0,
            rx.text(
                "No one is on this bot's allowlists yet.",
                size="2",
                color_scheme="gray",
                data_testid="bot-approved-empty",
            ),
            data_table(
                ("Channel", "Sender", "How", ""),
                s.approved,
                lambda a: sender_row(a, s.revoke),
                "bot-approved-senders",
            ),
        ),
        spacing="3",
        width="100%",
        data_testid="bot-access",
    )
