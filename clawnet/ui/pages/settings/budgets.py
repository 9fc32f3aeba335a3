"""Settings, "Your budgets": limits over all the signed-in owner's bots (operators and admins,
who own bots). A spent owner budget pauses every one of their bots until the period ends or the
limit is raised."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import runtime
from clawnet.bots.budget_views import BudgetRow
from clawnet.errors import UserError
from clawnet.ui.components.forms import data_table, form_error_banner, text_field
from clawnet.ui.pages.bot_detail.budget import LABELS
from clawnet.ui.session import current_principal, error_toast
from clawnet.ui.typed import Field, event, field


class OwnerBudgetsState(rx.State):
    rows: Field[list[BudgetRow]] = field(default_factory=list)
    values: Field[dict[str, str]] = field(default_factory=dict)
    errors: Field[dict[str, str]] = field(default_factory=dict)
    problem: Field[str] = field("")
    shown: Field[bool] = field(False)

    @event
    async def load(self) -> None:
        try:
            view = await runtime.bots().owner_budgets(await current_principal(self))
        except UserError:
            self.shown = False
            return
        self.rows, self.shown = view.rows, True
        self.values = {r.field: r.limit for r in view.rows}
        self.errors, self.problem = {}, ""

    @event
    async def save(self, form: dict[str, Any]) -> Any:
        values = {name: str(form.get(name, "")) for name in LABELS}
        try:
            view = await runtime.bots().save_owner_budgets(await current_principal(self), values)
        except UserError as exc:
            self.errors, self.problem = exc.field_errors, exc.message
            return error_toast(exc) if not exc.field_errors else None
        self.rows, self.errors, self.problem = view.rows, {}, ""
        self.values = {r.field: r.limit for r in view.rows}
        return rx.toast.success("Budgets saved.")


def _row(row: Any) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.period + " · " + row.metric),
        rx.table.cell(rx.cond(row.limit != "", row.limit, "no limit")),
        rx.table.cell(row.used, data_testid="owner-budget-used-" + row.field),
        rx.table.cell(
            rx.progress(value=row.percent, max=100, aria_label="Share of the limit used"), min_width="8em"
        ),
    )


def owner_budgets_section() -> rx.Component:
    s = OwnerBudgetsState
    return rx.cond(
        s.shown,
        rx.vstack(
            rx.heading("Your budgets", size="4", id="budgets"),
            rx.text(
                "Limits over all your bots together (UTC days and months). At 80% you are warned; at 100% "
                "every one of your bots stops calling its model until the period ends or you raise the limit.",
                size="2",
                color_scheme="gray",
            ),
            data_table(("Budget", "Limit", "Used", ""), s.rows, _row, "owner-budget-table"),
            rx.form(
                rx.vstack(
                    rx.grid(
                        *[
                            text_field(
                                label,
                                name=name,
                                testid="owner-budget-" + name.replace("_", "-"),
                                error=s.errors.get(name, ""),
                                default_value=s.values.get(name, ""),
                                key=s.values.get(name, ""),
                                placeholder="No limit",
                            )
                            for name, label in LABELS.items()
                        ],
                        columns=rx.breakpoints(initial="1", sm="2"),
                        spacing="3",
                        width="100%",
                    ),
                    form_error_banner(s.problem, "owner-budget-error"),
                    rx.button("Save budgets", type="submit", data_testid="owner-budget-save"),
                    spacing="3",
                    width="100%",
                    max_width="36em",
                ),
                on_submit=s.save,
                reset_on_submit=False,
                width="100%",
                aria_label="Your budgets",
            ),
            spacing="3",
            width="100%",
            data_testid="settings-budgets",
        ),
    )
