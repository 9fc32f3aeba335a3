"""Settings, "Backups" (admins): the backup schedule (every N hours, how many to keep, the folder,
an optional passphrase), "Run backup now", the last result and the recent runs. The control plane
runs the backups; this page follows its `backup` events. The passphrase typed here goes to the
service and is never kept in a var the browser receives (the page only knows whether one is set).
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import routes, runtime
from clawnet.bots.backups import BackupRunRow, BackupSettingsInput, BackupsView
from clawnet.errors import UserError
from clawnet.events import FleetEvent, Kind
from clawnet.ui import live
from clawnet.ui.components.forms import data_table, form_error_banner, text_field
from clawnet.ui.session import current_principal, error_toast
from clawnet.ui.typed import Field, event, field

NO_RUN = BackupRunRow(0, "", "", "", "", "", "", "", "", False)


class BackupsState(rx.State):
    shown: Field[bool] = field(False)
    enabled: Field[bool] = field(False)
    interval_hours: Field[str] = field("24")
    keep: Field[str] = field("7")
    folder: Field[str] = field("")
    default_folder: Field[str] = field("")
    has_passphrase: Field[bool] = field(False)
    next_due: Field[str] = field("")
    requested: Field[bool] = field(False)
    running: Field[bool] = field(False)
    has_last: Field[bool] = field(False)
    last: Field[BackupRunRow] = field(NO_RUN)
    runs: Field[list[BackupRunRow]] = field(default_factory=list)
    errors: Field[dict[str, str]] = field(default_factory=dict)
    problem: Field[str] = field("")
    form_gen: Field[int] = field(0)  # a new form after a save: the passphrase box empties
    _watch_gen: int = 0

    def _show(self, v: BackupsView) -> None:
        self.shown = True
        self.enabled, self.interval_hours, self.keep = v.enabled, str(v.interval_hours), str(v.keep)
        self.folder, self.default_folder, self.has_passphrase = v.folder, v.default_folder, v.has_passphrase
        self.next_due, self.requested, self.running = v.next_due, v.requested, v.running
        self.has_last, self.last = v.last is not None, v.last or NO_RUN
        self.runs = v.runs

    @event
    async def load(self) -> Any:
        self.errors, self.problem = {}, ""
        try:
            view = await runtime.bots().backups(await current_principal(self))
        except UserError:
            self.shown = False
            return None
        self._show(view)
        return BackupsState.watch

    @event(background=True)
    async def watch(self) -> None:
        """Follow the control plane's backup events while the page is open."""
        async with self:
            if not self.shown:
                return
            self._watch_gen += 1

        async def apply(_batch: list[FleetEvent]) -> None:
            try:
                self._show(await runtime.bots().backups(await current_principal(self)))
            except UserError:
                self.shown = False

        await live.follow(
            self,
            kinds=[Kind.BACKUP],
            where=lambda e: e.payload.get("state") in ("started", "finished"),
            apply=apply,
            generation=lambda: self._watch_gen,
            on_page=lambda path: path == routes.SETTINGS,
        )

    @event
    async def save(self, form: dict[str, Any]) -> Any:
        data = BackupSettingsInput(
            enabled=form.get("enabled") == "on",
            interval_hours=str(form.get("interval_hours") or ""),
            keep=str(form.get("keep") or ""),
            folder=str(form.get("folder") or ""),
            passphrase=str(form.get("passphrase") or ""),
            clear_passphrase=form.get("clear_passphrase") == "on",
        )
        try:
            view = await runtime.bots().save_backup_settings(await current_principal(self), data)
        except UserError as exc:
            self.errors, self.problem = exc.field_errors, exc.message
            return None if exc.field_errors else error_toast(exc)
        self.errors, self.problem = {}, ""
        self._show(view)
        self.form_gen += 1
        return rx.toast.success("Backup schedule saved.")

    @event
    async def run_now(self) -> Any:
        try:
            view = await runtime.bots().run_backup_now(await current_principal(self))
        except UserError as exc:
            return error_toast(exc)
        self._show(view)
        return rx.toast.info("Backup asked for; the result shows here when it is done.")


def _state_badge(state: Any, testid: Any) -> rx.Component:
    return rx.badge(
        rx.match(state, ("ok", "OK"), ("failed", "Failed"), ("running", "Running"), state),
        color_scheme=rx.match(state, ("ok", "green"), ("failed", "red"), "gray"),
        data_testid=testid,
    )


def _run_row(r: Any) -> rx.Component:
    return rx.table.row(
        rx.table.cell(r.started),
        rx.table.cell(r.trigger),
        rx.table.cell(_state_badge(r.state, "backups-run-state")),
        rx.table.cell(r.size),
        rx.table.cell(r.seconds),
        rx.table.cell(rx.cond(r.error != "", r.error, r.path), word_break="break-all"),
        data_testid="backups-run-row",
    )


