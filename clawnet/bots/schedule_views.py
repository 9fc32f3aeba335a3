"""What the Schedules tab shows: a bot's jobs (ClawNet's schedules merged with what its gateway
holds, OpenClaw's own jobs too), each one's state, and a job's run history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from clawnet.bots.schedule_rules import describe_run, describe_schedule, in_words
from clawnet.controlplane.cron_jobs import (
    ScheduleInput,
    ScheduleSpec,
    differences,
    format_every,
    spec_from_job,
)
from clawnet.controlplane.gateway_cron import CronJob, CronRun
from clawnet.humanize import ago

__all__ = ["Applied", "RunRow", "ScheduleInput", "ScheduleRow", "SchedulesView", "run_row", "schedule_row"]

IN_SYNC = "in sync"
NOT_APPLIED = "not on the gateway yet"
REMOVED = "removed on the gateway"
NOT_CHECKED = "not checked: the gateway is not running"
FOREIGN_MESSAGE_MAX = 160


@dataclass(frozen=True)
class ScheduleRow:
    id: int  # ClawNet's schedule id; 0 for a job ClawNet does not manage (OpenClaw's own)
    ref: str  # stable on the page: the schedule id, or "oc-<job id>"
    job_id: str  # the gateway's job id ("" when the gateway does not hold it)
    name: str
    when: str  # "every 10m", "cron “0 9 * * 1-5” (Europe/Paris)"
    message: str
    session: str  # in words
    enabled: bool
    managed: bool
    next_run: str
    last_run: str  # "ok, 3 min ago" or ""
    state: str  # IN_SYNC | NOT_APPLIED | "changed on the gateway: ..." | "" (not managed)
    drift: bool  # the gateway's copy differs: a person chooses which one stays
    # The form's values, to edit it:
    kind: str
    cron_expr: str
    timezone: str
    every: str
    session_target: str


@dataclass(frozen=True)
class RunRow:
    at: str
    outcome: str  # ok | error | skipped
    completion: str  # succeeded | failed | unknown | ""
    duration: str
    detail: str  # the error, or the run's summary


@dataclass(frozen=True)
class SchedulesView:
    rows: list[ScheduleRow]
    reachable: bool  # the gateway answered (else: what ClawNet stores, without run state)
    note: str
    can_change: bool
    can_run: bool


def session_words(target: str) -> str:
    if target == "main":
        return "the bot's main session"
    if target.startswith("session:"):
        return f"session \u201c{target.removeprefix('session:')}\u201d"
    if target == "current":
        return "the conversation it was made in"
    return "a fresh session each run"


def _when_ms(ms: int | None) -> datetime | None:
    return datetime.fromtimestamp(ms / 1000, UTC) if ms else None


def _next(job: CronJob | None, enabled: bool, now: datetime, timezone: str = "") -> str:
    """The gateway's next run, in the schedule's own time zone."""
    if not enabled:
        return "paused"
    at = _when_ms(job.next_run_ms) if job else None
    if at is None:
        return ""
    try:
        at = at.astimezone(ZoneInfo(timezone)) if timezone else at
    except (ZoneInfoNotFoundError, ValueError):
        pass
    return describe_run(at, now)


def _last(job: CronJob | None, now: datetime) -> str:
    at = _when_ms(job.last_run_ms) if job else None
    if job is None or at is None:
        return ""
    return f"{job.last_status or 'ran'}, {ago(at, now)}"


@dataclass(frozen=True)
class Applied:
    """What ClawNet recorded for a schedule: the gateway's job id and definition revision when it
    last wrote it, and the drift the last sync found."""

    job_id: str = ""
    revision: str = ""
    drift: str = ""


def schedule_row(
    schedule_id: int, spec: ScheduleSpec, applied: Applied, job: CronJob | None, *, known: bool, now: datetime
) -> ScheduleRow:
    """A ClawNet schedule with its gateway job (None: not there); `known`: the gateway answered."""
    state, drift = IN_SYNC, False
    if not known:
        state, drift = applied.drift or NOT_CHECKED, bool(applied.drift)
    elif job is None:
        # Written before and gone now: someone removed it (a moved gateway gets it at once).
        state, drift = (REMOVED, True) if applied.job_id else (NOT_APPLIED, False)
    elif diff := differences(spec, job.raw):
        if job.revision == applied.revision:  # ClawNet's own change, not written yet
            state = NOT_APPLIED
        else:
            state, drift = "changed on the gateway: " + ", ".join(diff), True
    return ScheduleRow(
        id=schedule_id,
        ref=str(schedule_id),
        job_id=job.id if job else "",
        name=spec.name,
        when=describe_schedule(spec),
        message=spec.message,
        session=session_words(spec.session),
        enabled=spec.enabled,
        managed=True,
        next_run=_next(job, spec.enabled, now, spec.timezone),
        last_run=_last(job, now),
        state=state,
        drift=drift,
        kind=spec.kind,
        cron_expr=spec.cron_expr,
        timezone=spec.timezone,
        every=format_every(spec.every_seconds) if spec.every_seconds else "",
        session_target=spec.session,
    )


def _raw_when(schedule: dict[str, object]) -> str:
    """A schedule ClawNet cannot edit, in words as far as it goes."""
    every_ms, expr = schedule.get("everyMs"), schedule.get("expr")
    if isinstance(every_ms, int) and every_ms >= 1000:
        return f"every {format_every(every_ms // 1000)}"
    if isinstance(expr, str) and expr:
        return f"cron \u201c{expr}\u201d"
    return str(schedule.get("at") or schedule.get("kind") or "")


def foreign_row(job: CronJob, now: datetime) -> ScheduleRow:
    """A job ClawNet does not manage (OpenClaw's own, or made with OpenClaw's tools)."""
    spec = spec_from_job(job.raw)
    raw_schedule = job.raw.get("schedule") if isinstance(job.raw.get("schedule"), dict) else {}
    when = describe_schedule(spec) if spec else _raw_when(raw_schedule or {})
    payload = job.raw.get("payload") if isinstance(job.raw.get("payload"), dict) else {}
    message = spec.message if spec else str((payload or {}).get("kind") or "")
    if len(message) > FOREIGN_MESSAGE_MAX:  # OpenClaw's own prompts run long: the start says enough
        message = message[:FOREIGN_MESSAGE_MAX].rstrip() + "\u2026"
    return ScheduleRow(
        id=0,
        ref=f"oc-{job.id}",
        job_id=job.id,
        name=job.name,
        when=when,
        message=message,
        session=session_words(str(job.raw.get("sessionTarget") or "")),
        enabled=job.enabled,
        managed=False,
        next_run=_next(job, job.enabled, now),
        last_run=_last(job, now),
        state="",
        drift=False,
        kind="",
        cron_expr="",
        timezone="",
        every="",
        session_target="",
    )


def _duration(ms: int | None) -> str:
    if ms is None:
        return ""
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    return in_words(timedelta(milliseconds=ms))


def run_row(run: CronRun, now: datetime) -> RunRow:
    at = _when_ms(run.at_ms)
    return RunRow(
        at=f"{at:%Y-%m-%d %H:%M:%S} UTC ({ago(at, now)})" if at else "",
        outcome=run.status or "unknown",
        completion=run.completion,
        duration=_duration(run.duration_ms),
        detail=(run.error or run.summary.strip().split("\n", 1)[0])[:300],
    )
