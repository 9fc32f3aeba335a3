"""Small pieces more than one tab of the bot page uses: a figure, a bar chart, a message bubble."""

from __future__ import annotations

from typing import Any

import reflex as rx


def stat(label: str, value: Any, testid: str) -> rx.Component:
    """A labelled figure in a card."""
    return rx.card(
        rx.vstack(
            rx.text(label, size="1", color_scheme="gray"),
            rx.text(value, size="4", weight="bold", data_testid=testid),
            spacing="0",
        )
    )


def rows(data: Any) -> Any:
    """A Var of a list of view models as the list of plain objects a chart plots."""
    return data.to(list[dict[str, Any]])


def bar_chart(data: Any, key: str, label: str, color: str, testid: str) -> rx.Component:
    """Per-day bars of `key` from a Var of a list of DayFigures."""
    return rx.vstack(
        rx.text(label, weight="medium", size="2"),
        rx.recharts.bar_chart(
            rx.recharts.bar(data_key=key, fill=f"var(--{color}-9)", name=label),
            rx.recharts.x_axis(data_key="day"),
            rx.recharts.y_axis(),
            rx.recharts.graphing_tooltip(),
            data=rows(data),
            width="100%",
            height=180,
        ),
        width="100%",
        data_testid=testid,
        role="img",
        aria_label=label + " per day",
    )


def bubble(
    who: Any, text: Any, *, mine: Any, testid: str, text_testid: Any = None, **props: Any
) -> rx.Component:
    """One message of a conversation: the person's on the right, the bot's on the left."""
    return rx.box(
        rx.text(who, size="1", color_scheme="gray"),
        rx.text(text, white_space="pre-wrap", data_testid=text_testid),
        background=rx.cond(mine, "var(--iris-a3)", "var(--gray-a3)"),
        padding="0.6em",
        border_radius="var(--radius-3)",
        align_self=rx.cond(mine, "flex-end", "flex-start"),
        max_width="85%",
        data_testid=testid,
        **props,
    )
