"""An SLO-style uptime bar: 30 small day segments (oldest first) coloured by that day's uptime,
each with the day and its figure as tooltip and accessible name, then the 30-day figure."""

from __future__ import annotations

from typing import Any

import reflex as rx


def _segment(label: Any, code: Any) -> rx.Component:
    colour = rx.match(code, ("g", "green"), ("a", "amber"), ("r", "red"), "gray")
    background = rx.match(
        code, ("g", "var(--green-9)"), ("a", "var(--amber-9)"), ("r", "var(--red-9)"), "var(--gray-8)"
    )
    return rx.box(
        flex="1",
        min_width="2px",
        height="100%",
        border_radius="1px",
        background=background,
        opacity=rx.cond(code == "n", "0.35", "1"),
        title=label,
        aria_label=label,
        role="img",
        data_uptime_colour=colour,
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
            rx.foreach(uptime.labels, lambda label, i: _segment(label, uptime.colours[i])),
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
