"""A bot's card on the dashboard: live status, channels, sessions, quick actions."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import routes
from clawnet.ui.components.status import status_badge, status_light
from clawnet.ui.components.uptime import uptime_bar


def channel_chips(channels: Any) -> rx.Component:
    """One small badge per channel (a Var of a list of ChannelBadge)."""
    return rx.hstack(
        rx.foreach(
            channels,
            lambda c: rx.badge(
                c.type,
                variant="outline",
                size="1",
                color_scheme=rx.cond(
                    c.status == "connected", "green", rx.cond(c.status == "error", "red", "gray")
                ),
                title=c.type + ": " + c.status,
            ),
        ),
        spacing="1",
        wrap="wrap",
    )


def bot_card_body(
    card: Any,
    status: Any,
    desired: Any,
    error: Any,
    channels: Any,
    sessions: Any,
    activity: Any,
    state: Any,
) -> rx.Component:
    """The card itself (`card` a Var of a BotCard); every changing value arrives as a prop, so
    the memoized card re-renders only when one of its own props changes (not on every dashboard
    state change)."""
    bot_id = card.id.to_string()
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text(card.emoji, size="5"),
                rx.link(
                    card.name,
                    href=routes.bot_detail(card.id),
                    weight="bold",
                    size="4",
                    data_testid="bot-card-link-" + bot_id,
                ),
                rx.spacer(),
                status_light(status, "bot-card-light-" + bot_id),
                status_badge(status, "bot-card-status-" + bot_id),
                width="100%",
                align="center",
            ),
            rx.cond(
                error != "",
                rx.text(error, size="1", color_scheme="red", data_testid="bot-card-error-" + bot_id),
            ),
            rx.cond(
                card.paused != "",
                rx.badge(card.paused, color_scheme="orange", data_testid="budget-card-paused-" + bot_id),
            ),
            rx.cond(
                card.budget != "",
                rx.text(
                    "Budget: " + card.budget,
                    size="1",
                    color_scheme="gray",
                    data_testid="budget-card-usage-" + bot_id,
                ),
            ),
            channel_chips(channels),
            rx.text(
                sessions.to_string() + " active sessions · last activity " + activity,
                size="1",
                color_scheme="gray",
                data_testid="bot-card-activity-" + bot_id,
            ),
            rx.text("Gateway: " + card.gateway, size="1", color_scheme="gray"),
            uptime_bar(card.uptime, "card-" + bot_id),
            rx.hstack(
                rx.cond(
                    card.can_operate,
                    rx.hstack(
                        rx.cond(
                            desired == "running",
                            rx.button(
                                "Stop",
                                size="1",
                                variant="soft",
                                color_scheme="gray",
                                on_click=state.stop_bot(card.id),
                                aria_label="Stop " + card.name,
                                data_testid="bot-stop-" + bot_id,
                            ),
                            rx.button(
                                "Start",
                                size="1",
                                variant="soft",
                                color_scheme="green",
                                on_click=state.start_bot(card.id),
                                aria_label="Start " + card.name,
                                data_testid="bot-start-" + bot_id,
                            ),
                        ),
                        rx.button(
                            "Restart",
                            size="1",
                            variant="soft",
                            on_click=state.restart_bot(card.id),
                            aria_label="Restart " + card.name,
                            data_testid="bot-restart-" + bot_id,
                        ),
                        spacing="2",
                    ),
                ),
                rx.cond(
                    card.can_configure,
                    rx.link(
                        rx.button("Configure", size="1", variant="ghost"),
                        href=routes.bot_detail(card.id, "configuration"),
                        aria_label="Configure " + card.name,
                        data_testid="bot-configure-" + bot_id,
                    ),
                ),
                rx.link(
                    rx.button("Logs", size="1", variant="ghost"),
                    href=routes.bot_detail(card.id, "logs"),
                    aria_label="Logs of " + card.name,
                    data_testid="bot-logs-" + bot_id,
                ),
                spacing="2",
                wrap="wrap",
            ),
            spacing="2",
            align="stretch",
        ),
        data_testid="bot-card-" + bot_id,
        data_bot_id=bot_id,
        data_status=status,
        role="article",
        aria_label=card.name,
    )
