"""Schedules, pure: what a person may type and when a schedule fires next.

- `validate` checks a schedule's form (a clear message per field) and returns a `ScheduleSpec`.
- `next_runs` / `describe_runs` compute the next fire times with APScheduler's `CronTrigger` and
  `IntervalTrigger` (OpenClaw's cron follows Vixie cron: weekday 0 and 7 are Sunday, and a day of
  month together with a weekday matches either) and say them in plain words.
- `jobs_from_openclaw` turns OpenClaw's job objects (the gateway/CLI shape, or the legacy
  `~/.openclaw/cron/jobs.json` file) into valid schedule inputs, for imports.
OpenClaw's job shape itself (what ClawNet writes, drift) is `controlplane.cron_jobs`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from clawnet.controlplane.cron_jobs import (
    MIN_EVERY_S,
    ScheduleInput,
    ScheduleSpec,
    format_every,
    input_from_job,
    parse_every,
)
from clawnet.errors import UserError

KINDS = ("cron", "every")
MAX_EVERY_S = 366 * 86400
NAME_MAX = 120
MESSAGE_MAX = 4000
# No ":" — OpenClaw reads `session:<key>` as a session key, and a key could name another agent's.
SESSION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_DOW_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _zone(name: str) -> tzinfo:
    return ZoneInfo(name) if name else UTC


def _dow(field: str) -> str:
    """Vixie cron weekdays (0 and 7: Sunday; steps count from Sunday) as names, which APScheduler
    reads the same way (its numbers start on Monday)."""
    out: list[str] = []
    for part in field.split(","):
        base, _, step = part.partition("/")
        numeric = re.fullmatch(r"\*|\d+(-\d+)?", base) and (not step or (step.isdigit() and int(step) > 0))
        if not numeric or (base == "*" and not step):
            out.append(part)  # names, `*`, or something APScheduler will refuse with its words
            continue
        if base == "*":
            lo, hi = 0, 6
        elif "-" in base:
            lo, hi = (int(x) for x in base.split("-"))
        else:
            lo = int(base)
            hi = 7 if step else lo
        if lo > 7 or hi > 7 or lo > hi:
            out.append(part)
            continue
        out.extend(_DOW_NAMES[d] for d in range(lo, hi + 1, int(step or 1)))
    return ",".join(dict.fromkeys(out))


def cron_triggers(expr: str, timezone: str = "") -> list[CronTrigger]:
    """APScheduler triggers equal to a 5- or 6-field cron expression (more than one when both a
    day of month and a weekday are given: cron fires on either). Raises ValueError."""
    fields = expr.split()
    if len(fields) not in (5, 6):
        raise ValueError(f"a cron expression has 5 fields (minute hour day month weekday), not {len(fields)}")
    second = fields[0] if len(fields) == 6 else "0"
    minute, hour, day, month, dow = fields[-5:]
    zone = _zone(timezone)
    common = {"second": second, "minute": minute, "hour": hour, "month": month, "timezone": zone}
    if day != "*" and dow != "*":
        return [CronTrigger(day=day, **common), CronTrigger(day_of_week=_dow(dow), **common)]
    return [CronTrigger(day=day, day_of_week=_dow(dow), **common)]


# --- validation -------------------------------------------------------------------------------


def validate(data: ScheduleInput) -> ScheduleSpec:
    """The spec, or UserError with what is wrong with each field."""
    errors: dict[str, str] = {}
    name = " ".join((data.name or "").split())
    if not name:
        errors["name"] = "Give the schedule a name."
    elif len(name) > NAME_MAX:
        errors["name"] = f"At most {NAME_MAX} characters."
    kind = (data.kind or "").strip()
    expr, zone, every_s = "", (data.timezone or "").strip(), 0
    if kind not in KINDS:
        errors["kind"] = "Choose a cron expression or an interval."
    elif kind == "cron":
        expr = " ".join((data.cron_expr or "").split())
        zone_ok = True
        if zone:
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                errors["timezone"] = f"\u201c{zone}\u201d is not a known time zone (e.g. Europe/Paris, UTC)."
                zone_ok = False
        if not expr:
            errors["cron_expr"] = "Enter a cron expression, e.g. \u201c0 9 * * 1-5\u201d (weekdays at 9:00)."
        else:
            try:
                cron_triggers(expr, zone if zone_ok else "")
            except ValueError as exc:
                errors["cron_expr"] = f"Not a valid cron expression: {exc}."
    else:
        zone = ""
        try:
            every_s = parse_every(data.every)
        except ValueError:
            errors["every"] = "Enter an interval such as 90s, 15m, 2h or 1d."
        else:
            if every_s < MIN_EVERY_S:
                errors["every"] = f"The interval is too small: at least {MIN_EVERY_S} seconds."
            elif every_s > MAX_EVERY_S:
                errors["every"] = "The interval is too large: at most a year."
    message = (data.message or "").strip()
    if not message:
        errors["message"] = "Say what the bot should do when the schedule fires."
    elif len(message) > MESSAGE_MAX:
        errors["message"] = f"At most {MESSAGE_MAX} characters."
    session = (data.session or "").strip() or "isolated"
    if session.startswith("session:"):
        if not SESSION_NAME.match(session.removeprefix("session:")):
            errors["session"] = "A session name uses letters, digits, -, _ or . (at most 64)."
    elif session not in ("isolated", "main"):
        errors["session"] = "Choose a fresh session, the main session or a named session."
    if errors:
        raise UserError(field_errors=errors)
    return ScheduleSpec(name, kind, expr, zone, every_s, message, session, bool(data.enabled))


# --- next runs --------------------------------------------------------------------------------


def next_runs(spec: ScheduleSpec, *, now: datetime | None = None, count: int = 3) -> list[datetime]:
    """The next `count` fire times after `now` (for an interval: counted from `now`)."""
    now = now or datetime.now(UTC)
    if spec.kind == "every":
        trigger = IntervalTrigger(seconds=spec.every_seconds, start_date=now, timezone=UTC)
        triggers = [trigger]
        start = now + timedelta(microseconds=1)
    else:
        triggers = cron_triggers(spec.cron_expr, spec.timezone)
        start = now
    runs: list[datetime] = []
    for trigger in triggers:
        previous: datetime | None = None
        at: datetime | None = start
        for _ in range(count):
            at = trigger.get_next_fire_time(previous, at or start)
            if at is None:
                break
            runs.append(at)
            previous, at = at, at + timedelta(microseconds=1)
    return sorted(set(runs))[:count]


def in_words(delta: timedelta) -> str:
    """timedelta(hours=2, minutes=5) -> "2 h 5 min"."""
    s = max(0, int(delta.total_seconds()))
    days, s = divmod(s, 86400)
    hours, s = divmod(s, 3600)
    minutes, s = divmod(s, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{minutes} min" if minutes else ""]
    if not days and not hours and s:
        parts.append(f"{s} s")
    return " ".join(p for p in parts if p) or "now"


def describe_run(at: datetime, now: datetime) -> str:
    """ "Wed 2 Dec 2026, 09:00 UTC (in 2 h 5 min)"."""
    zone = at.tzname() or "UTC"
    left = in_words(at - now)
    return f"{at:%a} {at.day} {at:%b %Y, %H:%M} {zone} ({left if left == 'now' else 'in ' + left})"


def describe_schedule(spec: ScheduleSpec) -> str:
    if spec.kind == "every":
        return f"every {format_every(spec.every_seconds)}"
    return f"cron \u201c{spec.cron_expr}\u201d" + (f" ({spec.timezone})" if spec.timezone else "")


def describe_runs(spec: ScheduleSpec, *, now: datetime | None = None, count: int = 3) -> list[str]:
    now = now or datetime.now(UTC)
    return [describe_run(at, now) for at in next_runs(spec, now=now, count=count)]


def preview(data: ScheduleInput, *, now: datetime | None = None) -> tuple[list[str], str]:
    """(the next runs in words, "") or ([], what is wrong with the timing) for a form as typed."""
    try:
        spec = validate(data)
    except UserError as exc:
        timing = {
            k: v for k, v in exc.field_errors.items() if k in ("kind", "cron_expr", "every", "timezone")
        }
        if timing:
            return [], " ".join(timing.values())
        spec = validate(ScheduleInput("x", data.kind, data.cron_expr, data.timezone, data.every, "x"))
    return describe_runs(spec, now=now), ""


@dataclass(frozen=True)
class ImportedJob:
    agent_id: str  # "" when the job names none (the default agent)
    data: ScheduleInput


def jobs_from_openclaw(source: Any) -> tuple[list[ImportedJob], list[str]]:
    """OpenClaw jobs -> (schedule inputs with their agent, what cannot be carried over and why).
    `source`: a list of jobs, `cron.list`'s answer (`{jobs: [...]}`) or a legacy jobs.json."""
    rows = source.get("jobs") if isinstance(source, dict) else source
    taken: list[ImportedJob] = []
    skipped: list[str] = []
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict):
            continue
        label = str(row.get("name") or row.get("id") or row.get("jobId") or "a job")
        data = input_from_job(row)
        if data is None:
            skipped.append(f"{label}: a kind of schedule or task ClawNet does not manage")
            continue
        try:
            validate(data)
        except UserError as exc:
            skipped.append(f"{label}: {exc}")
            continue
        taken.append(ImportedJob(str(row.get("agentId") or ""), data))
    return taken, skipped
