"""The Budget tab: the bot's daily and monthly limits in cost and tokens, usage against them
(ClawNet's records and the gateway's figure, the larger counts), the owner's budgets over it,
its pause state and the reply channel users get while it is paused."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import runtime
from clawnet.bots.budget_views import BudgetRow
from clawnet.errors import UserError
from clawnet.events import FleetEvent, Kind
from clawnet.security.permissions import Principal
from clawnet.ui.components.forms import data_table, form_error_banner, text_area_field, text_field
from clawnet.ui.pages.bot_detail.state import BotDetailState, part
from clawnet.ui.session import current_principal, error_toast
from clawnet.ui.typed import Field, event, field

RELOAD_ON = frozenset({Kind.BUDGET, Kind.FLEET_CHANGED, Kind.SESSION_MESSAGE})
LABELS = {
    "day_cost": "Daily cost limit (USD)",
    "month_cost": "Monthly cost limit (USD)",
    "day_tokens": "Daily token limit",
    "month_tokens": "Monthly token limit",
}


@part("budget")
class BotBudgetState(BotDetailState):
    budget_rows: Field[list[BudgetRow]] = field(default_factory=list)
    owner_budget_rows: Field[list[BudgetRow]] = field(default_factory=list)
    budget_paused: Field[str] = field("")
    budget_can_edit: Field[bool] = field(False)
    budget_values: Field[dict[str, str]] = field(default_factory=dict)
    budget_errors: Field[dict[str, str]] = field(default_factory=dict)
    budget_problem: Field[str] = field("")

    async def _load_part(self, actor: Principal | None) -> None:
        view = await runtime.bots().bot_budgets(actor, self.current_bot)
        self.budget_rows, self.owner_budget_rows = view.rows, view.owner_rows
        self.budget_paused, self.budget_can_edit = view.paused, view.can_edit
        self.budget_values = {**{r.field: r.limit for r in view.rows}, "reply": view.reply}

    async def _follow_part(self, batch: list[FleetEvent], actor: Principal | None) -> None:
        if any(e.kind in RELOAD_ON for e in batch):
            await self._load_part(actor)

    @event
    async def save_budget(self, form: dict[str, Any]) -> Any:
        actor = await current_principal(self)
        values = {name: str(form.get(name, ""))[:1200] for name in (*LABELS, "reply")}
        try:
            view = await runtime.bots().save_bot_budgets(actor, self.current_bot, values)
        except UserError as exc:
            self.budget_errors, self.budget_problem = exc.field_errors, exc.message
            return error_toast(exc) if not exc.field_errors else None
        self.budget_errors, self.budget_problem = {}, ""
        self.budget_rows, self.owner_budget_rows, self.budget_paused = view.rows, view.owner_rows, view.paused
        self.budget_values = {**{r.field: r.limit for r in view.rows}, "reply": view.reply}
        return rx.toast.success("Budgets saved.")


def usage_row(row: Any) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.period + " · " + row.metric),
        rx.table.cell(rx.cond(row.limit != "", row.limit, "no limit")),
        rx.table.cell(row.used, data_testid="budget-used-" + row.field),
        rx.table.cell(row.recorded),
        rx.table.cell(row.gateway),
        rx.table.cell(
            rx.progress(value=row.percent, max=100, aria_label="Share of the limit used"),
            min_width="8em",
        ),
    )


def owner_row(row: Any) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.period + " · " + row.metric),
        rx.table.cell(row.limit),
        rx.table.cell(row.used),
        rx.table.cell(row.percent.to_string() + "%"),
    )


def budget_form() -> rx.Component:
    s = BotBudgetState
    fields = [
        text_field(
            label,
            name=name,
            testid="budget-" + name.replace("_", "-"),
            error=s.budget_errors.get(name, ""),
            default_value=s.budget_values.get(name, ""),
            key=s.budget_values.get(name, ""),
            placeholder="No limit",
            disabled=~s.budget_can_edit,
        )
        for name, label in LABELS.items()
    ]
    return rx.form(
        rx.vstack(
            rx.grid(*fields, columns=rx.breakpoints(initial="1", sm="2"), spacing="3", width="100%"),
            text_area_field(
                "Reply while paused",
                name="reply",
                testid="budget-reply",
                error=s.budget_errors.get("reply", ""),
                default_value=s.budget_values.get("reply", ""),
                key=s.budget_values.get("reply", ""),
                disabled=~s.budget_can_edit,
            ),
            form_error_banner(s.budget_problem, "budget-form-error"),
            rx.cond(
                s.budget_can_edit,
                rx.button("Save budgets", type="submit", data_testid="budget-save"),
                rx.text("You can see this bot's budgets but not change them.", size="2", color_scheme="gray"),
            ),
            spacing="3",
            width="100%",
            align="stretch",
        ),
        on_submit=s.save_budget,
        reset_on_submit=False,
        width="100%",
        aria_label="Budgets",
    )


def budget_tab() -> rx.Component:
    s = BotBudgetState
    return rx.vstack(
        rx.cond(
            s.budget_paused != "",
            rx.callout(
                s.budget_paused, color_scheme="orange", icon="pause", data_testid="budget-paused-banner"
            ),
        ),
        rx.text(
            "Usage in UTC calendar days and months. ClawNet's records and the gateway's own count are "
            "shown; the larger counts. At 80% the owner is warned; at 100% the bot stops calling its model "
            "and answers with the reply below until the period ends or the limit is raised.",
            size="2",
            color_scheme="gray",
        ),
        data_table(
            ("Budget", "Limit", "Used", "ClawNet", "Gateway", ""),
            s.budget_rows,
            usage_row,
            "budget-usage-table",
        ),
        rx.cond(
            s.owner_budget_rows.length() > 0,
            rx.vstack(
                rx.heading("The owner's budgets (all their bots)", size="3"),
                data_table(
                    ("Budget", "Limit", "Used", "Share"), s.owner_budget_rows, owner_row, "budget-owner-table"
                ),
                width="100%",
            ),
        ),
        budget_form(),
        spacing="3",
        width="100%",
        align="stretch",
    )
