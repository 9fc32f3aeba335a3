"""Step 4, advanced: who shares a conversation and when it starts afresh, which tools the bot
has (with warnings about the risky ones), and where it runs."""

from __future__ import annotations

import reflex as rx

from clawnet.ui.components.forms import native_select
from clawnet.ui.pages.wizard.spec import (
    DM_SCOPES,
    EXTRA_TOOLS,
    LAUNCH_STEP,
    RESET_MODES,
    SESSION_SCOPES,
    TOOL_PROFILES,
)
from clawnet.ui.pages.wizard.state import WizardState
from clawnet.ui.pages.wizard.widgets import error_of, field_select, number_field
from clawnet.ui.typed import event


class WizardAdvanced(WizardState):
    @event
    def toggle_tool(self, tool: str, checked: bool) -> None:
        """Allow one of the extra tools (EXTRA_TOOLS), or stop allowing it."""
        if tool not in EXTRA_TOOLS or self.step >= LAUNCH_STEP:
            return
        kept = [t for t in self._current().tools_allow if t != tool]
        self._update(tools_allow=[*kept, tool] if checked else kept)
        self._refresh_warnings()

    @event
    def set_exec_approval(self, checked: bool) -> None:
        """Make the exec tool ask a person (the approvals inbox) before running a command."""
        if self.step >= LAUNCH_STEP:
            return
        self._update(exec_approval=bool(checked))


def tool_choice(tool: str) -> rx.Component:
    return rx.el.label(
        rx.hstack(
            rx.checkbox(
                checked=WizardState.form.tools_allow.contains(tool),
                on_change=lambda v: WizardAdvanced.toggle_tool(tool, v),
                data_testid=f"wizard-tool-{tool}",
            ),
            rx.text(tool, size="2"),
            spacing="1",
        )
    )


def step_advanced() -> rx.Component:
    return rx.vstack(
        rx.heading("Conversations", size="3"),
        field_select("Who shares a conversation", "session_scope", SESSION_SCOPES, "wizard-session-scope"),
        field_select("Direct messages", "dm_scope", DM_SCOPES, "wizard-dm-scope"),
        field_select("Start a fresh conversation", "reset_mode", RESET_MODES, "wizard-reset-mode"),
        rx.cond(
            WizardState.form.reset_mode == "idle",
            number_field("Idle minutes", "reset_idle_minutes", "wizard-reset-idle"),
        ),
        rx.cond(
            WizardState.form.reset_mode == "daily",
            number_field("Hour (0-23)", "reset_at_hour", "wizard-reset-hour"),
        ),
        rx.heading("Tools", size="3"),
        field_select("Tool profile", "tools_profile", TOOL_PROFILES, "wizard-tools-profile"),
        rx.el.fieldset(
            rx.el.legend("Extra tools", style={"fontWeight": "500", "fontSize": "var(--font-size-2)"}),
            rx.hstack(*[tool_choice(t) for t in EXTRA_TOOLS], spacing="4", wrap="wrap"),
            style={"border": "none", "padding": "0", "margin": "0"},
        ),
        error_of("tools_allow", "wizard-tools"),
        rx.el.label(
            rx.hstack(
                rx.checkbox(
                    checked=WizardState.form.exec_approval,
                    on_change=WizardAdvanced.set_exec_approval,
                    data_testid="wizard-exec-approval",
                ),
                rx.text("Ask me in the inbox before it runs a command", size="2"),
                spacing="1",
            )
        ),
        rx.foreach(
            WizardState.warnings,
            lambda w: rx.callout(
                w, icon="triangle_alert", color_scheme="amber", size="1", data_testid="wizard-warning"
            ),
        ),
        rx.heading("Where it runs", size="3"),
        rx.vstack(
            native_select(
                "Gateway",
                WizardState.placements,
                testid="wizard-placement",
                value=WizardState.form.placement,
                on_change=lambda v: WizardState.set_field("placement", v),
            ),
            error_of("placement", "wizard-placement"),
            spacing="1",
            width="100%",
        ),
        spacing="3",
        width="100%",
        align="start",
    )