def _last() -> rx.Component:
    s = BackupsState
    last = s.last
    return rx.cond(
        s.has_last,
        rx.callout(
            rx.vstack(
                rx.hstack(
                    rx.text("Last backup:", weight="bold"),
                    _state_badge(last.state, "backups-last-state"),
                    rx.text(last.started + " (" + last.ago + ")"),
                    spacing="2",
                    wrap="wrap",
                ),
                rx.cond(
                    last.state == "ok",
                    rx.text(
                        last.size + " in " + last.seconds + rx.cond(last.encrypted, ", encrypted", "") + ": ",
                        rx.code(last.path, data_testid="backups-last-path"),
                        size="2",
                    ),
                ),
                rx.cond(last.error != "", rx.text(last.error, size="2", data_testid="backups-last-error")),
                spacing="1",
            ),
            color_scheme=rx.cond(last.state == "ok", "green", "red"),
            icon=rx.cond(last.state == "ok", "circle_check", "triangle_alert"),
            data_testid="backups-last",
            width="100%",
        ),
        rx.text("No backup has run yet.", size="2", color_scheme="gray", data_testid="backups-last"),
    )


def _checkbox(label: str, name: str, testid: str, checked: Any) -> rx.Component:
    return rx.el.label(
        rx.hstack(
            rx.checkbox(name=name, default_checked=checked, data_testid=testid, aria_label=label),
            rx.text(label, size="2"),
            spacing="2",
        )
    )


def _form() -> rx.Component:
    s = BackupsState

    def err(name: str) -> Any:
        return s.errors.get(name, "")

    return rx.form(
        rx.vstack(
            _checkbox("Back up on a schedule", "enabled", "backups-enabled", s.enabled),
            rx.grid(
                text_field(
                    "Every (hours)",
                    name="interval_hours",
                    testid="backups-interval",
                    error=err("interval_hours"),
                    default_value=s.interval_hours,
                    input_mode="numeric",
                ),
                text_field(
                    "Backups to keep",
                    name="keep",
                    testid="backups-keep",
                    error=err("keep"),
                    default_value=s.keep,
                    input_mode="numeric",
                ),
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="3",
                width="100%",
            ),
            text_field(
                "Folder",
                name="folder",
                testid="backups-folder",
                error=err("folder"),
                default_value=s.folder,
                placeholder=s.default_folder,
                hint="Keep it outside the data folder, ideally on another disk.",
            ),
            rx.text("Left empty, archives go to ", rx.code(s.default_folder), size="1", color_scheme="gray"),
            text_field(
                "Passphrase (optional: encrypts the archives)",
                name="passphrase",
                testid="backups-passphrase",
                error=err("passphrase"),
                type="password",
                auto_complete="new-password",
                placeholder=rx.cond(s.has_passphrase, "Set: leave empty to keep it", "Not set"),
                hint="Without it a backup cannot be restored: keep it somewhere safe.",
            ),
            rx.cond(
                s.has_passphrase,
                _checkbox("Remove the passphrase", "clear_passphrase", "backups-passphrase-clear", False),
            ),
            form_error_banner(s.problem, "backups-error"),
            rx.button("Save schedule", type="submit", data_testid="backups-save"),
            spacing="3",
            width="100%",
            max_width="36em",
        ),
        key=s.form_gen.to_string(),
        on_submit=s.save,
        reset_on_submit=False,
        width="100%",
        aria_label="Backup schedule",
    )


def backups_section() -> rx.Component:
    s = BackupsState
    return rx.cond(
        s.shown,
        rx.vstack(
            rx.heading("Backups", size="4", id="backups"),
            rx.text(
                "Each backup is one archive of the database, the key file and every bot's data; the oldest "
                "ones beyond the number to keep are removed. A failed backup raises an alert for admins.",
                size="2",
                color_scheme="gray",
            ),
            _last(),
            rx.hstack(
                rx.button(
                    rx.cond(s.running | s.requested, "Backup running…", "Run backup now"),
                    on_click=s.run_now,
                    disabled=s.running | s.requested,
                    variant="soft",
                    aria_label="Run backup now",
                    data_testid="backups-run-now",
                ),
                rx.cond(
                    s.next_due != "",
                    rx.text("Next scheduled backup: ", s.next_due, size="2", data_testid="backups-next-due"),
                    rx.text(
                        "No schedule: backups run only when asked.", size="2", data_testid="backups-next-due"
                    ),
                ),
                spacing="3",
                align="center",
                wrap="wrap",
            ),
            _form(),
            rx.cond(
                s.runs.length() > 0,
                data_table(
                    ("Started", "Trigger", "Result", "Size", "Took", "Where / why"),
                    s.runs,
                    _run_row,
                    "backups-runs",
                ),
            ),
            spacing="3",
            width="100%",
            data_testid="settings-backups",
        ),
    )
