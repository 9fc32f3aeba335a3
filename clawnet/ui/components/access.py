"""Pieces of the access pages: a pending request with its Approve and Dismiss buttons, an
approved sender with Revoke, and the sentence saying why the triggering message is not shown.
Used by the inbox (`/access`) and by a bot's Channels tab, each with its own handlers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx

from clawnet import routes
from clawnet.bots.access_views import MESSAGE_NOT_KEPT


def message_note() -> rx.Component:
    return rx.text(MESSAGE_NOT_KEPT, size="1", color_scheme="gray", data_testid="access-message-note")


def notify_switch(checked: Any, on_change: Any, testid: str) -> rx.Component:
    return rx.el.label(
        rx.hstack(
            rx.checkbox(checked=checked, on_change=on_change, data_testid=testid),
            rx.text("Tell the sender when I approve (where the channel can)", size="2"),
            spacing="2",
            align="center",
        ),
    )


def request_row(
    r: Any,
    approve: Callable[[Any], Any],
    dismiss: Callable[[Any], Any],
    *,
    show_bot: bool,
) -> rx.Component:
    rid = r.id.to_string()
    who = rx.vstack(
        rx.text(
            rx.cond(r.sender_name != "", r.sender_name, "(no name given)"),
            weight="medium",
            data_testid="access-sender-name-" + rid,
        ),
        rx.text("id " + r.sender_id, size="1", data_testid="access-sender-id-" + rid),
        rx.cond(r.details != "", rx.text(r.details, size="1", color_scheme="gray")),
        spacing="0",
    )
    actions = rx.cond(
        r.can_decide,
        rx.hstack(
            rx.button(
                "Approve",
                size="1",
                on_click=approve(r.id),
                data_testid="access-approve-" + rid,
                aria_label="Approve " + r.sender_id + " on " + r.channel,
            ),
            rx.button(
                "Dismiss",
                size="1",
                variant="soft",
                color_scheme="gray",
                on_click=dismiss(r.id),
                data_testid="access-dismiss-" + rid,
                aria_label="Dismiss " + r.sender_id + " on " + r.channel,
            ),
            spacing="2",
        ),
        rx.text("view only", size="1", color_scheme="gray", data_testid="access-view-only-" + rid),
    )
    cells = [
        rx.table.cell(rx.link(r.bot_name, href=routes.bot_detail(r.bot_id, "channels")))
        if show_bot
        else None,
        rx.table.cell(rx.badge(r.channel, variant="soft")),
        rx.table.cell(who),
        rx.table.cell(rx.text(r.requested, size="2", title=r.requested_at)),
        rx.table.cell(rx.text(r.expires, size="2", title=r.expires_at)),
        rx.table.cell(actions),
    ]
    return rx.table.row(
        *[c for c in cells if c is not None],
        data_testid="access-request-" + rid,
        data_channel=r.channel,
        data_sender=r.sender_id,
    )


def request_headers(show_bot: bool) -> tuple[str, ...]:
    return (*(("Bot",) if show_bot else ()), "Channel", "Sender", "Asked", "Expires", "")


def sender_row(s: Any, revoke: Callable[[Any, Any], Any]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.badge(s.channel, variant="soft")),
        rx.table.cell(
            rx.vstack(
                rx.text(rx.cond(s.sender_name != "", s.sender_name, s.sender_id), weight="medium"),
                rx.cond(s.sender_name != "", rx.text("id " + s.sender_id, size="1")),
                spacing="0",
            )
        ),
        rx.table.cell(rx.text(s.how, size="1")),
        rx.table.cell(
            rx.cond(
                s.can_revoke,
                rx.button(
                    "Revoke",
                    size="1",
                    variant="soft",
                    color_scheme="red",
                    on_click=revoke(s.channel, s.sender_id),
                    data_testid="access-revoke-" + s.key,
                    aria_label="Revoke " + s.sender_id + " on " + s.channel,
                ),
            )
        ),
        data_testid="access-approved-" + s.key,
    )
