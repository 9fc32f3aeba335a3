"""Form fields that say what is wrong: a label tied to the input, the error next to it
(announced to screen readers), and stable test ids."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import reflex as rx


def field_error(error: rx.Var[str], testid: str) -> rx.Component:
    return rx.cond(
        error != "",
        rx.text(
            error,
            id=f"{testid}-error",
            color_scheme="red",
            size="2",
            role="alert",
            data_testid=f"{testid}-error",
        ),
    )


def text_field(
    label: str,
    *,
    name: str,
    testid: str,
    error: rx.Var[str] | None = None,
    hint: str = "",
    **input_props: Any,
) -> rx.Component:
    """A labelled input. The input's id is its test id, so `get_by_label` and
    `get_by_test_id` both find it."""
    children: list[rx.Component] = [
        rx.el.label(label, html_for=testid, style={"fontWeight": "500", "fontSize": "var(--font-size-2)"}),
        rx.input(
            id=testid,
            name=name,
            data_testid=testid,
            width="100%",
            aria_invalid=rx.cond(error != "", "true", "false") if error is not None else "false",
            aria_describedby=f"{testid}-error" if error is not None else None,
            **input_props,
        ),
    ]
    if hint:
        children.append(rx.text(hint, size="1", color_scheme="gray"))
    if error is not None:
        children.append(field_error(error, testid))
    return rx.vstack(*children, spacing="1", width="100%", align="stretch")


def text_area_field(
    label: str,
    *,
    name: str,
    testid: str,
    error: rx.Var[str] | None = None,
    hint: str = "",
    **props: Any,
) -> rx.Component:
    children: list[rx.Component] = [
        rx.el.label(label, html_for=testid, style={"fontWeight": "500", "fontSize": "var(--font-size-2)"}),
        rx.text_area(id=testid, name=name, data_testid=testid, width="100%", **props),
    ]
    if hint:
        children.append(rx.text(hint, size="1", color_scheme="gray"))
    if error is not None:
        children.append(field_error(error, testid))
    return rx.vstack(*children, spacing="1", width="100%", align="stretch")


def native_select(
    label: str,
    options: list[tuple[str, str]] | rx.Var,
    *,
    testid: str,
    name: str = "",
    value: rx.Var | str | None = None,
    on_change: Any = None,
    show_label: bool = True,
    **props: Any,
) -> rx.Component:
    """A native <select>: keyboard- and screen-reader-friendly, and Playwright's
    `select_option` drives it directly. `options` is [(value, label)], or a Var holding a list
    of {"value", "label"} dicts."""
    if isinstance(options, list):
        option_nodes = [rx.el.option(text, value=val) for val, text in options]
    else:
        option_nodes = [rx.foreach(options, lambda o: rx.el.option(o["label"], value=o["value"]))]
    select = rx.el.select(
        *option_nodes,
        id=testid,
        name=name or testid,
        data_testid=testid,
        aria_label=label,
        value=value,
        on_change=on_change,
        style={
            "padding": "0.35em 0.5em",
            "borderRadius": "var(--radius-2)",
            "border": "1px solid var(--gray-a7)",
            "background": "var(--color-surface)",
            "color": "var(--gray-12)",
            "fontSize": "var(--font-size-2)",
        },
        **props,
    )
    if not show_label:
        return select
    return rx.vstack(
        rx.el.label(label, html_for=testid, style={"fontWeight": "500", "fontSize": "var(--font-size-2)"}),
        select,
        spacing="1",
        align="stretch",
    )


def form_error_banner(error: rx.Var[str], testid: str) -> rx.Component:
    return rx.cond(
        error != "",
        rx.callout(
            error, icon="triangle_alert", color_scheme="red", role="alert", data_testid=testid, width="100%"
        ),
    )


def data_table(
    headers: Sequence[str], items: rx.Var, row: Callable[[Any], rx.Component], testid: str
) -> rx.Component:
    """A full-width table: one header row, then `row(item)` for each of `items`."""
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
        rx.table.body(rx.foreach(items, row)),
        width="100%",
        data_testid=testid,
    )
