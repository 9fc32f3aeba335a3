"""Cron jobs carried over by an import: the jobs of a workspace zip's `cron/jobs.json` (OpenClaw's
legacy job store, or a `cron.list` answer saved as a file) become the imported bots' schedules,
which the control plane then writes to their gateway like any other schedule. Jobs ClawNet
cannot manage (one-shots, command jobs, intervals under its minimum, agents not in the file)
are listed with the reason, before anything is written."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from clawnet.bots.import_map import FileAgent
from clawnet.bots.schedule_rules import describe_schedule, jobs_from_openclaw, validate
from clawnet.controlplane.cron_jobs import ScheduleSpec
from clawnet.models import Schedule


@dataclass(frozen=True)
class PlannedSchedule:
    agent_id: str  # the bot's agent id in ClawNet (after any renaming)
    spec: ScheduleSpec


def default_agent(agents: list[FileAgent]) -> str:
    """The agent OpenClaw gives a job that names none: the one marked `default`, else the first."""
    marked = [a.agent_id for a in agents if a.entry.get("default") is True]
    return marked[0] if marked else (agents[0].agent_id if agents else "")


def plan_schedules(
    sources: list[Any], agents: list[FileAgent], ids: Mapping[str, str], imported: set[str]
) -> tuple[list[PlannedSchedule], list[str], list[str]]:
    """(schedules to add, a line per carried job for the preview, a line per job left out).
    `ids`: the file's agent id -> ClawNet's; `imported`: ClawNet agent ids of the bots made."""
    fallback = default_agent(agents)
    planned: list[PlannedSchedule] = []
    carried: list[str] = []
    skipped: list[str] = []
    for source in sources:
        jobs, refused = jobs_from_openclaw(source)
        skipped.extend(f"cron/jobs.json: {why}" for why in refused)
        for job in jobs:
            file_agent = job.agent_id or fallback
            agent_id = ids.get(file_agent, file_agent)
            if agent_id not in imported:
                skipped.append(f"cron/jobs.json: {job.data.name}: for agent '{file_agent}', not imported")
                continue
            spec = validate(job.data)
            planned.append(PlannedSchedule(agent_id, spec))
            carried.append(f"{spec.name} ({describe_schedule(spec)}) for {agent_id}")
    return planned, carried, skipped


def add_schedules(
    session: Session, bot_ids: Mapping[str, int], planned: list[PlannedSchedule], user_id: int | None
) -> None:
    """The planned schedules as rows of the new bots (written to gateways by the control plane)."""
    for item in planned:
        spec = item.spec
        session.add(
            Schedule(
                bot_id=bot_ids[item.agent_id],
                key=uuid.uuid4().hex,
                name=spec.name,
                kind=spec.kind,
                cron_expr=spec.cron_expr,
                timezone=spec.timezone,
                every_seconds=spec.every_seconds,
                message=spec.message,
                session=spec.session,
                enabled=spec.enabled,
                created_by_id=user_id,
            )
        )
