"""Schedules: a bot's cron jobs. ClawNet's database holds the desired schedules; each change is
written to the bot's gateway at once when it runs (and by `controlplane.schedules` whenever the
gateway starts, is adopted or moves). The tab also lists OpenClaw's own jobs of the bot (memory
dreaming, skill reviews...), read-only, with their run history.

Whoever may see a bot sees its schedules; changing them needs `Action.CONFIGURE_BOT`, running
one now `Action.OPERATE_BOT`. Every change is audited.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from clawnet import audit
from clawnet.bots.base import BotsBase
from clawnet.bots.schedule_rules import preview, validate
from clawnet.bots.schedule_views import (
    Applied,
    RunRow,
    ScheduleRow,
    SchedulesView,
    foreign_row,
    run_row,
    schedule_row,
)
from clawnet.controlplane.cron_jobs import ScheduleInput, ScheduleSpec, job_params, spec_from_job
from clawnet.controlplane.gateway_api import GatewayApi
from clawnet.controlplane.gateway_cron import CronApi, CronJob
from clawnet.controlplane.protocol import GatewayError
from clawnet.controlplane.remote import ControlOpError
from clawnet.controlplane.schedules import record_applied, spec_of
from clawnet.errors import NotFound, Unavailable, UserError
from clawnet.events import Kind
from clawnet.models import Bot, Schedule, utcnow
from clawnet.security.permissions import Action, Principal, can, require
from clawnet.security.sanitize import clean_text

NOT_RUNNING = "Saved. The bot's gateway is not running: the schedule reaches it when the bot starts."


class ScheduleError(UserError):
    """The gateway refused or could not do what was asked."""


@dataclass(frozen=True)
class _Target:
    bot_id: int
    bot_name: str
    agent_id: str
    gateway_id: int | None
    running: bool


@dataclass(frozen=True)
class _Stored:
    id: int
    key: str
    spec: ScheduleSpec
    applied: Applied
    target: _Target


def _target(session: Session, bot_id: int) -> _Target:
    bot = session.get(Bot, int(bot_id))
    if bot is None or bot.id is None:
        raise NotFound("This bot does not exist.")
    return _Target(bot.id, bot.name, bot.agent_id, bot.gateway_id, bot.desired_status == "running")


def _stored(session: Session, row: Schedule) -> _Stored:
    assert row.id is not None
    applied = Applied(row.gateway_job_id, row.applied_revision, row.drift)
    return _Stored(row.id, row.key, spec_of(row), applied, _target(session, row.bot_id))


def _clean(data: ScheduleInput) -> ScheduleInput:
    return ScheduleInput(
        name=clean_text(str(data.name or "")),
        kind=str(data.kind or ""),
        cron_expr=str(data.cron_expr or ""),
        timezone=str(data.timezone or ""),
        every=str(data.every or ""),
        message=clean_text(str(data.message or "")),
        session=str(data.session or ""),
        enabled=bool(data.enabled),
    )


def _summary(spec: ScheduleSpec) -> dict[str, object]:
    return {
        "name": spec.name,
        "kind": spec.kind,
        "cron": spec.cron_expr,
        "timezone": spec.timezone,
        "every_s": spec.every_seconds,
        "session": spec.session,
        "enabled": spec.enabled,
    }


class Schedules(BotsBase):
    # --- reading ------------------------------------------------------------------------------

    def schedule_preview(self, data: ScheduleInput) -> tuple[list[str], str]:
        """The next runs of a schedule as typed, in words, or what is wrong with its timing."""
        return preview(_clean(data))

    def _cron(self, gateway_id: int | None) -> CronApi | None:
        api: GatewayApi | None = self.control.gateway(gateway_id) if gateway_id else None
        return CronApi(api) if api is not None else None

    async def _jobs(self, target: _Target) -> list[CronJob] | None:
        """The bot's jobs on its gateway, or None when it cannot be asked now."""
        cron = self._cron(target.gateway_id) if target.running else None
        if cron is None:
            return None
        try:
            return [j for j in await cron.jobs(target.agent_id) if j.agent_id == target.agent_id]
        except (GatewayError, ControlOpError, TimeoutError):
            return None

    async def schedules(self, actor: Principal | None, bot_id: int) -> SchedulesView:
        def load(session: Session) -> tuple[_Target, list[_Stored], bool, bool]:
            require(session, actor, Action.VIEW_BOT, int(bot_id))
            rows = session.exec(
                select(Schedule).where(Schedule.bot_id == int(bot_id)).order_by(col(Schedule.id))
            ).all()
            return (
                _target(session, int(bot_id)),
                [_stored(session, r) for r in rows],
                can(session, actor, Action.CONFIGURE_BOT, int(bot_id)),
                can(session, actor, Action.OPERATE_BOT, int(bot_id)),
            )

        target, stored, can_change, can_run = await self._db(load)
        jobs = await self._jobs(target)
        now = datetime.now(UTC)
        by_key = {j.managed_key: j for j in jobs or [] if j.managed_key}
        rows: list[ScheduleRow] = [
            schedule_row(s.id, s.spec, s.applied, by_key.pop(s.key, None), known=jobs is not None, now=now)
            for s in stored
        ]
        rows += [foreign_row(j, now) for j in jobs or [] if not j.managed_key]
        note = (
            ""
            if jobs is not None
            else "The bot's gateway is not running: run times and history show when it runs."
        )
        return SchedulesView(rows, jobs is not None, note, can_change, can_run)

    async def schedule_runs(self, actor: Principal | None, bot_id: int, job_id: str) -> list[RunRow]:
        """A job's latest runs (newest first): when, outcome, duration."""
        target = await self._db(
            lambda s: (require(s, actor, Action.VIEW_BOT, int(bot_id)), _target(s, bot_id))[1]
        )
        jobs = await self._jobs(target)
        if jobs is None:
            raise Unavailable("The bot's gateway is not running, so its run history cannot be read now.")
        if str(job_id) not in {j.id for j in jobs}:
            raise NotFound("This bot has no such scheduled job.")
        cron = self._cron(target.gateway_id)
        assert cron is not None
        now = datetime.now(UTC)
        return [run_row(r, now) for r in await cron.runs(str(job_id))]

    # --- changing -----------------------------------------------------------------------------

    async def _write(self, stored: _Stored) -> str:
        """Write a stored schedule to the gateway now if it runs; what to tell the person."""
        cron = self._cron(stored.target.gateway_id) if stored.target.running else None
        if cron is None:
            return NOT_RUNNING
        params = job_params(stored.spec, agent_id=stored.target.agent_id, key=stored.key)
        try:
            job = await cron.put(params)
        except GatewayError as exc:
            raise ScheduleError(f"Saved, but the gateway refused it: {exc.message}") from None
        except (ControlOpError, TimeoutError):
            return NOT_RUNNING
        await self._db(lambda s: record_applied(s, stored.id, job))
        return ""

    def _schedules_changed(self, bot_id: int) -> None:
        self.bus.publish(Kind.SCHEDULES, {"bot_id": bot_id}, bot_id=bot_id)

    async def save_schedule(
        self, actor: Principal | None, bot_id: int, data: ScheduleInput, schedule_id: int = 0
    ) -> str:
        """Add a schedule (`schedule_id` 0) or change one; raises UserError with field errors."""
        spec = validate(_clean(data))

        def store(session: Session) -> _Stored:
            who = require(session, actor, Action.CONFIGURE_BOT, int(bot_id))
            before = None
            if schedule_id:
                row = session.get(Schedule, int(schedule_id))
                if row is None or row.bot_id != int(bot_id):
                    raise NotFound("This schedule no longer exists.")
                before = _summary(spec_of(row))
            else:
                row = Schedule(bot_id=int(bot_id), key=uuid.uuid4().hex, name="", kind="", message="")
                row.created_by_id = who.user_id
            row.name, row.kind, row.cron_expr, row.timezone = (
                spec.name,
                spec.kind,
                spec.cron_expr,
                spec.timezone,
            )
            row.every_seconds, row.message, row.session = spec.every_seconds, spec.message, spec.session
            row.enabled, row.drift, row.updated_at = spec.enabled, "", utcnow()
            session.add(row)
            session.flush()
            verb = "changed" if schedule_id else "added"
            audit.record(
                session,
                who,
                f"schedule.{'update' if schedule_id else 'create'}",
                "bot",
                bot_id,
                f"{verb} schedule \u201c{spec.name}\u201d",
                before=before,
                after=_summary(spec),
            )
            return _stored(session, row)

        stored = await self._db(store)
        said = await self._write(stored)
        self._schedules_changed(int(bot_id))
        return said or f"Schedule \u201c{spec.name}\u201d {'saved' if schedule_id else 'added'}."

    async def _load(self, actor: Principal | None, schedule_id: int, action: Action) -> _Stored:
        def load(session: Session) -> _Stored:
            row = session.get(Schedule, int(schedule_id))
            if row is None:
                raise NotFound("This schedule no longer exists.")
            require(session, actor, action, row.bot_id)
            return _stored(session, row)

        return await self._db(load)

    async def pause_schedule(self, actor: Principal | None, schedule_id: int, paused: bool) -> str:
        stored = await self._load(actor, schedule_id, Action.CONFIGURE_BOT)

        def store(session: Session) -> _Stored:
            who = require(session, actor, Action.CONFIGURE_BOT, stored.target.bot_id)
            row = session.get(Schedule, stored.id)
            if row is None:
                raise NotFound("This schedule no longer exists.")
            row.enabled, row.updated_at = not paused, utcnow()
            session.add(row)
            verb = "paused" if paused else "resumed"
            audit.record(
                session, who, f"schedule.{verb}", "bot", row.bot_id, f"{verb} schedule \u201c{row.name}\u201d"
            )
            return _stored(session, row)

        updated = await self._db(store)
        said = await self._write(updated)
        self._schedules_changed(updated.target.bot_id)
        return said or f"\u201c{updated.spec.name}\u201d {'paused' if paused else 'resumed'}."

    async def delete_schedule(self, actor: Principal | None, schedule_id: int) -> str:
        stored = await self._load(actor, schedule_id, Action.CONFIGURE_BOT)
        cron = self._cron(stored.target.gateway_id) if stored.target.running else None
        if cron is not None:
            try:
                for job in await cron.jobs(stored.target.agent_id):
                    if job.managed_key == stored.key:
                        await cron.remove(job.id)
            except GatewayError as exc:
                raise ScheduleError(f"The gateway could not delete it: {exc.message}") from None
            except (ControlOpError, TimeoutError):
                pass  # the next sync removes ClawNet's jobs that have no schedule

        def remove(session: Session) -> None:
            who = require(session, actor, Action.CONFIGURE_BOT, stored.target.bot_id)
            row = session.get(Schedule, stored.id)
            if row is not None:
                session.delete(row)
            audit.record(
                session,
                who,
                "schedule.delete",
                "bot",
                stored.target.bot_id,
                f"deleted schedule \u201c{stored.spec.name}\u201d",
                before=_summary(stored.spec),
            )

        await self._db(remove)
        self._schedules_changed(stored.target.bot_id)
        return f"Schedule \u201c{stored.spec.name}\u201d deleted."

    async def run_schedule_now(self, actor: Principal | None, schedule_id: int) -> str:
        stored = await self._load(actor, schedule_id, Action.OPERATE_BOT)
        jobs = await self._jobs(stored.target)
        job = next((j for j in jobs or [] if j.managed_key == stored.key), None)
        cron = self._cron(stored.target.gateway_id)
        if jobs is None or cron is None:
            raise Unavailable("The bot's gateway is not running; start the bot to run a schedule.")
        if job is None:
            raise ScheduleError("The gateway does not hold this schedule yet; save it again first.")
        try:
            await cron.run_now(job.id)
        except GatewayError as exc:
            raise ScheduleError(f"The gateway could not run it: {exc.message}") from None
        await self._db(
            lambda s: audit.record(
                s,
                actor,
                "schedule.run",
                "bot",
                stored.target.bot_id,
                f"ran schedule \u201c{stored.spec.name}\u201d now",
            )
        )
        return f"\u201c{stored.spec.name}\u201d is running now; its run appears in the history when it ends."

    async def resolve_schedule_drift(self, actor: Principal | None, schedule_id: int, keep: str) -> str:
        """The gateway's copy differs: `keep` "clawnet" writes ClawNet's version back, "gateway"
        takes the gateway's into ClawNet (or, when it is gone, deletes ClawNet's)."""
        if keep not in ("clawnet", "gateway"):
            raise UserError("Choose which version stays.")
        stored = await self._load(actor, schedule_id, Action.CONFIGURE_BOT)
        if keep == "clawnet":
            said = await self._write(stored)
            if said:
                raise Unavailable("The bot's gateway is not running; start the bot to re-apply it.")
            await self._db(
                lambda s: audit.record(
                    s,
                    actor,
                    "schedule.reapply",
                    "bot",
                    stored.target.bot_id,
                    f"re-applied ClawNet's schedule \u201c{stored.spec.name}\u201d",
                )
            )
            self._schedules_changed(stored.target.bot_id)
            return f"ClawNet's \u201c{stored.spec.name}\u201d is on the gateway again."
        jobs = await self._jobs(stored.target)
        if jobs is None:
            raise Unavailable("The bot's gateway is not running; start the bot to read its version.")
        job = next((j for j in jobs if j.managed_key == stored.key), None)
        if job is None:
            return await self.delete_schedule(actor, schedule_id)
        theirs = spec_from_job(job.raw)
        if theirs is None:
            raise ScheduleError(
                "The gateway's version is a kind of job ClawNet cannot manage; re-apply ClawNet's."
            )
        data = ScheduleInput(
            theirs.name,
            theirs.kind,
            theirs.cron_expr,
            theirs.timezone,
            f"{theirs.every_seconds}s",
            theirs.message,
            theirs.session,
            theirs.enabled,
        )
        try:
            spec = validate(data)
        except UserError as exc:
            raise ScheduleError(f"The gateway's version cannot be kept: {exc}") from None

        def take(session: Session) -> None:
            who = require(session, actor, Action.CONFIGURE_BOT, stored.target.bot_id)
            row = session.get(Schedule, stored.id)
            if row is None:
                raise NotFound("This schedule no longer exists.")
            row.name, row.kind, row.cron_expr, row.timezone = (
                spec.name,
                spec.kind,
                spec.cron_expr,
                spec.timezone,
            )
            row.every_seconds, row.message, row.session = spec.every_seconds, spec.message, spec.session
            row.enabled, row.updated_at = spec.enabled, utcnow()
            session.add(row)
            record_applied(session, stored.id, job)
            audit.record(
                session,
                who,
                "schedule.take_gateway",
                "bot",
                stored.target.bot_id,
                f"took the gateway's version of schedule \u201c{spec.name}\u201d",
                before=_summary(stored.spec),
                after=_summary(spec),
            )

        await self._db(take)
        self._schedules_changed(stored.target.bot_id)
        return f"Kept the gateway's version of \u201c{spec.name}\u201d."
