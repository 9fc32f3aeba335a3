"""The Schedules tab's state: the bot's cron jobs (ClawNet's and OpenClaw's own), the add/edit
form with a live preview of its next runs, run now, pause/resume, delete, drift resolution and
a job's run history. Reloads live when the gateway's scheduler reports a run."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import runtime
from clawnet.bots.schedule_views import RunRow, ScheduleInput, ScheduleRow
from clawnet.errors import UserError
from clawnet.events import FleetEvent, Kind
from clawnet.security.permissions import Principal
from clawnet.ui.pages.bot_detail.state import BotDetailState, part
from clawnet.ui.session import current_principal, error_toast
from clawnet.ui.typed import Field, event, field

RELOAD_ON = frozenset({Kind.SCHEDULES, Kind.FLEET_CHANGED, Kind.BOT_STATUS, Kind.CONFIG_APPLIED})


@part("schedules")
class BotSchedulesState(BotDetailState):
    schedules: Field[list[ScheduleRow]] = field(default_factory=list)
    schedules_note: Field[str] = field("")
    can_change_schedules: Field[bool] = field(False)
    can_run_schedules: Field[bool] = field(False)
    # The form (add: editing 0; edit: the schedule's id)
    form_open: Field[bool] = field(False)
    editing: Field[int] = field(0)
    f_name: Field[str] = field("")
    f_kind: Field[str] = field("every")
    f_every: Field[str] = field("1h")
    f_cron: Field[str] = field("0 9 * * 1-5")
    f_tz: Field[str] = field("")
    f_message: Field[str] = field("")
    f_session: Field[str] = field("isolated")
    f_session_name: Field[str] = field("")
    f_enabled: Field[bool] = field(True)
    f_errors: Field[dict[str, str]] = field(default_factory=dict)
    f_problem: Field[str] = field("")
    preview_runs: Field[list[str]] = field(default_factory=list)
    preview_problem: Field[str] = field("")
    # The run history shown (a gateway job id)
    history_job: Field[str] = field("")
    history_name: Field[str] = field("")
    runs: Field[list[RunRow]] = field(default_factory=list)

    async def _load_part(self, actor: Principal | None) -> None:
        view = await runtime.bots().schedules(actor, self.current_bot)
        self.schedules, self.schedules_note = view.rows, view.note
        self.can_change_schedules, self.can_run_schedules = view.can_change, view.can_run
        if self.history_job:
            try:
                self.runs = await runtime.bots().schedule_runs(actor, self.current_bot, self.history_job)
            except UserError:
                self.runs = []

    async def _follow_part(self, batch: list[FleetEvent], actor: Principal | None) -> None:
        if any(e.kind in RELOAD_ON for e in batch):
            await self._load_part(actor)

    # --- the form ------------------------------------------------------------------------

    def _input(self) -> ScheduleInput:
        session = self.f_session
        if session == "named":
            session = "session:" + self.f_session_name.strip()
        return ScheduleInput(
            self.f_name,
            self.f_kind,
            self.f_cron,
            self.f_tz,
            self.f_every,
            self.f_message,
            session,
            self.f_enabled,
        )

    def _preview(self) -> None:
        self.preview_runs, self.preview_problem = runtime.bots().schedule_preview(self._input())

    @event
    async def new_schedule(self) -> None:
        self.form_open, self.editing, self.f_errors, self.f_problem = True, 0, {}, ""
        self.f_name, self.f_kind, self.f_every, self.f_cron, self.f_tz = "", "every", "1h", "0 9 * * 1-5", ""
        self.f_message, self.f_session, self.f_session_name, self.f_enabled = "", "isolated", "", True
        self._preview()

    @event
    async def edit_schedule(self, schedule_id: int) -> None:
        row = next((r for r in self.schedules if r.id == int(schedule_id) and r.managed), None)
        if row is None:
            return
        self.form_open, self.editing, self.f_errors, self.f_problem = True, row.id, {}, ""
        self.f_name, self.f_kind, self.f_tz, self.f_message = row.name, row.kind, row.timezone, row.message
        self.f_every = row.every or "1h"
        self.f_cron = row.cron_expr or "0 9 * * 1-5"
        named = row.session_target.startswith("session:")
        self.f_session = "named" if named else row.session_target
        self.f_session_name = row.session_target.removeprefix("session:") if named else ""
        self.f_enabled = row.enabled
        self._preview()

    @event
    async def close_form(self) -> None:
        self.form_open = False

    @event
    async def set_f_name(self, value: str) -> None:
        self.f_name = str(value)

    @event
    async def set_f_message(self, value: str) -> None:
        self.f_message = str(value)

    @event
    async def set_f_kind(self, value: str) -> None:
        self.f_kind = str(value)
        self._preview()

    @event
    async def set_f_every(self, value: str) -> None:
        self.f_every = str(value)
        self._preview()

    @event
    async def set_f_cron(self, value: str) -> None:
        self.f_cron = str(value)
        self._preview()

    @event
    async def set_f_tz(self, value: str) -> None:
        self.f_tz = str(value)
        self._preview()

    @event
    async def set_f_session(self, value: str) -> None:
        self.f_session = str(value)

    @event
    async def set_f_session_name(self, value: str) -> None:
        self.f_session_name = str(value)

    @event(background=True)
    async def save_schedule(self) -> Any:
        async with self:
            actor = await current_principal(self)
            bot_id, editing, data = self.current_bot, self.editing, self._input()
        try:
            message = await runtime.bots().save_schedule(actor, bot_id, data, editing)
        except UserError as exc:
            async with self:
                errors = dict(exc.field_errors)
                if "session" in errors and self.f_session == "named":
                    errors["session_name"] = errors.pop("session")
                self.f_errors, self.f_problem = errors, "" if errors else str(exc)
            return None if exc.field_errors else error_toast(exc)
        async with self:
            self.form_open, self.f_errors, self.f_problem = False, {}, ""
            await self._reload()
        return rx.toast.success(message)

    async def _reload(self) -> None:
        try:
            await self._load_part(await current_principal(self))
        except UserError:
            pass

    # --- row actions ---------------------------------------------------------------------

    async def _act(self, what: str, schedule_id: int, arg: Any = None) -> Any:
        async with self:
            actor = await current_principal(self)
        bots = runtime.bots()
        try:
            sid = int(schedule_id)
            if what == "run":
                message = await bots.run_schedule_now(actor, sid)
            elif what == "pause":
                message = await bots.pause_schedule(actor, sid, bool(arg))
            elif what == "delete":
                message = await bots.delete_schedule(actor, sid)
            else:
                message = await bots.resolve_schedule_drift(actor, sid, str(arg))
            toast = rx.toast.success(message)
        except UserError as exc:
            toast = error_toast(exc)
        except (TypeError, ValueError):
            toast = rx.toast.error("No such schedule.")
        async with self:
            await self._reload()
        return toast

    @event(background=True)
    async def run_now(self, schedule_id: int) -> Any:
        return await self._act("run", schedule_id)

    @event(background=True)
    async def pause(self, schedule_id: int, paused: bool) -> Any:
        return await self._act("pause", schedule_id, paused)

    @event(background=True)
    async def delete(self, schedule_id: int) -> Any:
        return await self._act("delete", schedule_id)

    @event(background=True)
    async def resolve(self, schedule_id: int, keep: str) -> Any:
        return await self._act("resolve", schedule_id, keep)

    @event(background=True)
    async def show_history(self, job_id: str, name: str) -> Any:
        async with self:
            actor = await current_principal(self)
            bot_id = self.current_bot
        try:
            runs = await runtime.bots().schedule_runs(actor, bot_id, str(job_id))
        except UserError as exc:
            return error_toast(exc)
        async with self:
            self.history_job, self.history_name, self.runs = str(job_id), str(name)[:120], runs
        return None

    @event
    async def hide_history(self) -> None:
        self.history_job, self.runs = "", []
