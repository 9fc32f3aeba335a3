"""OpenClaw's cron job shape, pure: the job ClawNet writes for a schedule, and jobs read back.

- `job_params` is the `cron.add` job for a `ScheduleSpec` (declarative: OpenClaw converges one
  job per declaration key, `clawnet:<key>`, so a restarted, adopted or moved gateway gets the same
  job back); `differences` compares a spec with what a gateway holds (drift).
- `input_from_job` / `spec_from_job` read OpenClaw's job objects, in the gateway/CLI shape or the
  legacy `~/.openclaw/cron/jobs.json` one, back as ClawNet's schedule input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

MIN_EVERY_S = 10
DECLARATION_PREFIX = "clawnet:"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_EVERY = re.compile(r"^\s*(\d+)\s*(s|sec|secs|seconds?|m|min|mins|minutes?|h|hours?|d|days?)?\s*$", re.I)


@dataclass(frozen=True)
class ScheduleInput:
    """What the form (or an import) gives: text as typed."""

    name: str
    kind: str = "every"  # "cron" | "every"
    cron_expr: str = ""
    timezone: str = ""
    every: str = ""  # "30m", "2h", "45" (seconds)...
    message: str = ""
    session: str = "isolated"  # "isolated" | "main" | "session:<name>"
    enabled: bool = True


@dataclass(frozen=True)
class ScheduleSpec:
    """A valid schedule, normalized."""

    name: str
    kind: str
    cron_expr: str
    timezone: str
    every_seconds: int
    message: str
    session: str
    enabled: bool = True


def parse_every(text: str) -> int:
    """ "30m" -> 1800; a bare number is seconds. Raises ValueError."""
    m = _EVERY.match(text or "")
    if not m:
        raise ValueError(text)
    unit = (m.group(2) or "s")[0].lower()
    return int(m.group(1)) * _UNITS[unit]


def format_every(seconds: int) -> str:
    """1800 -> "30m" (the largest unit that divides it)."""
    for unit in ("d", "h", "m"):
        if seconds and seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"


def normalize(data: ScheduleInput) -> ScheduleSpec:
    """The spec of an input, without judging it (see `bots.schedule_rules.validate`)."""
    kind = (data.kind or "").strip()
    every_s = 0
    if kind == "every":
        try:
            every_s = parse_every(data.every)
        except ValueError:
            every_s = 0
    return ScheduleSpec(
        name=" ".join((data.name or "").split()),
        kind=kind,
        cron_expr=" ".join((data.cron_expr or "").split()) if kind == "cron" else "",
        timezone=(data.timezone or "").strip() if kind == "cron" else "",
        every_seconds=every_s,
        message=(data.message or "").strip(),
        session=(data.session or "").strip() or "isolated",
        enabled=bool(data.enabled),
    )


# --- OpenClaw's job shape -----------------------------------------------------------------------


def declaration_key(key: str) -> str:
    return f"{DECLARATION_PREFIX}{key}"


def _schedule(spec: ScheduleSpec) -> dict[str, Any]:
    if spec.kind == "every":
        return {"kind": "every", "everyMs": spec.every_seconds * 1000}
    out: dict[str, Any] = {"kind": "cron", "expr": spec.cron_expr, "staggerMs": 0}
    if spec.timezone:
        out["tz"] = spec.timezone
    return out


def _payload(spec: ScheduleSpec) -> dict[str, Any]:
    # The main session takes a system event; other sessions run an agent turn.
    if spec.session == "main":
        return {"kind": "systemEvent", "text": spec.message}
    return {"kind": "agentTurn", "message": spec.message}


def job_params(spec: ScheduleSpec, *, agent_id: str, key: str) -> dict[str, Any]:
    """The `cron.add` params of a schedule (declarative: the same key converges one job)."""
    return {
        "name": spec.name,
        "declarationKey": declaration_key(key),
        "agentId": agent_id,
        "enabled": spec.enabled,
        "schedule": _schedule(spec),
        "sessionTarget": spec.session,
        "wakeMode": "now",
        "payload": _payload(spec),
        "delivery": {"mode": "none"},
    }


def spec_from_job(job: dict[str, Any]) -> ScheduleSpec | None:
    """A gateway job (or a legacy one) read back as a spec; None when ClawNet cannot express it
    (a one-shot, a command or script payload, a stream...)."""
    data = input_from_job(job)
    return normalize(data) if data is not None else None


def differences(spec: ScheduleSpec, job: dict[str, Any]) -> list[str]:
    """What the gateway's job has that differs from the spec, in words ([]: the same)."""
    theirs = spec_from_job(job)
    if theirs is None:
        return ["its kind of schedule or task"]
    labels = {
        "name": "name",
        "kind": "kind of schedule",
        "cron_expr": "cron expression",
        "timezone": "time zone",
        "every_seconds": "interval",
        "message": "message",
        "session": "session",
        "enabled": "paused or active",
    }
    return [label for f, label in labels.items() if getattr(spec, f) != getattr(theirs, f)]


