"""The Schedules tab (`schedules_state` holds its data and handlers): the bot's jobs with their
next and last runs and state, the add/edit form with the next-run preview, and a job's history."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet.ui.components.forms import (
    data_table,
    form_error_banner,
    native_select,
    text_area_field,
    text_field,
)
from clawnet.ui.pages.bot_detail.schedules_state import BotSchedulesState

SESSIONS = [
    ("isolated", "A fresh session each run"),
    ("main", "The bot's main session"),
    ("named", "A named session"),
]
KINDS = [("every", "Every (interval)"), ("cron", "Cron expression")]


# --- components ------------------------------------------------------------------------------


def _err(key: str) -> Any:
    return BotSchedulesState.f_errors.get(key, "")


def schedule_form() -> rx.Component:
    s = BotSchedulesState
    return rx.card(
        rx.vstack(
            rx.heading(rx.cond(s.editing == 0, "Add a schedule", "Edit the schedule"), size="3"),
            form_error_banner(s.f_problem, "schedule-form-error"),
            text_field(
                "Name",
                name="name",
                testid="schedule-name",
                value=s.f_name,
                on_change=s.set_f_name,
                error=_err("name"),
            ),
            native_select("Runs", KINDS, testid="schedule-kind", value=s.f_kind, on_change=s.set_f_kind),
            rx.cond(
                s.f_kind == "every",
                text_field(
                    "Every",
                    name="every",
                    testid="schedule-every",
                    value=s.f_every,
                    on_change=s.set_f_every,
                    error=_err("every"),
                    hint="An interval: 90s, 15m, 2h, 1d.",
                ),
                rx.vstack(
                    text_field(
                        "Cron expression",
                        name="cron",
                        testid="schedule-cron",
                        value=s.f_cron,
                        on_change=s.set_f_cron,
                        error=_err("cron_expr"),
                        hint="minute hour day month weekday, e.g. 0 9 * * 1-5",
                    ),
                    text_field(
                        "Time zone",
                        name="tz",
                        testid="schedule-tz",
                        value=s.f_tz,
                        on_change=s.set_f_tz,
                        error=_err("timezone"),
                        hint="IANA name such as Europe/Paris; empty: the gateway's (UTC).",
                    ),
                    width="100%",
                ),
            ),
            rx.box(
                rx.text("Next runs", weight="medium", size="2"),
                rx.cond(
                    s.preview_problem != "",
                    rx.text(
                        s.preview_problem,
                        color_scheme="orange",
                        size="2",
                        data_testid="schedule-preview-problem",
                    ),
                    rx.el.ul(rx.foreach(s.preview_runs, lambda r: rx.el.li(rx.text(r, size="2")))),
                ),
                data_testid="schedule-preview",
                aria_live="polite",
                width="100%",
            ),
            text_area_field(
                "Message or task",
                name="message",
                testid="schedule-message",
                value=s.f_message,
                on_change=s.set_f_message,
                error=_err("message"),
                hint="What the bot is told each time the schedule fires.",
            ),
            native_select(
                "Session", SESSIONS, testid="schedule-session", value=s.f_session, on_change=s.set_f_session
            ),
            rx.cond(
                s.f_session == "named",
                text_field(
                    "Session name",
                    name="session_name",
                    testid="schedule-session-name",
                    value=s.f_session_name,
                    on_change=s.set_f_session_name,
                    error=_err("session_name"),
                ),
            ),
            rx.hstack(
                rx.button("Save schedule", on_click=s.save_schedule, data_testid="schedule-save"),
                rx.button(
                    "Cancel",
                    variant="soft",
                    color_scheme="gray",
                    on_click=s.close_form,
                    data_testid="schedule-cancel",
                ),
                spacing="2",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        data_testid="schedule-form",
    )


def _actions(r: Any) -> rx.Component:
    s = BotSchedulesState
    managed = rx.hstack(
        rx.cond(
            s.can_run_schedules,
            rx.button(
                "Run now",
                size="1",
                on_click=s.run_now(r.id),
                data_testid="schedule-run-now-" + r.ref,
                aria_label="Run " + r.name + " now",
            ),
        ),
        rx.cond(
            s.can_change_schedules,
            rx.hstack(
                rx.button(
                    rx.cond(r.enabled, "Pause", "Resume"),
                    size="1",
                    variant="soft",
                    on_click=s.pause(r.id, r.enabled),
                    data_testid="schedule-pause-" + r.ref,
                    aria_label=rx.cond(r.enabled, "Pause ", "Resume ") + r.name,
                ),
                rx.button(
                    "Edit",
                    size="1",
                    variant="soft",
                    on_click=s.edit_schedule(r.id),
                    data_testid="schedule-edit-" + r.ref,
                    aria_label="Edit " + r.name,
                ),
                rx.button(
                    "Delete",
                    size="1",
                    variant="soft",
                    color_scheme="red",
                    on_click=s.delete(r.id),
                    data_testid="schedule-delete-" + r.ref,
                    aria_label="Delete " + r.name,
                ),
                spacing="1",
            ),
        ),
        spacing="1",
        wrap="wrap",
    )
    history = rx.cond(
        r.job_id != "",
        rx.button(
            "History",
            size="1",
            variant="ghost",
            on_click=s.show_history(r.job_id, r.name),
            data_testid="schedule-history-" + r.ref,
            aria_label="Run history of " + r.name,
        ),
    )
    return rx.hstack(rx.cond(r.managed, managed), history, spacing="1", wrap="wrap")


def _state(r: Any) -> rx.Component:
    s = BotSchedulesState
    return rx.vstack(
        rx.text(
            rx.cond(r.managed, r.state, "OpenClaw's own"), size="2", data_testid="schedule-state-" + r.ref
        ),
        rx.cond(
            r.drift & s.can_change_schedules,
            rx.hstack(
                rx.button(
                    "Re-apply ClawNet's",
                    size="1",
                    on_click=s.resolve(r.id, "clawnet"),
                    data_testid="schedule-reapply-" + r.ref,
                ),
                rx.button(
                    "Keep the gateway's",
                    size="1",
                    variant="soft",
                    on_click=s.resolve(r.id, "gateway"),
                    data_testid="schedule-keep-gateway-" + r.ref,
                ),
                spacing="1",
            ),
        ),
        spacing="1",
    )


def schedule_row(r: Any) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.text(r.name, weight="medium", data_testid="schedule-name-" + r.ref),
                rx.text(r.message, size="1", color_scheme="gray", style={"whiteSpace": "pre-wrap"}),
                spacing="0",
            )
        ),
        rx.table.cell(rx.text(r.when, size="2"), rx.text(r.session, size="1", color_scheme="gray")),
        rx.table.cell(rx.text(r.next_run, size="2", data_testid="schedule-next-" + r.ref)),
        rx.table.cell(rx.text(r.last_run, size="2", data_testid="schedule-last-" + r.ref)),
        rx.table.cell(_state(r)),
        rx.table.cell(_actions(r)),
        data_testid="schedule-row-" + r.ref,
    )


def run_row(r: Any) -> rx.Component:
    return rx.table.row(
        rx.table.cell(r.at),
        rx.table.cell(rx.badge(r.outcome, color_scheme=rx.cond(r.outcome == "ok", "green", "red"))),
        rx.table.cell(r.completion),
        rx.table.cell(r.duration),
        rx.table.cell(rx.text(r.detail, size="1")),
        data_testid="schedule-run",
    )


def history_section() -> rx.Component:
    s = BotSchedulesState
    return rx.cond(
        s.history_job != "",
        rx.vstack(
            rx.hstack(
                rx.heading("Run history: " + s.history_name, size="3"),
                rx.button(
                    "Close",
                    size="1",
                    variant="ghost",
                    on_click=s.hide_history,
                    data_testid="schedule-history-close",
                ),
                align="center",
            ),
            rx.cond(
                s.runs.length() == 0,
                rx.text(
                    "No finished run yet.", size="2", color_scheme="gray", data_testid="schedule-runs-empty"
                ),
                data_table(
                    ("When", "Outcome", "Completion", "Duration", "Detail"), s.runs, run_row, "schedule-runs"
                ),
            ),
            width="100%",
            spacing="2",
        ),
    )


def schedules_tab() -> rx.Component:
    s = BotSchedulesState
    return rx.vstack(
        rx.hstack(
            rx.heading("Schedules", size="4"),
            rx.cond(
                s.can_change_schedules & ~s.form_open,
                rx.button("Add schedule", size="2", on_click=s.new_schedule, data_testid="schedule-add"),
            ),
            justify="between",
            width="100%",
        ),
        rx.cond(
            s.schedules_note != "",
            rx.text(s.schedules_note, size="2", color_scheme="gray", data_testid="schedules-note"),
        ),
        rx.cond(s.form_open, schedule_form()),
        rx.cond(
            s.schedules.length() == 0,
            rx.text("No scheduled jobs yet.", size="2", color_scheme="gray", data_testid="schedules-empty"),
            data_table(
                ("Name", "When", "Next run", "Last run", "State", ""),
                s.schedules,
                schedule_row,
                "schedules-table",
            ),
        ),
        history_section(),
        spacing="3",
        width="100%",
        data_testid="bot-schedules",
    )
