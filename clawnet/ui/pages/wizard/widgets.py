"""Small pieces every step uses: a labelled control with its hint and its error, a select of
one of the form's plain fields, and an error shown by its key."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet.ui.components.forms import field_error, native_select
from clawnet.ui.pages.wizard.spec import Options
from clawnet.ui.pages.wizard.state import WizardState

LABEL_STYLE = {"fontWeight": "500", "fontSize": "var(--font-size-2)"}


def error_of(key: str, testid: str) -> rx.Component:
    """The service's message for error `key`, as `<testid>-error`."""
    return field_error(WizardState.errors.get(key, ""), testid)


def labelled(
    label: str, control: rx.Component, testid: str, hint: str = "", error_key: str = ""
) -> rx.Component:
    """`control` (whose id is `testid`) under its label, then its hint and its error."""
    children: list[rx.Component] = [rx.el.label(label, html_for=testid, style=LABEL_STYLE), control]
    if hint:
        children.append(rx.text(hint, size="1", color_scheme="gray"))
    if error_key:
        children.append(error_of(error_key, testid))
    return rx.vstack(*children, spacing="1", width="100%", align="stretch")


def field_select(label: str, form_field: str, options: Options, testid: str) -> rx.Component:
    """A select of a plain field of the form, with its error (keyed like the field)."""
    return rx.vstack(
        native_select(
            label,
            options,
            testid=testid,
            value=getattr(WizardState.form, form_field),
            on_change=lambda v: WizardState.set_field(form_field, v),
        ),
        error_of(form_field, testid),
        spacing="1",
        width="100%",
    )


def number_field(label: str, form_field: str, testid: str) -> rx.Component:
    """A number typed into a plain field of the form (saved when the focus leaves it)."""
    return labelled(
        label,
        rx.input(
            id=testid,
            type="number",
            default_value=getattr(WizardState.form, form_field),
            on_blur=lambda v: WizardState.set_field(form_field, v),
            data_testid=testid,
            width="8em",
        ),
        testid,
        "",
        form_field,
    )


def review_row(label: str, value: Any, testid: str) -> rx.Component:
    return rx.table.row(rx.table.row_header_cell(label), rx.table.cell(rx.text(value, data_testid=testid)))
