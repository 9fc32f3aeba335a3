"""A bot's card on the dashboard: live status, channels, sessions, quick actions."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet.components.status import status_badge, status_light


def channel_chips(channel_list: rx.Var[str]) -> rx.Component:
    """`telegram|connected,discord|error` -> one small badge per channel."""
    return rx.hstack(
        rx.foreach(
            channel_list.split(","),
            lambda item: rx.cond(
                item != "",
                rx.badge(
                    item.split("|")[0],
                    variant="outline",
                    size="1",
                    color_scheme=rx.cond(
                        item.split("|")[1] == "connected",
                        "green",
                        rx.cond(item.split("|")[1] == "error", "red", "gray"),
                    ),
                    title=item.split("|")[0] + ": " + item.split("|")[1],
                ),
            ),
        ),
        spacing="1",
        wrap="wrap",
    )


def bot_card_body(
    card: rx.Var[dict[str, str]],
    status: rx.Var[str],
    desired: rx.Var[str],
    error: rx.Var[str],
    channels: rx.Var[str],
    sessions: rx.Var[str],
    activity: rx.Var[str],
    state: Any,
) -> rx.Component:
    """The card itself; every changing value arrives as a prop, so the memoized card re-renders
    only when one of its own props changes (not on every dashboard state change)."""
    bot_id = card["id"]
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text(card["emoji"], size="5"),
                rx.link(
                    card["name"],
                    href="/bots/" + bot_id,
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
            channel_chips(channels),
            rx.text(
                sessions + " active sessions · last activity " + activity,
                size="1",
                color_scheme="gray",
                data_testid="bot-card-activity-" + bot_id,
            ),
            rx.text("Gateway: " + card["gateway"], size="1", color_scheme="gray"),
            rx.hstack(
                rx.cond(
                    card["can_operate"] == "yes",
                    rx.hstack(
                        rx.cond(
                            desired == "running",
                            rx.button(
                                "Stop",
                                size="1",
                                variant="soft",
                                color_scheme="gray",
                                on_click=state.stop_bot(bot_id),
                                aria_label="Stop " + card["name"],
                                data_testid="bot-stop-" + bot_id,
                            ),
                            rx.button(
                                "Start",
                                size="1",
                                variant="soft",
                                color_scheme="green",
                                on_click=state.start_bot(bot_id),
                                aria_label="Start " + card["name"],
                                data_testid="bot-start-" + bot_id,
                            ),
                        ),
                        rx.button(
                            "Restart",
                            size="1",
                            variant="soft",
                            on_click=state.restart_bot(bot_id),
                            aria_label="Restart " + card["name"],
                            data_testid="bot-restart-" + bot_id,
                        ),
                        spacing="2",
                    ),
                ),
                rx.cond(
                    card["can_configure"] == "yes",
                    rx.link(
                        rx.button("Configure", size="1", variant="ghost"),
                        href="/bots/" + bot_id + "?tab=configuration",
                        aria_label="Configure " + card["name"],
                        data_testid="bot-configure-" + bot_id,
                    ),
                ),
                rx.link(
                    rx.button("Logs", size="1", variant="ghost"),
                    href="/bots/" + bot_id + "?tab=logs",
                    aria_label="Logs of " + card["name"],
                    data_testid="bot-logs-" + bot_id,
                ),
                spacing="2",
                wrap="wrap",
            ),
            spacing="2",
            align="stretch",
        ),
        data_testid="bot-card-" + bot_id,
        data_status=status,
        data_search=card["search"],
        data_bot_card="",
        role="article",
        aria_label=card["name"],
    )
