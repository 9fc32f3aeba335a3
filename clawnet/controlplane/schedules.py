"""Make a gateway's scheduler hold the schedules ClawNet's database says (desired state).

Run when ClawNet connects to a gateway (start, restart after a crash, adoption) and after a
config is applied (a bot moved here): for each running bot of the gateway, every schedule is
written (`cron.add` with its declaration key converges one job) unless the gateway's copy was
changed behind ClawNet's back: that is recorded as drift, shown on the bot's Schedules tab and
left for a person to resolve. ClawNet's jobs whose schedule no longer exists here are removed.
OpenClaw's own jobs (memory dreaming, skill reviews...) are never touched.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlmodel import Session, col, select

from clawnet.controlplane.cron_jobs import ScheduleSpec, differences, job_params
from clawnet.controlplane.db_runner import DbRunner
from clawnet.controlplane.gateway_api import GatewayApi
from clawnet.controlplane.gateway_cron import CronApi, CronJob
from clawnet.controlplane.links import GatewayLinks
from clawnet.controlplane.protocol import GatewayError
from clawnet.controlplane.tasks import TaskSet
from clawnet.enums import DesiredStatus
from clawnet.events import EventBus, Kind
from clawnet.models import Bot, Schedule, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Desired:
    """One stored schedule, with what the gateway answered when ClawNet last wrote it."""

    id: int
    bot_id: int
    agent_id: str
    key: str
    spec: ScheduleSpec
    applied_revision: str

    @property
    def params(self) -> dict[str, Any]:
        return job_params(self.spec, agent_id=self.agent_id, key=self.key)


def spec_of(row: Schedule) -> ScheduleSpec:
    return ScheduleSpec(
        name=row.name,
        kind=row.kind,
        cron_expr=row.cron_expr,
        timezone=row.timezone,
        every_seconds=row.every_seconds,
        message=row.message,
        session=row.session,
        enabled=row.enabled,
    )


def desired(row: Schedule, agent_id: str) -> Desired:
    assert row.id is not None
    return Desired(row.id, row.bot_id, agent_id, row.key, spec_of(row), row.applied_revision)


def desired_on_gateway(session: Session, gateway_id: int) -> list[Desired]:
    rows = session.exec(
        select(Schedule, Bot.agent_id)
        .join(Bot, col(Bot.id) == col(Schedule.bot_id))
        .where(Bot.gateway_id == gateway_id, Bot.desired_status == DesiredStatus.RUNNING.value)
        .order_by(col(Schedule.id))
    ).all()
    return [desired(row, agent_id) for row, agent_id in rows]


def record_applied(session: Session, schedule_id: int, job: CronJob) -> bool:
    """The gateway holds ClawNet's version (job id and revision as it answered); False when the
    schedule was deleted meanwhile (its job is then to be removed again)."""
    row = session.get(Schedule, schedule_id)
    if row is None:
        return False
    row.gateway_job_id, row.applied_revision, row.drift = job.id, job.revision, ""
    row.updated_at = utcnow()
    session.add(row)
    return True


def wanted_keys(session: Session, gateway_id: int) -> set[str]:
    """The keys of every schedule the gateway should hold now (read again just before removing)."""
    return {d.key for d in desired_on_gateway(session, gateway_id)}


def record_drift(session: Session, schedule_id: int, job: CronJob, what: str) -> None:
    row = session.get(Schedule, schedule_id)
    if row is not None and row.drift != what:
        row.gateway_job_id, row.drift = job.id, what[:500]
        session.add(row)


def drift_words(changed: list[str]) -> str:
    return "Changed on the gateway: " + ", ".join(changed) + "."


async def sync_gateway(db: DbRunner, bus: EventBus, gateway_id: int, api: GatewayApi) -> int:
    """Bring one gateway's jobs to the desired schedules; how many jobs were written or removed.
    Raises GatewayError when the gateway cannot be asked."""
    wanted = await db.run(lambda s: desired_on_gateway(s, gateway_id))
    cron = CronApi(api)
    jobs = await cron.jobs()
    by_key = {j.managed_key: j for j in jobs if j.managed_key}
    changed = 0
    touched: set[int] = set()
    for d in wanted:
        job = by_key.pop(d.key, None)
        if job is not None and (diff := differences(d.spec, job.raw)):
            if job.revision != d.applied_revision:  # someone else changed it: a person decides
                await db.run(partial(record_drift, schedule_id=d.id, job=job, what=drift_words(diff)))
                touched.add(d.bot_id)
                continue
        elif job is not None:
            if job.revision != d.applied_revision:
                await db.run(partial(record_applied, schedule_id=d.id, job=job))
            continue
        try:
            written = await cron.put(d.params)
        except GatewayError as exc:
            log.warning("gateway %s: schedule %s not written: %s", gateway_id, d.key, exc.message)
            continue
        if not await db.run(partial(record_applied, schedule_id=d.id, job=written)):
            await cron.remove(written.id)  # deleted while it was being written
        touched.add(d.bot_id)
        changed += 1
    # ClawNet's jobs whose schedule is gone (or moved elsewhere). Asked again now: a schedule a
    # person added during this pass has its job written by them, and must not be removed here.
    still = await db.run(lambda s: wanted_keys(s, gateway_id))
    for key, job in by_key.items():
        if key in still:
            continue
        await cron.remove(job.id)
        changed += 1
    for bot_id in touched:
        bus.publish(Kind.FLEET_CHANGED, {"bot_id": bot_id, "schedules": True}, bot_id=bot_id)
    if changed:
        log.info("gateway %s: %s scheduled jobs written or removed", gateway_id, changed)
    return changed


class ScheduleSync:
    """Runs `sync_gateway` in the background, one pass at a time per gateway, and says when a
    gateway's scheduler reports activity (a run started or finished) so open tabs reload."""

    def __init__(self, db: DbRunner, bus: EventBus, links: GatewayLinks, tasks: TaskSet) -> None:
        self.db, self.bus, self.links, self.tasks = db, bus, links, tasks
        self._locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    def request(self, gateway_id: int) -> None:
        self.tasks.spawn(self._pass(gateway_id), f"schedules-{gateway_id}")

    async def _pass(self, gateway_id: int) -> None:
        async with self._locks[gateway_id]:
            link = self.links.connected(gateway_id)
            if link is None:
                return  # the next connection asks again
            try:
                await sync_gateway(self.db, self.bus, gateway_id, link.api)
            except GatewayError as exc:
                log.warning("gateway %s: schedules not synced: %s", gateway_id, exc.message)

    def on_event(self, gateway_id: int, payload: dict[str, Any]) -> None:
        """OpenClaw's `cron` event (a job ran, was added, changed...)."""
        self.bus.publish(
            Kind.SCHEDULES,
            {"job_id": str(payload.get("jobId") or ""), "action": str(payload.get("action") or "")},
            gateway_id=gateway_id,
        )
