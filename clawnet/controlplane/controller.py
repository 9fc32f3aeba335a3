"""The fleet controller: assembles the control plane's parts and runs their life cycle.

The parts get only what they need (the database runner, the bus, the supervisor, the gateway
links, the status book), never this object. The controller wires what gateways say (it is the
links' listener) to session sync, chats, drift checks and the status book. It starts by adopting
gateways that outlived the previous ClawNet process, then reconciles whenever asked (`kick`) and
every 30 seconds. By default it leaves the gateways running when it stops (bots keep answering
through a restart or an upgrade; the next start adopts them, and `clawnet stop-gateways` ends
them); with CLAWNET_STOP_GATEWAYS_ON_EXIT=true it stops the gateways it runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Coroutine
from typing import Any

from clawnet.aio import wait_for
from clawnet.controlplane.alerts import AlertMonitor
from clawnet.controlplane.approvals import ApprovalSync
from clawnet.controlplane.backups import BackupScheduler
from clawnet.controlplane.budgets import BudgetEnforcer
from clawnet.controlplane.channels import sync_channels
from clawnet.controlplane.chat import ChatRouter, fail_unfinished_turns
from clawnet.controlplane.db_runner import DbRunner
from clawnet.controlplane.echo_llm import FakeLLM
from clawnet.controlplane.gateway_approvals import EVENTS as APPROVAL_EVENTS
from clawnet.controlplane.health import (
    HealthDeps,
    HealthIntervals,
    HealthMonitor,
    RestartPolicy,
    RestartSchedule,
)
from clawnet.controlplane.jobs import Jobs
from clawnet.controlplane.kicks import listen_for_kicks
from clawnet.controlplane.links import GatewayLink, GatewayLinks
from clawnet.controlplane.logs import LogTails
from clawnet.controlplane.pairing import AccessRequestSync
from clawnet.controlplane.reconciler import Reconciler, ReconcilerDeps
from clawnet.controlplane.recovery import Recovery, RecoveryDeps
from clawnet.controlplane.remote import RemoteRequests
from clawnet.controlplane.schedules import ScheduleSync
from clawnet.controlplane.sessions import SessionSync
from clawnet.controlplane.status import StatusBook
from clawnet.controlplane.supervisor import Supervisor
from clawnet.controlplane.tasks import TaskSet, stop_loops
from clawnet.enums import GatewayStatus
from clawnet.events import EventBus
from clawnet.settings import Settings

log = logging.getLogger(__name__)
LOOP_STOP_S = 10.0  # how long stop() waits for its cancelled loops
STEP_STOP_S = 30.0  # the longest any one step of stop() may take

RECONCILE_INTERVAL_S = 30.0


class FleetController:
    def __init__(
        self,
        settings: Settings,
        bus: EventBus | None = None,
        *,
        start_timeout_s: float = 120.0,
        policy: RestartPolicy | None = None,
        intervals: HealthIntervals | None = None,
        run_echo_llm: bool = True,
    ) -> None:
        self.settings = settings
        self.bus = bus or EventBus(origin=uuid.uuid4().hex)
        self.channel_settle_s = 10.0
        self.policy = policy or RestartPolicy()
        self.db = DbRunner(settings.database_url)
        self.tasks = TaskSet()
        self.status = StatusBook(self.db, self.bus)
        self.supervisor = Supervisor(settings, lambda exit_: self.recovery.on_process_exit(exit_))
        self.links = GatewayLinks(self, self.tasks)
        self.scheduler = Jobs()  # timed by the monotonic clock: an NTP step delays nothing
        self.restarts = RestartSchedule(
            self.scheduler, self.policy, lambda gid: self.reconciler.reconcile_gateway(gid)
        )
        self.chats = ChatRouter(self.db, self.bus, self.links, self.tasks)
        self.budgets = BudgetEnforcer(self.db, self.bus, self.links, self.kick)
        self.sessions = SessionSync(self.db, self.bus, self.budgets.after_message)
        self.schedules = ScheduleSync(self.db, self.bus, self.links, self.tasks)
        self.reconciler = Reconciler(
            ReconcilerDeps(
                settings=settings,
                db=self.db,
                bus=self.bus,
                supervisor=self.supervisor,
                links=self.links,
                status=self.status,
                restarts=self.restarts,
                tasks=self.tasks,
                kick=self.kick,
                fail_turns=self.chats.fail_gateway,
                start_timeout_s=start_timeout_s,
                after_applied=self.schedules.request,
            )
        )
        self.log_tails = LogTails(settings, self.bus, self.supervisor, self.links)
        self.health = HealthMonitor(
            HealthDeps(
                settings=settings,
                db=self.db,
                bus=self.bus,
                supervisor=self.supervisor,
                links=self.links,
                status=self.status,
                scheduler=self.scheduler,
                on_log_rotated=self.log_tails.reset,
            ),
            self.policy,
            intervals,
        )
        self.recovery = Recovery(
            RecoveryDeps(
                settings=settings,
                db=self.db,
                bus=self.bus,
                supervisor=self.supervisor,
                status=self.status,
                restarts=self.restarts,
                policy=self.policy,
                tasks=self.tasks,
                fail_turns=self.chats.fail_gateway,
                start_timeout_s=start_timeout_s,
            )
        )
        self.access = AccessRequestSync(settings, self.bus, self.links)
        self.approvals = ApprovalSync(self.db, self.bus, self.tasks)
        self.remote = RemoteRequests(
            self.bus,
            self.chats,
            self.links,
            self.tasks,
            ops={"forget_paired_sender": self.access.forget_paired_sender},
        )
        self.echo_llm: FakeLLM | None = (
            FakeLLM(port=settings.echo_llm_port, paused_reply=self.budgets.paused_reply)
            if run_echo_llm
            else None
        )
        self.alerts = AlertMonitor(settings, self.db, self.bus, self.links, self.tasks)
        self.backups = BackupScheduler(settings, self.db, self.bus)
        self._kick = asyncio.Event()
        self._loops: list[asyncio.Task[None]] = []
        self._stopping = False
        self.started = asyncio.Event()

    # --- life cycle ------------------------------------------------------------------------

    async def start(self) -> None:
        failed = await self.db.run(fail_unfinished_turns)
        if failed:
            log.info("marked %s unfinished chat turns as failed", failed)
        if self.echo_llm is not None:
            try:
                await self.echo_llm.start()
            except OSError as exc:
                log.warning("local echo model not started on port %s: %s", self.settings.echo_llm_port, exc)
                self.echo_llm = None
        await self.recovery.adopt_survivors()
        self.health.start()
        self.log_tails.start()
        self.access.start()
        self.approvals.start()
        self.budgets.start()
        self.alerts.start()
        self.backups.start()
        self._loops = [
            asyncio.create_task(self._reconcile_loop(), name="fleet-reconcile"),
            asyncio.create_task(
                listen_for_kicks(self.bus, self.db, self.kick, self.tasks), name="fleet-kicks"
            ),
            asyncio.create_task(self.remote.serve(), name="fleet-remote-requests"),
        ]
        self.started.set()

    async def stop(self) -> None:
        """Stop the control plane. Gateways come first (no orphan may survive a failure in a later
        step), every step runs even if an earlier one fails, and none may hold the stop longer
        than STEP_STOP_S: a step that does is named in the log and left behind."""
        self._stopping = True
        for task in self._loops:
            task.cancel()
        # No scheduled restart may start a gateway while they are being stopped.
        await self._guarded("stopping health jobs", self.health.stop())
        if self.settings.stop_gateways_on_exit:
            running = list(self.supervisor.processes)
            await self._guarded("stopping gateways", self.supervisor.stop_all())
            for gateway_id in running:
                await self._guarded(
                    "recording stopped gateways",
                    self.status.set_gateway(
                        gateway_id, GatewayStatus.STOPPED, "ClawNet stopped", clear_pid=True
                    ),
                )
        else:
            self.supervisor.release()
        await self._guarded("stopping the reconcile loops", stop_loops(self._loops, LOOP_STOP_S))
        await self._guarded("stopping log tails", self.log_tails.stop())
        await self._guarded("stopping the access request poll", self.access.stop())
        await self._guarded("stopping the approval expiry sweep", self.approvals.stop())
        await self._guarded("stopping the budget sweep", self.budgets.stop())
        await self._guarded("stopping the alert monitor", self.alerts.stop())
        await self._guarded("stopping the backup schedule", self.backups.stop())
        for gateway_id in self.links.ids():
            await self._guarded("closing gateway connections", self.links.drop(gateway_id))
        if self.echo_llm is not None:
            await self._guarded("stopping the echo model", self.echo_llm.stop())
        self.tasks.cancel_all()
        self.db.shutdown()

    @staticmethod
    async def _guarded(what: str, step: Coroutine[Any, Any, Any]) -> None:
        try:
            await wait_for(step, STEP_STOP_S)
        except TimeoutError:
            log.error("while stopping the control plane: %s took over %.0f s; going on", what, STEP_STOP_S)
        except Exception:
            log.exception("while stopping the control plane: %s failed", what)

    async def _reconcile_loop(self) -> None:
        while not self._stopping:
            try:
                await self.reconciler.reconcile_all()
            except Exception:
                log.exception("reconcile pass failed")
            with contextlib.suppress(TimeoutError):
                await wait_for(self._kick.wait(), RECONCILE_INTERVAL_S)
            self._kick.clear()

    def kick(self) -> None:
        """Reconcile soon (after a change in the database)."""
        self._kick.set()

    async def restart_gateway(self, gateway_id: int) -> None:
        """Restart a gateway now (also the way out of a crash loop): no backoff left to wait."""
        self.restarts.cancel(gateway_id)
        await self.reconciler.reconcile_gateway(gateway_id, restart=True)

    # --- what gateways say (the links' listener) ------------------------------------------

    def on_event(self, link: GatewayLink, name: str, payload: dict[str, Any]) -> None:
        if name in ("sessions.changed", "session.message"):
            self.sessions.on_event(link, name, payload)
        elif name == "chat":
            self.chats.on_chat_event(link.gateway_id, payload)
        elif name == "config.changed":
            self.tasks.spawn(
                self.reconciler.drift.on_config_changed(link.gateway_id, str(payload.get("hash") or "")),
                f"config-changed-{link.gateway_id}",
            )
        elif name == "cron":
            self.schedules.on_event(link.gateway_id, payload)
        elif name in APPROVAL_EVENTS:
            self.approvals.on_event(link, name, payload)
        elif name in ("tick", "health"):
            self.status.note_alive(link.gateway_id)

    async def on_connected(self, link: GatewayLink) -> None:
        self.access.forget(link.gateway_id)
        # A new connection may be a new process (a remote gateway redeployed with a fresh
        # workspace): its custom skills are checked again on the next pass.
        self.reconciler.skills.forget(link.gateway_id)
        await link.api.subscribe_sessions()
        await self.reconciler.drift.check_remote_hash(link.gateway_id, await link.api.config_hash())
        self.status.note_alive(link.gateway_id, force=True)
        self.tasks.spawn(self.sessions.backfill(link), f"backfill-{link.gateway_id}")
        self.tasks.spawn(self._settle_channels(link), f"channels-{link.gateway_id}")
        self.schedules.request(link.gateway_id)
        self.tasks.spawn(self.approvals.on_connected(link), f"approvals-{link.gateway_id}")

    async def _settle_channels(self, link: GatewayLink) -> None:
        """Once channels had time to connect, record their status and start any that the
        gateway left stopped (its restart-loop breaker does that after repeated crashes)."""
        await asyncio.sleep(self.channel_settle_s)
        if link.is_connected:
            await sync_channels(self.db, self.bus, link)

    async def on_disconnected(self, link: GatewayLink, code: int, reason: str) -> None:
        self.chats.fail_gateway(link.gateway_id, "The gateway stopped while answering.")
