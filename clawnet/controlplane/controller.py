"""The fleet controller: one object that runs the control plane in a process.

It owns the supervisor (local processes), one `GatewayLink` (protocol connection) per gateway,
the reconciler, session sync, chat router, health jobs, log tails and the built-in echo model.
It starts by adopting gateways that outlived the previous ClawNet process, then reconciles
whenever asked (`kick`) and every 30 seconds. It stops without leaving orphans: by default it
stops the gateways it runs; with CLAWNET_STOP_GATEWAYS_ON_EXIT=false it leaves them running
for the next start to adopt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Coroutine
from typing import Any

import psutil
from sqlmodel import Session, col, select

from clawnet.controlplane.channels import sync_channels
from clawnet.controlplane.db_runner import DbRunner
from clawnet.controlplane.echo_llm import FakeLLM
from clawnet.controlplane.health import HealthIntervals, HealthMonitor, RestartPolicy
from clawnet.controlplane.kicks import read_kick
from clawnet.controlplane.logs import LogTails
from clawnet.controlplane.protocol import GatewayClient, GatewayConnection, GatewayError
from clawnet.controlplane.reconciler import GatewayPlan, Reconciler
from clawnet.controlplane.sessions import ChatError, ChatRouter, SessionSync, fail_unfinished_turns
from clawnet.controlplane.supervisor import (
    GatewayStartError,
    ProcessExit,
    Supervisor,
    explain_exit,
    gateway_paths,
)
from clawnet.events.bus import EventBus, FleetEvent, Kind
from clawnet.models import Bot, Gateway, utcnow
from clawnet.models.enums import BotStatus, GatewayKind, GatewayStatus
from clawnet.security.secret_fields import GATEWAY_TOKEN
from clawnet.settings import Settings

log = logging.getLogger(__name__)

RECONCILE_INTERVAL_S = 30.0
KICK_POLL_S = 0.5  # how often a controller in its own process looks for kicks from web workers


class GatewayLink:
    """The protocol connection to one gateway, and where its events go."""

    def __init__(self, controller: FleetController, plan: GatewayPlan) -> None:
        self.ctl = controller
        self.gateway_id = plan.gateway_id
        self.agent_bots: dict[str, int] = dict(plan.agent_bots)
        self.token = plan.token
        self.url = plan.ws_url
        self.client = GatewayClient(
            self.url,
            lambda: self.token,
            name=f"gateway-{plan.gateway_id}",
            on_event=self._on_event,
            on_connected=self._on_connected,
            on_disconnected=self._on_disconnected,
        )
        self.client.start()

    def update(self, plan: GatewayPlan) -> None:
        self.agent_bots = dict(plan.agent_bots)
        self.token = plan.token

    def _on_event(self, name: str, payload: dict[str, Any], _seq: int | None) -> None:
        if name in ("sessions.changed", "session.message"):
            self.ctl.sessions.on_event(self, name, payload)
        elif name == "chat":
            self.ctl.chats.on_chat_event(self.gateway_id, payload)
        elif name == "config.changed":
            self.ctl.spawn(
                self.ctl.reconciler.on_config_changed(self.gateway_id, str(payload.get("hash") or "")),
                f"config-changed-{self.gateway_id}",
            )
        elif name in ("tick", "health"):
            self.ctl.note_alive(self.gateway_id)

    async def _on_connected(self, conn: GatewayConnection) -> None:
        await conn.call("sessions.subscribe", {}, timeout=15)
        remote_hash = str((await conn.call("config.get", {}, timeout=15)).get("hash") or "")
        if self.gateway_id not in self.ctl.reconciler.applying:
            await self.ctl.check_remote_hash(self.gateway_id, remote_hash)
        self.ctl.note_alive(self.gateway_id, force=True)
        self.ctl.spawn(self.ctl.sessions.backfill(self), f"backfill-{self.gateway_id}")
        self.ctl.spawn(self._settle_channels(), f"channels-{self.gateway_id}")

    async def _settle_channels(self) -> None:
        """Once channels had time to connect, record their status and start any that the
        gateway left stopped (its restart-loop breaker does that after repeated crashes)."""
        await asyncio.sleep(self.ctl.channel_settle_s)
        if self.client.is_connected:
            await sync_channels(self.ctl, self)

    async def _on_disconnected(self, code: int, reason: str) -> None:
        self.ctl.chats.fail_gateway(self.gateway_id, "The gateway stopped while answering.")

    async def close(self) -> None:
        await self.client.stop()


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
        self.start_timeout_s = start_timeout_s
        self.channel_settle_s = 10.0
        self.db = DbRunner(settings.database_url)
        self.supervisor = Supervisor(settings, self._on_process_exit)
        self.links: dict[int, GatewayLink] = {}
        self.reconciler = Reconciler(self)
        self.sessions = SessionSync(self)
        self.chats = ChatRouter(self)
        self.health = HealthMonitor(self, policy, intervals)
        self.log_tails = LogTails(self)
        self.echo_llm: FakeLLM | None = FakeLLM(port=settings.echo_llm_port) if run_echo_llm else None
        self._kick = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._kick_task: asyncio.Task[None] | None = None
        self._chat_task: asyncio.Task[None] | None = None
        self._last_touch: dict[int, float] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self.started = asyncio.Event()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run `coro` in the background, keeping a reference until it ends (and logging a failure)."""
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self._tasks.discard(t)
            if not t.cancelled() and t.exception() is not None:
                log.error("background task %s failed: %r", name, t.exception())

        task.add_done_callback(done)
        return task

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
        await self._adopt_survivors()
        self.health.start()
        self.log_tails.start()
        self._loop_task = asyncio.create_task(self._reconcile_loop(), name="fleet-reconcile")
        self._kick_task = asyncio.create_task(self._listen_for_kicks(), name="fleet-kicks")
        self._chat_task = asyncio.create_task(self._serve_remote_chats(), name="fleet-remote-chats")
        self.started.set()

    async def stop(self) -> None:
        """Stop the control plane. Gateways come first (no orphan may survive a failure in a later
        step), and every step runs even if an earlier one fails."""
        for task in (self._loop_task, self._kick_task, self._chat_task):
            if task is not None:
                task.cancel()
        # No scheduled restart may start a gateway while they are being stopped.
        await self._guarded("stopping health jobs", self.health.stop())
        if self.settings.stop_gateways_on_exit:
            running = list(self.supervisor.processes)
            await self._guarded("stopping gateways", self.supervisor.stop_all())
            for gateway_id in running:
                await self._guarded(
                    "recording stopped gateways",
                    self.set_gateway_status(
                        gateway_id, GatewayStatus.STOPPED, "ClawNet stopped", clear_pid=True
                    ),
                )
        else:
            self.supervisor.release()
        for task in (self._loop_task, self._kick_task, self._chat_task):
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        await self._guarded("stopping log tails", self.log_tails.stop())
        for gateway_id in list(self.links):
            await self._guarded("closing gateway connections", self.drop_link(gateway_id))
        if self.echo_llm is not None:
            await self._guarded("stopping the echo model", self.echo_llm.stop())
        for task in list(self._tasks):
            task.cancel()
        self.db.shutdown()

    @staticmethod
    async def _guarded(what: str, step: Coroutine[Any, Any, Any]) -> None:
        try:
            await step
        except Exception:
            log.exception("while stopping the control plane: %s failed", what)

    async def _adopt_survivors(self) -> None:
        """Gateways started by a previous ClawNet process: adopt the ones still running (same
        process, answering with their token), forget the rest so the reconciler starts them."""
        rows = await self.db.run(
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
        await self.supervisor.kill_strays()

    async def _adopt_one(
        self, gateway_id: int, pid: int | None, started_at: float | None, port: int | None, token: str
    ) -> None:
        proc = self.supervisor.adopt(gateway_id, pid, started_at, port) if port and pid else None
        if proc is not None:
            try:
                age = time.time() - proc.create_time
                if age < self.start_timeout_s:  # maybe still starting: give it the rest of a start
                    await self.supervisor.wait_ready(
                        proc, token, timeout=max(5.0, self.start_timeout_s - age)
                    )
                conn = await GatewayConnection.open(f"ws://127.0.0.1:{port}", token, timeout=15)
                await conn.close()
                log.info("adopted gateway %s (pid %s)", gateway_id, pid)
                self.bus.publish(
                    Kind.GATEWAY_STATUS,
                    {"status": GatewayStatus.RUNNING.value, "detail": "adopted", "pid": pid},
                    gateway_id=gateway_id,
                )
                return
            except (GatewayError, GatewayStartError) as exc:
                log.warning("gateway %s (pid %s) does not answer (%s): stopping it", gateway_id, pid, exc)
                await self.supervisor.stop(gateway_id, grace_s=2)
        await self.set_gateway_status(
            gateway_id, GatewayStatus.STOPPED, "not running after ClawNet restarted", clear_pid=True
        )

    async def _reconcile_loop(self) -> None:
        while True:
            try:
                await self.reconciler.reconcile_all()
            except Exception:
                log.exception("reconcile pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._kick.wait(), RECONCILE_INTERVAL_S)
            self._kick.clear()

    async def _listen_for_kicks(self) -> None:
        self.spawn(self._poll_database_kicks(), "fleet-db-kicks")
        with self.bus.subscribe([Kind.FLEET_KICK]) as kicks:
            async for _ in kicks:
                self._kick.set()

    async def _serve_remote_chats(self) -> None:
        """Chats and channel-action gateway calls asked for by web workers without the control
        plane (`remote_chat`)."""
        with self.bus.subscribe([Kind.CHAT_REQUEST, Kind.GATEWAY_CALL]) as requests:
            async for request in requests:
                if request.kind == Kind.CHAT_REQUEST:
                    self.spawn(self._answer_chat(request), "remote-chat")
                else:
                    self.spawn(self._answer_gateway_call(request), "remote-gateway-call")

    async def _answer_gateway_call(self, request: FleetEvent) -> None:
        from clawnet.controlplane.remote import REMOTE_METHODS

        p = request.payload
        reply: dict[str, Any] = {"request_id": p.get("request_id")}
        method = str(p.get("method") or "")
        link = self.links.get(request.gateway_id or 0)
        if method not in REMOTE_METHODS:
            reply |= {"code": "FORBIDDEN", "message": f"{method} cannot be called from another process"}
        elif link is None or not link.client.is_connected:
            reply |= {"code": "UNAVAILABLE", "message": "the gateway is not connected"}
        else:
            try:
                reply["answer"] = await link.client.call(
                    method, dict(p.get("params") or {}), timeout=float(p.get("timeout") or 30)
                )
            except GatewayError as exc:
                reply |= {"code": exc.code, "message": exc.message}
        self.bus.publish(Kind.GATEWAY_CALL_RESULT, reply, gateway_id=request.gateway_id)

    async def _answer_chat(self, request: FleetEvent) -> None:
        p = request.payload
        bot_id = request.bot_id or 0
        try:
            turn = await self.chats.send(
                bot_id,
                str(p.get("text") or ""),
                user_id=int(p.get("user_id") or 0),
                session_key=p.get("session_key") or None,
                timeout_s=float(p["timeout_s"]) if p.get("timeout_s") else None,
            )
        except ChatError as exc:
            self.bus.publish(
                Kind.CHAT_REJECTED, {"request_id": p.get("request_id"), "error": str(exc)}, bot_id=bot_id
            )
            return
        self.bus.publish(
            Kind.CHAT_ACCEPTED,
            {
                "request_id": p.get("request_id"),
                "turn_id": turn.turn_id,
                "gateway_id": turn.gateway_id,
                "session_key": turn.session_key,
            },
            bot_id=bot_id,
        )

    async def _poll_database_kicks(self) -> None:
        """Kicks from processes without the controller (other web workers, or all of them when it
        runs as `clawnet controller`) also arrive through the database (`kicks.read_kick`), so
        a change is applied within a second even without Redis."""
        seen = await self.db.run(read_kick)
        while True:
            await asyncio.sleep(KICK_POLL_S)
            try:
                current = await self.db.run(read_kick)
            except Exception as exc:  # a locked or unavailable database: try again next time
                log.debug("reading the kick flag failed: %s", exc)
                continue
            if current != seen:
                seen = current
                self._kick.set()

    def kick(self) -> None:
        """Reconcile soon (after a change in the database)."""
        self._kick.set()

    # --- links -----------------------------------------------------------------------------

    def ensure_link(self, plan: GatewayPlan) -> GatewayLink:
        link = self.links.get(plan.gateway_id)
        if link is not None and link.url != plan.ws_url:
            self.spawn(link.close(), f"close-link-{plan.gateway_id}")
            link = None
        if link is None:
            link = self.links[plan.gateway_id] = GatewayLink(self, plan)
        else:
            link.update(plan)
        return link

    async def drop_link(self, gateway_id: int) -> None:
        link = self.links.pop(gateway_id, None)
        if link is not None:
            await link.close()

    # --- process exits ---------------------------------------------------------------------

    def _on_process_exit(self, event: ProcessExit) -> None:
        if event.expected:
            return
        # Publish first: a dashboard hears about a crash before any database work.
        self.bus.publish(
            Kind.GATEWAY_EXITED,
            {"exit_code": event.exit_code, "pid": event.pid, "uptime_s": round(event.uptime_s, 1)},
            gateway_id=event.gateway_id,
        )
        self.bus.publish(
            Kind.GATEWAY_STATUS,
            {"status": GatewayStatus.RESTARTING.value, "detail": "the gateway process exited"},
            gateway_id=event.gateway_id,
        )
        self.chats.fail_gateway(event.gateway_id, "The gateway stopped while answering.")
        self.spawn(self._after_crash(event), f"after-crash-{event.gateway_id}")

    async def _after_crash(self, event: ProcessExit) -> None:
        gid = event.gateway_id
        message = explain_exit(event.exit_code, gateway_paths(self.settings, gid).stdout)
        fast = event.uptime_s < self.health.policy.fast_failure_s

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

        failures, bot_ids = await self.db.run(record)
        if self.health.policy.is_crash_loop(failures):
            detail = f"crashed {failures} times in a row within a minute of starting; not restarting. Last: {message}"
            await self.set_gateway_status(
                gid, GatewayStatus.CRASH_LOOP, detail, bots=bot_ids, bot_status=BotStatus.ERROR
            )
            self.bus.publish(Kind.ERROR, {"message": detail, "where": "supervisor"}, gateway_id=gid)
            return
        delay = self.health.schedule_restart(gid, failures)
        await self.set_gateway_status(
            gid,
            GatewayStatus.RESTARTING,
            f"{message} Restarting in {delay:.0f} s.",
            bots=bot_ids,
            bot_status=BotStatus.ERROR,
        )

    async def restart_unresponsive(self, gateway_id: int, misses: int) -> None:
        """A hung gateway (e.g. stopped with SIGSTOP): kill it; the exit handler restarts it."""
        await self.set_gateway_status(
            gateway_id, GatewayStatus.UNRESPONSIVE, f"no answer to {misses} health probes; restarting it"
        )
        proc = self.supervisor.processes.get(gateway_id)
        if proc is not None:
            import os
            import signal

            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)

    # --- database helpers (each runs on the DB thread) --------------------------------------

    async def set_gateway_status(
        self,
        gateway_id: int,
        status: GatewayStatus,
        detail: str,
        *,
        bots: list[int] | None = None,
        bot_status: BotStatus | None = None,
        clear_pid: bool = False,
    ) -> None:
        def update(s: Session) -> bool:
            gw = s.get(Gateway, gateway_id)
            if gw is None:
                return False
            changed = gw.actual_status != status.value or gw.status_detail != detail[:500]
            gw.actual_status = status.value
            gw.status_detail = detail[:500]
            if status in (GatewayStatus.ERROR, GatewayStatus.CRASH_LOOP):
                gw.last_error = detail[:2000]
            if clear_pid:
                gw.pid = None
                gw.pid_started_at = None
            gw.updated_at = utcnow()
            s.add(gw)
            return changed

        if await self.db.run(update):
            self.bus.publish(
                Kind.GATEWAY_STATUS, {"status": status.value, "detail": detail}, gateway_id=gateway_id
            )
        if bots and bot_status is not None:
            await self.set_bot_statuses(bots, bot_status, detail if bot_status is BotStatus.ERROR else "")

    async def set_bot_statuses(self, bot_ids: list[int], status: BotStatus, error: str) -> None:
        if not bot_ids:
            return

        def update(s: Session) -> list[tuple[int, int | None]]:
            changed = []
            for bot in s.exec(select(Bot).where(col(Bot.id).in_(bot_ids))).all():
                if bot.actual_status != status.value or bot.last_error != error[:2000]:
                    bot.actual_status = status.value
                    bot.last_error = error[:2000]
                    bot.updated_at = utcnow()
                    s.add(bot)
                    assert bot.id is not None
                    changed.append((bot.id, bot.gateway_id))
            return changed

        for bot_id, gateway_id in await self.db.run(update):
            self.bus.publish(
                Kind.BOT_STATUS,
                {"status": status.value, "error": error},
                bot_id=bot_id,
                gateway_id=gateway_id,
            )

    async def record_failure(self, gateway_id: int, message: str) -> int:
        def update(s: Session) -> int:
            gw = s.get(Gateway, gateway_id)
            if gw is None:
                return 0
            gw.consecutive_failures += 1
            gw.last_error = message[:2000]
            s.add(gw)
            return gw.consecutive_failures

        return await self.db.run(update)

    async def record_error(self, gateway_id: int, message: str) -> None:
        def update(s: Session) -> None:
            gw = s.get(Gateway, gateway_id)
            if gw is not None:
                gw.last_error = message[:2000]
                s.add(gw)

        await self.db.run(update)

    async def reset_failures(self, gateway_id: int) -> None:
        def update(s: Session) -> None:
            gw = s.get(Gateway, gateway_id)
            if gw is not None:
                gw.consecutive_failures = 0
                s.add(gw)

        await self.db.run(update)

    def note_alive(self, gateway_id: int, *, force: bool = False) -> None:
        """Record that a gateway spoke (at most once every 20 s per gateway)."""
        now = asyncio.get_running_loop().time()
        if not force and now - self._last_touch.get(gateway_id, 0) < 20:
            return
        self._last_touch[gateway_id] = now
        self.db.submit(lambda s: self._touch(s, gateway_id))

    async def touch_gateway(self, gateway_id: int) -> None:
        await self.db.run(lambda s: self._touch(s, gateway_id))

    @staticmethod
    def _touch(s: Session, gateway_id: int) -> None:
        gw = s.get(Gateway, gateway_id)
        if gw is not None:
            gw.last_seen_at = utcnow()
            s.add(gw)

    async def check_remote_hash(self, gateway_id: int, remote_hash: str) -> None:
        """On (re)connect: remember the gateway's config hash, or notice it drifted meanwhile."""
        stored = await self.db.run(
            lambda s: (
                s.get(Gateway, gateway_id).remote_config_hash  # type: ignore[union-attr]
                if s.get(Gateway, gateway_id)
                else None
            )
        )
        if stored is None or not remote_hash:
            return
        if not stored:

            def remember(s: Session) -> None:
                gw = s.get(Gateway, gateway_id)
                if gw is not None:
                    gw.remote_config_hash = remote_hash
                    s.add(gw)

            await self.db.run(remember)
        elif stored != remote_hash:
            await self.reconciler.on_config_changed(gateway_id, remote_hash)

    def process_tree_rss(self, gateway_id: int) -> int:
        """RSS of a local gateway's whole process group (main process and helpers)."""
        proc = self.supervisor.processes.get(gateway_id)
        if proc is None:
            return 0
        total = 0
        with contextlib.suppress(psutil.Error):
            main = psutil.Process(proc.pid)
            for p in [main, *main.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += p.memory_info().rss
        return total
