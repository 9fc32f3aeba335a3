"""OpenClaw's scheduler (`cron.*` methods), typed: a bot's jobs, their run history, and the
changes ClawNet makes. Jobs live in the gateway's SQLite state, per agent; ClawNet's own carry a
declaration key (`cron_jobs.DECLARATION_PREFIX`) so `cron.add` converges one job per schedule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from clawnet.controlplane.cron_jobs import DECLARATION_PREFIX
from clawnet.controlplane.gateway_api import GatewayApi, GatewayCaller, is_missing
from clawnet.controlplane.protocol import GatewayError

PAGE = 200  # cron.list and cron.runs answer at most this many rows at a time


@dataclass(frozen=True)
class CronJob:
    """One job as the gateway holds it (the fields ClawNet shows and compares)."""

    id: str
    declaration_key: str
    name: str
    agent_id: str
    enabled: bool
    revision: str  # OpenClaw's token for the definition (scheduler state excluded)
    next_run_ms: int | None
    last_run_ms: int | None
    last_status: str  # ok | error | skipped | ""
    last_error: str
    running: bool
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def managed_key(self) -> str:
        """The ClawNet schedule key this job belongs to, or "" for other jobs."""
        k = self.declaration_key
        return k.removeprefix(DECLARATION_PREFIX) if k.startswith(DECLARATION_PREFIX) else ""


@dataclass(frozen=True)
class CronRun:
    """One finished run of a job (`cron.runs`)."""

    run_id: str
    job_id: str
    at_ms: int
    status: str  # ok | error | skipped
    completion: str  # succeeded | failed | unknown | ""
    duration_ms: int | None
    error: str
    summary: str
    session_key: str


def _ms(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and value > 0 else None


def _job_of(answer: Any) -> dict[str, Any]:
    """`cron.add` answers the job itself, or `{created, job}` for a declaration."""
    answer = answer if isinstance(answer, dict) else {}
    return answer["job"] if isinstance(answer.get("job"), dict) else answer


def cron_job(row: dict[str, Any]) -> CronJob:
    state = row.get("state") if isinstance(row.get("state"), dict) else {}
    assert isinstance(state, dict)
    return CronJob(
        id=str(row.get("id") or row.get("jobId") or ""),
        declaration_key=str(row.get("declarationKey") or ""),
        name=str(row.get("displayName") or row.get("name") or ""),
        agent_id=str(row.get("agentId") or row.get("effectiveAgentId") or ""),
        enabled=row.get("enabled") is not False,
        revision=str(row.get("configRevision") or row.get("updatedAtMs") or ""),
        next_run_ms=_ms(row.get("nextRunAtMs") or state.get("nextRunAtMs")),
        last_run_ms=_ms(row.get("lastRunAtMs") or state.get("lastRunAtMs")),
        last_status=str(row.get("lastRunStatus") or state.get("lastRunStatus") or ""),
        last_error=str(row.get("lastRunError") or state.get("lastError") or ""),
        running=_ms(state.get("runningAtMs")) is not None,
        raw=row,
    )


def cron_run(row: dict[str, Any]) -> CronRun:
    return CronRun(
        run_id=str(row.get("runId") or ""),
        job_id=str(row.get("jobId") or ""),
        at_ms=int(row.get("runAtMs") or row.get("ts") or 0),
        status=str(row.get("status") or ""),
        completion=str(row.get("completionStatus") or ""),
        duration_ms=row["durationMs"] if isinstance(row.get("durationMs"), int) else None,
        error=str(row.get("error") or ""),
        summary=str(row.get("summary") or ""),
        session_key=str(row.get("sessionKey") or ""),
    )


class CronApi:
    """The scheduler of one gateway, over the same caller as `GatewayApi`."""

    def __init__(self, api: GatewayApi | GatewayCaller) -> None:
        self.caller: GatewayCaller = api.caller if isinstance(api, GatewayApi) else api

    async def jobs(self, agent_id: str | None = None) -> list[CronJob]:
        """Every job (disabled ones too), or an agent's."""
        out: list[CronJob] = []
        offset = 0
        while True:
            params: dict[str, Any] = {"includeDisabled": True, "limit": PAGE, "offset": offset}
            if agent_id:
                params["agentId"] = agent_id
            answer = await self.caller.call("cron.list", params, timeout=30) or {}
            rows = [r for r in answer.get("jobs") or [] if isinstance(r, dict)]
            out.extend(cron_job(r) for r in rows)
            if not answer.get("hasMore") or not rows:
                return out
            offset += len(rows)

    async def put(self, params: dict[str, Any]) -> CronJob:
        """Create the job, or converge the one with the same declaration key to `params`.
        A declaration converges the schedule, session and payload but keeps an existing job's
        name: a changed name is patched after it."""
        job = cron_job(_job_of(await self.caller.call("cron.add", params, timeout=30)))
        patch = {k: params[k] for k in ("name", "enabled") if k in params and job.raw.get(k) != params[k]}
        if patch and job.id:
            answer = await self.caller.call("cron.update", {"id": job.id, "patch": patch}, timeout=30)
            job = cron_job(_job_of(answer))
        return job

    async def remove(self, job_id: str) -> None:
        """Delete a job; one that is already gone is fine."""
        try:
            await self.caller.call("cron.remove", {"id": job_id}, timeout=30)
        except GatewayError as exc:
            if not is_missing(exc):
                raise

    async def run_now(self, job_id: str) -> str:
        """Queue a run now (paused jobs too); its run id."""
        answer = await self.caller.call("cron.run", {"id": job_id, "mode": "force"}, timeout=30) or {}
        return str(answer.get("runId") or "")

    async def runs(self, job_id: str, *, limit: int = 20) -> list[CronRun]:
        """The job's latest finished runs, newest first."""
        answer = await self.caller.call(
            "cron.runs",
            {"scope": "job", "id": job_id, "limit": min(limit, PAGE), "sortDir": "desc"},
            timeout=30,
        )
        rows = (answer or {}).get("entries") or (answer or {}).get("runs") or []
        return [cron_run(r) for r in rows if isinstance(r, dict)]
