"""The Channels tab: each channel's live status and access rules, reconnecting one, the Discord
invite link and WhatsApp pairing."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import reflex as rx

from clawnet import runtime
from clawnet.bots.views import ChannelRow
from clawnet.errors import UserError
from clawnet.events import FleetEvent, Kind
from clawnet.security.permissions import Principal
from clawnet.ui.components.forms import data_table
from clawnet.ui.components.status import status_badge, status_light
from clawnet.ui.components.whatsapp_pairing import pairing_panel
from clawnet.ui.pages.bot_detail.access import access_section
from clawnet.ui.pages.bot_detail.state import BotDetailState, part
from clawnet.ui.session import current_principal, error_toast
from clawnet.ui.typed import Field, event, field


@part("channels")
class BotChannelsState(BotDetailState):
    channels: Field[list[ChannelRow]] = field(default_factory=list)

    @rx.var
    def invite_url(self) -> str:
        return next((c.invite_url for c in self.channels if c.invite_url), "")

    @rx.var
    def has_whatsapp(self) -> bool:
        return any(c.type == "whatsapp" for c in self.channels)

    async def _load_part(self, actor: Principal | None) -> None:
        self.channels = await runtime.bots().channels(actor, self.current_bot)

    async def _follow_part(self, batch: list[FleetEvent], actor: Principal | None) -> None:
        if any(e.kind == Kind.FLEET_CHANGED for e in batch):
            self.channels = await runtime.bots().channels(actor, self.current_bot)
            return
        latest = {e.payload["channel"]: e.payload for e in batch if e.kind == Kind.CHANNEL_STATUS}
        if latest:
            self.channels = [
                replace(c, status=latest[c.type]["status"], error=latest[c.type].get("error") or "")
                if c.type in latest
                else c
                for c in self.channels
            ]

    @event(background=True)
    async def reconnect(self, channel: str) -> Any:
        async with self:
            actor = await current_principal(self)
            bot_id = self.current_bot
        try:
            message = await runtime.bots().reconnect_channel(actor, bot_id, str(channel))
        except UserError as exc:
            return error_toast(exc)
        return rx.toast.info(message)


def channel_row(ch: Any) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.hstack(status_light(ch.status), rx.text(ch.type, weight="medium"), spacing="2", align="center")
        ),
        rx.table.cell(status_badge(ch.status, "channel-status-" + ch.type)),
        rx.table.cell(
            rx.vstack(
                rx.text(
                    "DMs: " + ch.dm_policy + " · groups: " + ch.group_policy + " · " + ch.mention, size="1"
                ),
                rx.text("Allowed: " + ch.allow_from, size="1", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(rx.text(ch.last_seen, size="1")),
        rx.table.cell(rx.text(ch.error, size="1", color_scheme="red")),
        rx.table.cell(
            rx.cond(
                BotDetailState.header.can_operate,
                rx.button(
                    "Reconnect",
                    size="1",
                    variant="soft",
                    on_click=BotChannelsState.reconnect(ch.type),
                    data_testid="channel-reconnect-" + ch.type,
                    aria_label="Reconnect " + ch.type,
                ),
            )
        ),
        data_testid="channel-row-" + ch.type,
    )


def channels_tab() -> rx.Component:
    s = BotChannelsState
    return rx.vstack(
        rx.cond(
            s.channels.length() == 0,
            rx.text(
                "No channels. Add one under Configuration.", color_scheme="gray", data_testid="channels-empty"
            ),
            data_table(
                ("Channel", "Status", "Access", "Last seen", "Error", ""),
                s.channels,
                channel_row,
                "channels-table",
            ),
        ),
        rx.cond(
            s.invite_url != "",
            rx.callout(
                rx.hstack(
                    rx.text("Add the Discord bot to a server:"),
                    rx.link("invite link", href=s.invite_url, is_external=True, data_testid="discord-invite"),
                ),
                icon="link",
            ),
        ),
        rx.cond(
            s.has_whatsapp,
            pairing_panel(BotDetailState.current_bot, BotDetailState.header.can_configure),
        ),
        access_section(),
        spacing="4",
        width="100%",
    )
