"""Health work on APScheduler: readiness probes, `status` figures for analytics, stale status,
channel status, log rotation, and restarts driven by the backoff policy.

Restart policy: after a crash the gateway restarts after 1, 2, 4, 8 ... seconds (at most 60).
A failure within `fast_failure_s` of starting counts as a *fast* failure; after
`crash_loop_after` fast failures in a row the gateway enters the crash-loop state and is not
restarted again until someone restarts it (fixing what makes it crash). A gateway that stays up
past `fast_failure_s` has its failure count reset.

Each job looks at every gateway; a failure with one gateway is logged with its id and never
stops the job for the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import psutil
from sqlmodel import Session, col, delete, select

from clawnet.controlplane.channels import sync_channels
from clawnet.controlplane.db_runner import DbRunner
from clawnet.controlplane.jobs import Jobs
from clawnet.controlplane.links import GatewayLinks
from clawnet.controlplane.paths import gateway_paths
from clawnet.controlplane.protocol import GatewayError
from clawnet.controlplane.status import StatusBook
from clawnet.controlplane.supervisor import Supervisor, core_ready, rotate_if_large
from clawnet.enums import GatewayKind, GatewayStatus
from clawnet.events import EventBus, Kind
from clawnet.models import Gateway, GatewayMetric, LoginTicket, prune_status_changes, utcnow
from clawnet.settings import Settings

STATUS_CHANGES_KEEP_DAYS = 60  # uptime shows 30 days

log = logging.getLogger(__name__)

BUSY_CPU_SHARE = 0.1  # share of one core a gateway must use while missing probes to count as busy
BUSY_GRACE = 8  # a busy gateway is restarted after this many times the usual misses


@dataclass(frozen=True)
class RestartPolicy:
    base_delay_s: float = 1.0
    max_delay_s: float = 60.0
    fast_failure_s: float = 60.0
    crash_loop_after: int = 5

    def delay(self, consecutive_failures: int) -> float:
        return min(self.max_delay_s, self.base_delay_s * 2 ** max(0, consecutive_failures - 1))

    def is_crash_loop(self, consecutive_failures: int) -> bool:
        return consecutive_failures >= self.crash_loop_after


@dataclass(frozen=True)
class HealthIntervals:
    probe_s: float = 15.0
    probe_timeout_s: float = 5.0
    unresponsive_after: int = 3  # failed probes in a row before a local gateway is restarted
    metrics_s: float = 60.0
    stale_after_s: float = 180.0
    housekeeping_s: float = 300.0
    metrics_keep_days: int = 14


class RestartSchedule:
    """Gateways waiting out their backoff before a restart (`reconcile(gateway_id)` restarts)."""

    def __init__(
        self, scheduler: Jobs, policy: RestartPolicy, reconcile: Callable[[int], Awaitable[None]]
    ) -> None:
        self.scheduler = scheduler
        self.policy = policy
        self._reconcile = reconcile
        self._pending: set[int] = set()

    def pending(self, gateway_id: int) -> bool:
        return gateway_id in self._pending

    def schedule(self, gateway_id: int, consecutive_failures: int) -> float:
        """Start the gateway again after the backoff for its failure count; returns the delay."""
        delay = self.policy.delay(consecutive_failures)
        self._pending.add(gateway_id)
        self.scheduler.after(delay, self._restart_now, name=f"restart-{gateway_id}", args=(gateway_id,))
        return delay

    def cancel(self, gateway_id: int) -> None:
        self._pending.discard(gateway_id)
        self.scheduler.cancel(f"restart-{gateway_id}")

    async def _restart_now(self, gateway_id: int) -> None:
        self._pending.discard(gateway_id)
        await self._reconcile(gateway_id)


@dataclass
class HealthDeps:
    settings: Settings
    db: DbRunner
    bus: EventBus
    supervisor: Supervisor
    links: GatewayLinks
    status: StatusBook
    scheduler: Jobs
    on_log_rotated: Callable[[int], None]


async def _each(what: str, items: list[Any], job: Callable[..., Awaitable[Any]]) -> None:
    """Run `job(item)` for every item at once; a failure is logged and does not stop the rest."""
    results = await asyncio.gather(*(job(item) for item in items), return_exceptions=True)
    for item, result in zip(items, results, strict=True):
        if isinstance(result, Exception):
            log.error("%s failed for %r: %r", what, item, result, exc_info=result)


class HealthMonitor:
    def __init__(
        self, deps: HealthDeps, policy: RestartPolicy | None = None, intervals: HealthIntervals | None = None
    ) -> None:
        self.settings = deps.settings
        self.db = deps.db
        self.bus = deps.bus
        self.supervisor = deps.supervisor
        self.links = deps.links
        self.status = deps.status
        self.scheduler = deps.scheduler
        self.on_log_rotated = deps.on_log_rotated
        self.policy = policy or RestartPolicy()
        self.intervals = intervals or HealthIntervals()
        self._probe_failures: dict[int, int] = {}
        self._cpu_at_first_miss: dict[int, tuple[float, float | None]] = {}  # (when, CPU seconds)
        self._http: httpx.AsyncClient | None = None

    def start(self) -> None:
        self._http = httpx.AsyncClient(timeout=self.intervals.probe_timeout_s)
        i = self.intervals
        self.scheduler.every(i.probe_s, self.probe_all, name="probe")
        self.scheduler.every(i.metrics_s, self.collect_metrics, name="metrics")
        self.scheduler.every(i.metrics_s, self.mark_stale, name="stale")
        self.scheduler.every(i.metrics_s, self.refresh_channels, name="channels")
        self.scheduler.every(i.housekeeping_s, self.housekeeping, name="housekeeping")
        self.scheduler.start()

    async def stop(self) -> None:
        self.scheduler.shutdown()
        if self._http is not None:
            await self._http.aclose()

    # --- probes ----------------------------------------------------------------------------

    async def probe_all(self) -> None:
        gateways = await self.db.run(
            lambda s: [
                (g.id or 0, g.kind, g.base_port, g.actual_status, g.last_started_at, g.consecutive_failures)
                for g in s.exec(select(Gateway)).all()
            ]
        )
        await _each("health probe", gateways, lambda g: self.probe(*g))

    async def probe(
        self,
        gateway_id: int,
        kind: str,
        port: int | None,
        status: str,
        started_at: datetime | None,
        failures: int,
    ) -> bool:
        """One readiness probe: `/readyz` for local gateways, and a `health` call over the
        protocol. Three misses in a row and a local gateway is restarted (it is hung), unless it is
        busy: using CPU all along, it gets a longer grace."""
        if status not in (GatewayStatus.RUNNING.value, GatewayStatus.UNRESPONSIVE.value):
            self._forget_misses(gateway_id)
            return True
        ok = True
        if kind == GatewayKind.LOCAL.value and port and self._http is not None:
            try:
                response = await self._http.get(f"http://127.0.0.1:{port}/readyz")
                ok = core_ready(response.status_code, response.json())
            except (httpx.HTTPError, ValueError):
                ok = False
        link = self.links.get(gateway_id)
        if ok and link is not None:
            try:
                await link.api.health(timeout=self.intervals.probe_timeout_s)
            except GatewayError:
                ok = False
        if ok:
            self._forget_misses(gateway_id)
            await self.status.touch(gateway_id)
            if status == GatewayStatus.UNRESPONSIVE.value:
                await self.status.set_gateway(gateway_id, GatewayStatus.RUNNING, "answering again")
            if (
                failures
                and started_at is not None
                and (utcnow() - started_at).total_seconds() > self.policy.fast_failure_s
            ):
                await self.status.reset_failures(gateway_id)
            return True
        misses = self._probe_failures.get(gateway_id, 0) + 1
        self._probe_failures[gateway_id] = misses
        if misses == 1:
            self._cpu_at_first_miss[gateway_id] = (time.monotonic(), self._cpu_seconds(gateway_id))
        if misses >= self.intervals.unresponsive_after:
            if kind != GatewayKind.LOCAL.value:
                self._forget_misses(gateway_id)
                await self.status.set_gateway(
                    gateway_id, GatewayStatus.UNRESPONSIVE, f"no answer to {misses} health probes"
                )
            elif self._is_busy(gateway_id) and misses < self.intervals.unresponsive_after * BUSY_GRACE:
                # Working hard (its CPU time grows) rather than hung: killing it would lose
                # every conversation in flight. A process that spins forever is still
                # restarted, after a longer grace.
                log.warning(
                    "gateway %s missed %s health probes but is busy; not restarting yet", gateway_id, misses
                )
            else:
                self._forget_misses(gateway_id)
                await self.restart_unresponsive(gateway_id, misses)
        return False

    async def restart_unresponsive(self, gateway_id: int, misses: int) -> None:
        """A hung gateway (e.g. stopped with SIGSTOP): kill it; the exit handler restarts it."""
        await self.status.set_gateway(
            gateway_id, GatewayStatus.UNRESPONSIVE, f"no answer to {misses} health probes; restarting it"
        )
        self.supervisor.kill(gateway_id)

    def _forget_misses(self, gateway_id: int) -> None:
        self._probe_failures.pop(gateway_id, None)
        self._cpu_at_first_miss.pop(gateway_id, None)

    def _cpu_seconds(self, gateway_id: int) -> float | None:
        """CPU time used so far by a local gateway's process; None if it is stopped (SIGSTOP,
        a debugger) or gone."""
        proc = self.supervisor.processes.get(gateway_id)
        if proc is None:
            return None
        try:
            ps = psutil.Process(proc.pid)
            if ps.status() in (psutil.STATUS_STOPPED, psutil.STATUS_TRACING_STOP, psutil.STATUS_ZOMBIE):
                return None
            times = ps.cpu_times()
            return float(times.user + times.system)
        except psutil.Error:
            return None

    def _is_busy(self, gateway_id: int) -> bool:
        since, before = self._cpu_at_first_miss.get(gateway_id, (0.0, None))
        now = self._cpu_seconds(gateway_id)
        if before is None or now is None:
            return False
        return now - before >= BUSY_CPU_SHARE * max(time.monotonic() - since, 1.0)

    # --- figures ---------------------------------------------------------------------------

    async def collect_metrics(self) -> None:
        await _each(
            "collecting figures", [i for i, link in self.links.items() if link.is_connected], self._metrics
        )

    async def _metrics(self, gateway_id: int) -> None:
        link = self.links.get(gateway_id)
        if link is None:
            return
        try:
            figures = await link.api.figures()
        except GatewayError:
            return
        metric = GatewayMetric(
            gateway_id=gateway_id,
            rss_bytes=figures.rss_bytes,
            heap_used_bytes=figures.heap_used_bytes,
            event_loop_utilization=figures.event_loop_utilization,
            event_loop_delay_p99_ms=figures.event_loop_delay_p99_ms,
            session_count=figures.session_count,
        )
        # The main process alone: add the helper processes from the OS for the real cost.
        tree_rss = self.supervisor.tree_rss(gateway_id)
        if tree_rss:
            metric.rss_bytes = tree_rss

        def store(s: Session) -> None:
            s.add(metric)
            gw = s.get(Gateway, gateway_id)
            if gw is not None:
                gw.last_seen_at = utcnow()
                s.add(gw)

        await self.db.run(store)
        self.bus.publish(
            Kind.GATEWAY_METRICS,
            {
                "rss_bytes": metric.rss_bytes,
                "heap_used_bytes": metric.heap_used_bytes,
                "event_loop_utilization": metric.event_loop_utilization,
                "event_loop_delay_p99_ms": metric.event_loop_delay_p99_ms,
                "session_count": metric.session_count,
            },
            gateway_id=gateway_id,
        )

    async def refresh_channels(self) -> None:
        links = [link for link in self.links.all() if link.is_connected]
        await _each("refreshing channels", links, lambda link: sync_channels(self.db, self.bus, link))

    async def mark_stale(self) -> None:
        """A running gateway not heard from for a while is marked unresponsive (remote ones
        included, which probes cannot restart)."""
        cutoff = utcnow() - timedelta(seconds=self.intervals.stale_after_s)
        stale = await self.db.run(
            lambda s: [
                g.id
                for g in s.exec(
                    select(Gateway).where(
                        Gateway.actual_status == GatewayStatus.RUNNING.value,
                        col(Gateway.last_seen_at) < cutoff,
                    )
                ).all()
                if g.id is not None
            ]
        )
        for gateway_id in stale:
            await self.status.set_gateway(
                gateway_id, GatewayStatus.UNRESPONSIVE, "no sign of life for over 3 minutes"
            )

    async def housekeeping(self) -> None:
        for gateway_id in list(self.supervisor.processes):
            paths = gateway_paths(self.settings, gateway_id)
            for path in (paths.stdout, paths.log_file):
                with contextlib.suppress(OSError):
                    if rotate_if_large(path):
                        self.on_log_rotated(gateway_id)
        cutoff = utcnow() - timedelta(days=self.intervals.metrics_keep_days)

        def prune(s: Session) -> None:
            s.exec(delete(GatewayMetric).where(col(GatewayMetric.at) < cutoff))
            s.exec(delete(LoginTicket).where(col(LoginTicket.expires_at) < utcnow() - timedelta(hours=1)))
            prune_status_changes(s, utcnow() - timedelta(days=STATUS_CHANGES_KEEP_DAYS))

        await self.db.run(prune)
