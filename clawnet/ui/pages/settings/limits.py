"""Settings, "Rate limits" (admins only): how many chat messages, bot starts/stops/restarts,
imports, session changes and API calls one person (or API token) may make in a window. The
services enforce them; every field says what is wrong with it."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import runtime
from clawnet.bots.limits import LimitRow
from clawnet.errors import UserError
from clawnet.security.rate_limit import DEFAULT_LIMITS, LABELS, LimitAction
from clawnet.ui.components.forms import form_error_banner, text_field
from clawnet.ui.session import current_principal, error_toast
from clawnet.ui.typed import Field, event, field

FIELDS = [f"{a.value}_{part}" for a in LimitAction for part in ("count", "window")]


def _values(rows: list[LimitRow]) -> dict[str, str]:
    out: dict[str, str] = {}
    for row in rows:
        out[f"{row.action}_count"], out[f"{row.action}_window"] = str(row.count), str(row.window_s)
    return out


class LimitsState(rx.State):
    values: Field[dict[str, str]] = field(default_factory=dict)
    errors: Field[dict[str, str]] = field(default_factory=dict)
    problem: Field[str] = field("")
    shown: Field[bool] = field(False)

    @event
    async def load(self) -> None:
        try:
            rows = await runtime.bots().rate_limits(await current_principal(self))
        except UserError:
            self.shown = False
            return
        self.values, self.errors, self.problem, self.shown = _values(rows), {}, "", True

    @event
    async def save(self, form: dict[str, Any]) -> Any:
        values = {name: str(form.get(name, "")) for name in FIELDS}
        try:
            rows = await runtime.bots().save_rate_limits(await current_principal(self), values)
        except UserError as exc:
            self.errors, self.problem = exc.field_errors, exc.message
            return error_toast(exc) if not exc.field_errors else None
        self.values, self.errors, self.problem = _values(rows), {}, ""
        return rx.toast.success("Rate limits saved.")


def _limit_fields(action: LimitAction) -> rx.Component:
    s, a = LimitsState, action.value
    default = DEFAULT_LIMITS[action]
    return rx.grid(
        text_field(
            f"{LABELS[action]}: at most",
            name=f"{a}_count",
            testid=f"limits-{a}-count",
            error=s.errors.get(f"{a}_count", ""),
            default_value=s.values.get(f"{a}_count", ""),
            key=s.values.get(f"{a}_count", ""),
            hint=f"Default {default.count:,}",
            input_mode="numeric",
        ),
        text_field(
            "per (seconds)",
            name=f"{a}_window",
            testid=f"limits-{a}-window",
            error=s.errors.get(f"{a}_window", ""),
            default_value=s.values.get(f"{a}_window", ""),
            key=s.values.get(f"{a}_window", ""),
            hint=f"Default {default.window_s:,}",
            input_mode="numeric",
            aria_label=f"{LABELS[action]}: window in seconds",
        ),
        columns="2",
        spacing="3",
        width="100%",
    )


def limits_section() -> rx.Component:
    s = LimitsState
    return rx.cond(
        s.shown,
        rx.vstack(
            rx.heading("Rate limits", size="4", id="rate-limits"),
            rx.text(
                "How often one person (or one API token) may do something costly. Past the limit ClawNet "
                "refuses and says how long to wait; the API answers 429 with Retry-After. Changes apply "
                "on every worker within 10 seconds.",
                size="2",
                color_scheme="gray",
            ),
            rx.form(
                rx.vstack(
                    *[_limit_fields(a) for a in LimitAction],
                    form_error_banner(s.problem, "limits-error"),
                    rx.button("Save rate limits", type="submit", data_testid="limits-save"),
                    spacing="3",
                    width="100%",
                    max_width="40em",
                ),
                on_submit=s.save,
                reset_on_submit=False,
                width="100%",
                aria_label="Rate limits",
            ),
            spacing="3",
            width="100%",
            data_testid="settings-limits",
        ),
    )
