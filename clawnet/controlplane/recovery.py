"""Recovering from crashes: a gateway process that exited on its own, and gateways that outlived
the previous ClawNet process.

A crash is published at once (dashboards hear it before any database work), the unfinished
turns of the gateway fail, and the gateway restarts after the backoff of its failure count, or
stops in the crash-loop state. On start, gateways still running from before are adopted (same
process, answering with their token); the rest are marked stopped so the reconciler starts them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session, col, select

from clawnet.controlplane.db_runner import DbRunner
from clawnet.controlplane.health import RestartPolicy, RestartSchedule
from clawnet.controlplane.paths import gateway_paths
from clawnet.controlplane.protocol import GatewayConnection, GatewayError
from clawnet.controlplane.status import StatusBook
from clawnet.controlplane.supervisor import GatewayStartError, ProcessExit, Supervisor, explain_exit
from clawnet.controlplane.tasks import TaskSet
from clawnet.enums import BotStatus, GatewayKind, GatewayStatus
from clawnet.events import EventBus, Kind
from clawnet.models import Bot, Gateway, utcnow
from clawnet.security.secret_fields import GATEWAY_TOKEN
from clawnet.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class RecoveryDeps:
    settings: Settings
    db: DbRunner
    bus: EventBus
    supervisor: Supervisor
    status: StatusBook
    restarts: RestartSchedule
    policy: RestartPolicy
    tasks: TaskSet
    fail_turns: Callable[[int, str], None]
    start_timeout_s: float = 120.0


class Recovery:
    def __init__(self, deps: RecoveryDeps) -> None:
        self.d = deps

    # --- crashes ---------------------------------------------------------------------------

    def on_process_exit(self, event: ProcessExit) -> None:
        if event.expected:
            return
        bus = self.d.bus
        # Publish first: a dashboard hears about a crash before any database work.
        bus.publish(
            Kind.GATEWAY_EXITED,
            {"exit_code": event.exit_code, "pid": event.pid, "uptime_s": round(event.uptime_s, 1)},
            gateway_id=event.gateway_id,
        )
        self.d.fail_turns(event.gateway_id, "The gateway stopped while answering.")
        self.d.tasks.spawn(self._after_crash(event), f"after-crash-{event.gateway_id}")

    async def _after_crash(self, event: ProcessExit) -> None:
        gid = event.gateway_id
        message = explain_exit(event.exit_code, gateway_paths(self.d.settings, gid).stdout)
        fast = event.uptime_s < self.d.policy.fast_failure_s

        def record(s: Session) -> tuple[int, list[int]]:
            gw = s.get(Gateway, gid)
            if gw is None:
                return 0, []
            gw.consecutive_failures = gw.consecutive_failures + 1 if fast else 1
            gw.restart_count += 1
            gw.last_exit_at = utcnow()
            gw.last_exit_code = event.exit_code
            gw.pid = None
            gw.pid_started_at = None
            gw.last_error = message[:2000]
            s.add(gw)
            bots = s.exec(select(Bot.id).where(Bot.gateway_id == gid)).all()
            return gw.consecutive_failures, [b for b in bots if b is not None]

        failures, bot_ids = await self.d.db.run(record)
        if self.d.policy.is_crash_loop(failures):
            detail = f"crashed {failures} times in a row within a minute of starting; not restarting. Last: {message}"
            await self.d.status.set_gateway(
                gid, GatewayStatus.CRASH_LOOP, detail, bots=bot_ids, bot_status=BotStatus.ERROR
            )
            self.d.bus.publish(Kind.ERROR, {"message": detail, "where": "supervisor"}, gateway_id=gid)
            return
        delay = self.d.restarts.schedule(gid, failures)
        await self.d.status.set_gateway(
            gid,
            GatewayStatus.RESTARTING,
            f"{message} Restarting in {delay:.0f} s.",
            bots=bot_ids,
            bot_status=BotStatus.ERROR,
        )

    # --- adoption ---------------------------------------------------------------------------

    async def adopt_survivors(self) -> None:
        """Gateways started by a previous ClawNet process: adopt the ones still running (same
        process, answering with their token), forget the rest so the reconciler starts them."""
        rows = await self.d.db.run(
            lambda s: [
                (g.id or 0, g.pid, g.pid_started_at, g.base_port, GATEWAY_TOKEN.unseal(g.token_enc))
                for g in s.exec(
                    select(Gateway).where(
                        Gateway.kind == GatewayKind.LOCAL.value, col(Gateway.pid).is_not(None)
                    )
                ).all()
            ]
        )
        await asyncio.gather(*(self._adopt_one(*row) for row in rows))
        # A gateway spawned just before a crash, whose PID never reached the database, would
        # otherwise run twice (and hold its port): end it; the reconciler starts it properly.
        await self.d.supervisor.kill_strays()

    async def _adopt_one(
        self, gateway_id: int, pid: int | None, started_at: float | None, port: int | None, token: str
    ) -> None:
        supervisor = self.d.supervisor
        proc = supervisor.adopt(gateway_id, pid, started_at, port) if port and pid else None
        if proc is not None:
            try:
                # Both wall-clock times: after an NTP step the age is clamped to a start's length.
                age = min(max(0.0, time.time() - proc.create_time), self.d.start_timeout_s)
                if age < self.d.start_timeout_s:  # maybe still starting: give it the rest of a start
                    await supervisor.wait_ready(proc, token, timeout=max(5.0, self.d.start_timeout_s - age))
                conn = await GatewayConnection.open(f"ws://127.0.0.1:{port}", token, timeout=15)
                await conn.close()
                log.info("adopted gateway %s (pid %s)", gateway_id, pid)
                await self.d.status.set_gateway(gateway_id, GatewayStatus.RUNNING, "adopted", announce=True)
                return
            except (GatewayError, GatewayStartError) as exc:
                log.warning("gateway %s (pid %s) does not answer (%s): stopping it", gateway_id, pid, exc)
                await supervisor.stop(gateway_id, grace_s=2)
        await self.d.status.set_gateway(
            gateway_id, GatewayStatus.STOPPED, "not running after ClawNet restarted", clear_pid=True
        )


# --- ending gateways a stopped ClawNet left running ---------------------------------------------


async def stop_left_running(settings: Settings, grace_s: float = 10.0) -> list[int]:
    """`clawnet stop-gateways`: end this installation's local gateways that a stopped ClawNet
    left running (SIGTERM to each process group, SIGKILL after `grace_s`), strays included, and
    record them stopped. Returns the PIDs ended. Refuses while ClawNet runs on this installation
    (its control plane would start them again at once)."""
    from clawnet.controlplane.leader import ControllerLock
    from clawnet.db import session_scope

    lock = ControllerLock(settings)
    if not lock.try_acquire():
        raise GatewayStartError(
            "ClawNet is running on this installation: stop it first (its control plane restarts "
            "gateways that stop)."
        )
    try:
        supervisor = Supervisor(settings, on_exit=lambda _exit: None)
        with session_scope() as s:
            rows = [
                (g.id or 0, g.pid, g.pid_started_at, g.base_port)
                for g in s.exec(
                    select(Gateway).where(
                        Gateway.kind == GatewayKind.LOCAL.value, col(Gateway.pid).is_not(None)
                    )
                ).all()
            ]
        for gateway_id, pid, started_at, port in rows:
            if pid:
                supervisor.adopt(gateway_id, pid, started_at, port or 0)
        ended = [proc.pid for proc in supervisor.processes.values()]
        await supervisor.stop_all(grace_s)
        ended += await supervisor.kill_strays()
        with session_scope() as s:
            for gateway in s.exec(select(Gateway).where(col(Gateway.id).in_([r[0] for r in rows]))).all():
                gateway.pid, gateway.pid_started_at = None, None
                gateway.actual_status = GatewayStatus.STOPPED.value
                gateway.status_detail = "stopped with `clawnet stop-gateways`"
                s.add(gateway)
        return ended
    finally:
        lock.release()
