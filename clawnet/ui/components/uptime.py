"""An SLO-style uptime bar: 30 small day segments (oldest first) coloured by that day's uptime,
each with the day and its figure as tooltip and accessible name, then the 30-day figure."""

from __future__ import annotations

from typing import Any

import reflex as rx


def _segment(day: Any) -> rx.Component:
    return rx.box(
        flex="1",
        min_width="2px",
        height="100%",
        border_radius="1px",
        background="var(--" + day.colour + "-9)",
        opacity=rx.cond(day.colour == "gray", "0.35", "1"),
        title=day.label,
        aria_label=day.label,
        role="img",
        data_uptime_day=day.day,
        data_uptime_colour=day.colour,
    )


def uptime_bar(uptime: Any, scope: Any) -> rx.Component:
    """`uptime` a Var of a BotUptime; `scope` names the bar in test ids ("bot", "card-<id>")."""
    return rx.vstack(
        rx.hstack(
            rx.text("Uptime, 30 days", size="1", color_scheme="gray"),
            rx.spacer(),
            rx.text(
                uptime.text,
                size="1",
                weight="medium",
                color_scheme=uptime.colour,
                data_testid="uptime-total-" + scope,
            ),
            width="100%",
            align="center",
        ),
        rx.flex(
            rx.foreach(uptime.days, _segment),
            gap="2px",
            height="1.2em",
            width="100%",
            role="group",
            aria_label="Uptime per day over the last 30 days: " + uptime.text + " overall",
            data_testid="uptime-bar-" + scope,
        ),
        spacing="1",
        width="100%",
    )