def _every_text(schedule: dict[str, Any]) -> str:
    every_ms = schedule.get("everyMs")
    if isinstance(every_ms, int | float) and every_ms > 0:
        return f"{max(1, int(every_ms // 1000))}s"
    every = schedule.get("every") or schedule.get("interval")
    return str(every or "")


def _schedule_input(raw: Any) -> tuple[str, str, str, str] | None:
    """(kind, cron_expr, timezone, every) of a job's schedule in any known shape."""
    if isinstance(raw, str):  # legacy bare string: "every 1h", "0 9 * * 1", "20m"
        text = raw.strip()
        if text.lower().startswith("every "):
            return "every", "", "", text[6:].strip()
        if len(text.split()) in (5, 6):
            return "cron", text, "", ""
        return None  # a relative one-shot ("20m") or a timestamp
    if not isinstance(raw, dict):
        return None
    kind = str(raw.get("kind") or "").lower()
    expr = str(raw.get("expr") or raw.get("cron") or "")
    if kind in ("cron", "") and expr:
        return "cron", expr, str(raw.get("tz") or raw.get("timezone") or ""), ""
    if kind in ("every", "interval", "") and _every_text(raw):
        return "every", "", "", _every_text(raw)
    return None


def _message_of(job: dict[str, Any]) -> tuple[str, str] | None:
    """(payload kind, text) in any known shape; None for command/script/heartbeat payloads."""
    payload = job.get("payload")
    if not isinstance(payload, dict):  # legacy: top-level payload fields
        payload = {k: job[k] for k in ("kind", "message", "text", "systemEvent") if k in job}
        payload["kind"] = job.get("payloadKind") or ("systemEvent" if "systemEvent" in job else "")
    kind = re.sub(r"[^a-z]", "", str(payload.get("kind") or "").lower())
    text = payload.get("message") or payload.get("text") or payload.get("systemEvent") or ""
    if kind in ("", "agentturn", "agent", "systemevent", "event") and isinstance(text, str) and text.strip():
        return ("systemevent" if kind.startswith("system") or kind == "event" else "agentturn"), text
    return None


def input_from_job(job: dict[str, Any]) -> ScheduleInput | None:
    """One OpenClaw job (gateway/CLI shape or legacy jobs.json row) as a schedule input."""
    schedule = _schedule_input(job.get("schedule"))
    message = _message_of(job)
    if schedule is None or message is None:
        return None
    kind, expr, zone, every = schedule
    session = str(job.get("sessionTarget") or "")
    if not session:
        session = "main" if message[0] == "systemevent" else "isolated"
    if session == "current":
        session = "isolated"
    name = str(job.get("displayName") or job.get("name") or job.get("id") or job.get("jobId") or "")
    return ScheduleInput(
        name=name,
        kind=kind,
        cron_expr=expr,
        timezone=zone,
        every=every,
        message=message[1],
        session=session,
        enabled=job.get("enabled") is not False,
    )
