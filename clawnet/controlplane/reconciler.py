"""Desired state (the database) vs reality (processes, gateway configs): make them match.

For each gateway, `plan.load_plan` reads what should run and builds the config. The reconciler
then starts, stops or hot-patches the gateway:
- a local gateway that should run and does not: persona files and config written, process
  spawned, ready checked;
- one that runs with an outdated config: a merge patch (`config.patch`) plus `agents.delete`
  (keeping the bot's files) for removed bots: no restart, no lost data;
- one with no running bot left: stopped (OpenClaw refuses a config without agents).
It records the applied version and hash, notices drift (a `config.changed` it did not cause),
and says what it did on the event bus. A pass that fails for one gateway is logged and said on
that gateway's status in plain words; the next pass retries it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from sqlmodel import Session, select

from clawnet.aio import wait_for
from clawnet.controlplane import openclaw_config as oc
from clawnet.controlplane.agent_files import (
    prepare_agent_files,
    purge_deleted_bot_data,
    record_tombstone,
    unlink_agent_state,
)
from clawnet.controlplane.config_guard import ConfigFileGuard
from clawnet.controlplane.db_runner import DbRunner
from clawnet.controlplane.drift import DriftWatch
from clawnet.controlplane.links import GatewayLink, GatewayLinks
from clawnet.controlplane.paths import gateway_paths
from clawnet.controlplane.persona import workspace_files
from clawnet.controlplane.plan import GatewayPlan, load_plan
from clawnet.controlplane.plugins import PluginsUnavailable, ensure_installed, plugins_in
from clawnet.controlplane.ports import move_port
from clawnet.controlplane.protocol import GatewayError
from clawnet.controlplane.skill_sync import SkillSync, uploads_allowed
from clawnet.controlplane.spares import RELOAD_WARMUP_AGENT, WARMUP_AGENT, keep_spares, warm_up_turn
from clawnet.controlplane.status import StatusBook
from clawnet.controlplane.supervisor import EXIT_CONFIG_INVALID, GatewayStartError, PortInUseError, Supervisor
from clawnet.controlplane.tasks import TaskSet
from clawnet.enums import BotStatus, GatewayStatus
from clawnet.events import EventBus, Kind
from clawnet.files import write_file_atomically
from clawnet.models import Gateway, utcnow
from clawnet.settings import Settings

log = logging.getLogger(__name__)


class RestartQueue(Protocol):
    """Restarts after a crash, waiting out the backoff (`health.RestartSchedule`)."""

    def pending(self, gateway_id: int) -> bool: ...

    def schedule(self, gateway_id: int, consecutive_failures: int) -> float: ...


@dataclass
class ReconcilerDeps:
    settings: Settings
    db: DbRunner
    bus: EventBus
    supervisor: Supervisor
    links: GatewayLinks
    status: StatusBook
    restarts: RestartQueue
    tasks: TaskSet
    kick: Callable[[], None]
    fail_turns: Callable[[int, str], None]  # end the unfinished chat turns of a gateway
    start_timeout_s: float = 120.0
    after_applied: Callable[[int], None] = lambda gateway_id: None  # e.g. re-apply schedules


class Reconciler:
    def __init__(self, deps: ReconcilerDeps) -> None:
        self.settings = deps.settings
        self.db = deps.db
        self.bus = deps.bus
        self.supervisor = deps.supervisor
        self.links = deps.links
        self.status = deps.status
        self.restarts = deps.restarts
        self.tasks = deps.tasks
        self.kick = deps.kick
        self.fail_turns = deps.fail_turns
        self.start_timeout_s = deps.start_timeout_s
        self.after_applied = deps.after_applied
        self._locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        # Configs OpenClaw refused (config hash -> the reason), per gateway and per way of applying
        # them: they are not retried until the desired config changes.
        self._refused_start: dict[int, tuple[str, str]] = {}
        self._refused_hot: dict[int, tuple[str, str]] = {}
        self.applying: set[int] = set()
        self.warming: set[int] = set()  # spares in their warm-up turn: no config change meanwhile
        self.config_files = ConfigFileGuard(self.settings, self.bus, self.tasks, self.kick)
        self.drift = DriftWatch(self.db, self.bus, self.kick, self.applying)
        self.skills = SkillSync(self.db, self.bus)  # custom skills, installed through the gateway

    async def reconcile_all(self) -> None:
        await self.db.run(lambda s: keep_spares(s, self.settings))
        ids = await self.db.run(lambda s: [g for g in s.exec(select(Gateway.id)).all() if g is not None])
        known = set(ids)
        for gid in list(self.supervisor.processes):
            if gid not in known:  # the gateway row is gone: its process goes too
                await self.supervisor.stop(gid)
        for gid in self.links.ids():
            if gid not in known:
                await self.links.drop(gid)
        results = await asyncio.gather(*(self.reconcile_gateway(gid) for gid in ids), return_exceptions=True)
        for gid, result in zip(ids, results, strict=True):
            if isinstance(result, BaseException):
                await self._pass_failed(gid, result)
        purged = await self.db.run(lambda s: purge_deleted_bot_data(self.settings, s))
        for agent_id in purged:
            log.info("deleted the data of bot %s, as asked", agent_id)

    async def _pass_failed(self, gateway_id: int, exc: BaseException) -> None:
        """A pass that failed is not silent: logged, and said on the gateway's status. The next
        pass (at most 30 s later) tries again."""
        log.error("gateway %s: reconciling failed: %r", gateway_id, exc, exc_info=exc)
        reason = str(exc) or type(exc).__name__
        with contextlib.suppress(Exception):  # the database itself may be what failed
            await self.status.record_error(
                gateway_id,
                f"ClawNet could not bring this gateway up to date: {reason}. It tries again shortly.",
            )

    async def reconcile_gateway(self, gateway_id: int, *, restart: bool = False) -> None:
        async with self._locks[gateway_id]:
            try:
                plan = await self.db.run(lambda s: load_plan(s, self.settings, gateway_id))
            except Exception as exc:
                log.exception("gateway %s: cannot build its plan", gateway_id)
                await self.status.set_gateway(
                    gateway_id, GatewayStatus.ERROR, f"Cannot build the configuration: {exc}"
                )
                return
            if plan is None:
                return
            if restart and plan.is_local and self.supervisor.processes.get(gateway_id) is not None:
                await self._stop(plan, reason="restart requested")
                plan.actual_status = GatewayStatus.STOPPED.value
            if plan.is_local:
                await self._reconcile_local(plan)
            else:
                await self._reconcile_remote(plan)

    # --- local ---------------------------------------------------------------------------

    async def _reconcile_local(self, plan: GatewayPlan) -> None:
        proc = self.supervisor.processes.get(plan.gateway_id)
        alive = proc is not None and proc.alive
        should_run = (
            plan.desired_running
            and plan.config is not None
            and plan.actual_status != GatewayStatus.CRASH_LOOP.value
        )
        if not should_run:
            if alive:
                await self._stop(plan, reason="no bot should run here")
            else:
                await self._settle_stopped(plan)
            return
        if not alive:
            if self.restarts.pending(plan.gateway_id):
                return  # waiting out the backoff after a crash
            refused = self._refused_start.get(plan.gateway_id)
            if refused is not None and refused[0] == plan.config_hash:
                # The same config was refused; say so and wait for a change.
                await self.status.set_bots(plan.running_bot_ids, BotStatus.ERROR, refused[1])
                return
            await self._start(plan)
            return
        if plan.gateway_id not in self.applying:
            self.config_files.check(plan)
        self.links.ensure(plan.target)
        if plan.config_hash != plan.applied_hash and not (plan.spare and plan.gateway_id in self.warming):
            await self._apply_hot(plan)
        else:
            await self._settle_running(plan)
        await self._sync_skills(plan)

    async def _sync_skills(self, plan: GatewayPlan) -> None:
        link = self.links.connected(plan.gateway_id)
        if link is None or not uploads_allowed(plan.config):
            return
        try:
            running = {a: b for a, b in plan.agent_bots.items() if b in plan.running_bot_ids}
            await self.skills.sync(plan.gateway_id, link.api, running)
        except GatewayError as exc:  # said again on the next pass
            log.warning("gateway %s: custom skills not installed yet: %s", plan.gateway_id, exc)

    async def _start(self, plan: GatewayPlan) -> None:
        assert plan.config is not None and plan.port is not None
        gid = plan.gateway_id
        self.skills.forget(gid)
        paths = gateway_paths(self.settings, gid)
        paths.create()
        prepare_agent_files(self.settings, plan.gateway_id, plan.agents)
        write_file_atomically(paths.config, oc.render(plan.config), mode=0o600)
        await self.status.set_gateway(
            gid,
            GatewayStatus.STARTING,
            "starting the gateway process",
            bots=plan.running_bot_ids,
            bot_status=BotStatus.STARTING,
        )
        try:
            # Channel plugins load only with an install record in the gateway's own state.
            await asyncio.to_thread(
                ensure_installed, self.settings.openclaw_plugins_dir, paths.state, plugins_in(plan.config)
            )
        except PluginsUnavailable as exc:
            await self._start_failed(plan, str(exc), retry=False)
            return
        try:
            proc = await self.supervisor.spawn(gid, plan.port, has_channels=plan.has_channels)
        except PortInUseError as exc:
            if plan.applied_version == 0:
                # Never ran: take another port instead of failing.
                await self.db.run(lambda s: move_port(s, self.settings, gid))
                self.kick()
                return
            await self._start_failed(plan, str(exc), retry=True)
            return
        except GatewayStartError as exc:
            await self._start_failed(plan, str(exc), retry=False)
            return

        def record_pid(s: Session) -> None:
            gw = s.get(Gateway, gid)
            if gw is not None:
                gw.pid, gw.pid_started_at, gw.last_started_at = proc.pid, proc.create_time, utcnow()
                gw.remote_config_hash = ""  # a freshly written file: remembered again on connect
                s.add(gw)

        await self.db.run(record_pid)
        link = self.links.ensure(plan.target)  # connects as soon as the gateway answers
        try:
            await self.supervisor.wait_ready(
                proc, plan.token, timeout=self.start_timeout_s, client=link.client
            )
        except GatewayStartError as exc:
            exited_code = proc.exited.result().exit_code if proc.exited.done() else None
            await self.links.drop(gid)
            if proc.alive:
                await self.supervisor.stop(gid, grace_s=2)
            await self._start_failed(plan, str(exc), retry=exited_code != EXIT_CONFIG_INVALID)
            return
        self._refused_start.pop(gid, None)
        # Read back before saying "running": OpenClaw may have started from another file.
        if not await self.drift.runs_what_was_written(link, plan):
            return
        await self._record_applied(plan, remote_hash="", news={"how": "start", "pid": proc.pid})
        await self._sync_skills(plan)
        if plan.spare:
            self.tasks.spawn(self._warm_up(link, WARMUP_AGENT), f"warm-up-{gid}")

    async def _warm_up(self, link: GatewayLink, agent_id: str) -> None:
        """spares.warm_up_turn, with no config change meanwhile (it would fail the turn); the
        pass after it makes a new spare's first hot change (spares.RELOAD_WARMUP_AGENT)."""
        self.warming.add(link.gateway_id)
        try:
            await warm_up_turn(link.api, agent_id)
        finally:
            self.warming.discard(link.gateway_id)
        self.kick()

    async def _start_failed(self, plan: GatewayPlan, message: str, *, retry: bool) -> None:
        gid = plan.gateway_id
        log.warning("gateway %s did not start: %s", gid, message)
        if not retry:
            self._refused_start[gid] = (plan.config_hash, message)
        failures = await self.status.record_failure(gid, message)
        await self.status.set_gateway(
            gid, GatewayStatus.ERROR, message, bots=plan.running_bot_ids, bot_status=BotStatus.ERROR
        )
        self.bus.publish(Kind.ERROR, {"message": message, "where": "start"}, gateway_id=gid)
        if retry:
            self.restarts.schedule(gid, failures)

    async def _stop(self, plan: GatewayPlan, *, reason: str) -> None:
        gid = plan.gateway_id
        await self.status.set_gateway(gid, GatewayStatus.STOPPING, reason)
        await self.links.drop(gid)
        await self.supervisor.stop(gid)
        self.fail_turns(gid, "The gateway was stopped.")

        def forget_applied(s: Session) -> None:
            gw = s.get(Gateway, gid)
            if gw is not None:  # a stopped gateway runs no config; the next start writes it whole
                gw.applied_config, gw.applied_config_hash = None, ""
                s.add(gw)

        await self.db.run(forget_applied)
        await self._settle_stopped(plan, force=True)

    async def _settle_stopped(self, plan: GatewayPlan, force: bool = False) -> None:
        status = GatewayStatus(plan.actual_status)
        if force or status in (
            GatewayStatus.RUNNING,
            GatewayStatus.STARTING,
            GatewayStatus.STOPPING,
            GatewayStatus.UNRESPONSIVE,
        ):
            await self.status.set_gateway(plan.gateway_id, GatewayStatus.STOPPED, "", clear_pid=True)
        if status is GatewayStatus.CRASH_LOOP and plan.desired_running:
            await self.status.set_bots(
                plan.running_bot_ids,
                BotStatus.ERROR,
                "The gateway keeps crashing; restart it once the cause is fixed.",
            )
        else:
            await self.status.set_bots(plan.running_bot_ids + plan.stopped_bot_ids, BotStatus.STOPPED, "")

    async def _settle_running(self, plan: GatewayPlan) -> None:
        if plan.actual_status != GatewayStatus.RUNNING.value:
            return
        await self.status.set_bots(plan.running_bot_ids, BotStatus.RUNNING, "")
        await self.status.set_bots(plan.stopped_bot_ids, BotStatus.STOPPED, "")

    # --- hot changes ---------------------------------------------------------------------

    async def _apply_hot(self, plan: GatewayPlan) -> None:
        assert plan.config is not None
        gid = plan.gateway_id
        refused = self._refused_hot.get(gid)
        if refused is not None and refused[0] == plan.config_hash:
            return
        link = self.links.ensure(plan.target)
        if plan.is_local:
            prepare_agent_files(self.settings, plan.gateway_id, plan.agents)
        old = plan.applied_config or {}
        if plan.is_local and plugins_in(plan.config) - plugins_in(old):
            # A channel whose plugin this process did not load at start: only a restart loads it.
            await self._restart_to_apply(plan)
            return
        new_fp = oc.fingerprint_secrets(plan.config)
        removed = oc.removed_agents(old, plan.config)
        patch = oc.restate_invariants(
            oc.without_agent_removals(oc.merge_patch(old, new_fp, plan.config)), plan.config
        )
        patch.pop("meta", None)  # machine-owned: OpenClaw stamps it on its own writes
        self.applying.add(gid)
        try:
            remote_hash = ""
            if patch:
                outcome = await link.api.patch_config(patch, replace_paths=oc.replace_paths(old, patch))
                if outcome.needs_restart:
                    self.applying.discard(gid)
                    await self._restart_to_apply(plan)
                    return
                remote_hash = (
                    await self._await_self_restart(link) if outcome.self_restarting else outcome.hash
                )
            for agent_id in removed:
                await link.api.delete_agent(agent_id)
                await self.db.run(partial(record_tombstone, gateway_id=gid, agent_id=agent_id))
                if plan.is_local:
                    unlink_agent_state(self.settings, gid, agent_id)
            if removed or not remote_hash:
                remote_hash = await link.api.config_hash()
            if not plan.is_local:  # after the patch: OpenClaw writes files only for agents it has
                await self._push_remote_persona(link, plan)
        except GatewayError as exc:
            message = f"The gateway refused the configuration change: {exc.message}"
            self._refused_hot[gid] = (plan.config_hash, message)
            await self.status.record_error(gid, message)
            changed = self._changed_bots(plan, patch, removed)
            await self.status.set_bots(changed, BotStatus.ERROR, message)
            self.bus.publish(Kind.ERROR, {"message": message, "where": "apply"}, gateway_id=gid)
            return
        finally:
            self.applying.discard(gid)
        self._refused_hot.pop(gid, None)
        await self._record_applied(
            plan,
            remote_hash=remote_hash,
            news={"how": "hot", "changed": sorted(patch), "removed_agents": removed},
        )
        if plan.spare and RELOAD_WARMUP_AGENT in ((patch.get("agents") or {}).get("entries") or {}):
            self.tasks.spawn(self._warm_up(link, RELOAD_WARMUP_AGENT), f"warm-up-2-{gid}")

    async def _restart_to_apply(self, plan: GatewayPlan) -> None:
        """The gateway saved the change but applies it only after a restart."""
        gid = plan.gateway_id
        if plan.is_local:
            log.info("gateway %s needs a restart to apply its new config", gid)
            await self._stop(plan, reason="restarting to apply a change")
            await self._start(plan)
            return
        message = "The remote gateway saved the change but needs a restart by its own supervisor."
        await self.status.record_error(gid, message)
        self.bus.publish(Kind.ERROR, {"message": message, "where": "apply"}, gateway_id=gid)

    async def _await_self_restart(self, link: GatewayLink) -> str:
        """Some changes (re-adding `agents.ownership` when a pool grows back from one agent, for
        instance) make OpenClaw restart itself in-process (close 1012): wait for it to come back."""
        client = link.client
        with contextlib.suppress(TimeoutError):
            await wait_for(client.disconnected.wait(), 15)  # it closes with 1012...
        await wait_for(client.connected.wait(), 120)  # ...and comes back
        log.info("gateway %s restarted itself to apply a change", link.gateway_id)
        return await link.api.config_hash()

    async def _push_remote_persona(self, link: GatewayLink, plan: GatewayPlan) -> None:
        """Each agent's persona files, written on a remote gateway over the protocol."""
        for agent in plan.agents:
            for name, content in workspace_files(agent).items():
                try:
                    await link.api.write_new_agent_file(agent.agent_id, name, content)
                except GatewayError as exc:
                    log.warning(
                        "gateway %s: could not write %s for %s: %s",
                        plan.gateway_id,
                        name,
                        agent.agent_id,
                        exc,
                    )

    @staticmethod
    def _changed_bots(plan: GatewayPlan, patch: dict[str, Any], removed: list[str]) -> list[int]:
        entries = (patch.get("agents") or {}).get("entries") or {}
        touched = set(entries) | set(removed)
        if set(patch) - {"agents"}:
            return plan.running_bot_ids  # a shared section changed: every bot may be affected
        return [plan.agent_bots[a] for a in touched if a in plan.agent_bots]

    async def _record_applied(self, plan: GatewayPlan, *, remote_hash: str, news: dict[str, Any]) -> None:
        """Record the applied config, say so (`config.applied` with `news`), then the statuses."""
        assert plan.config is not None
        fingerprinted = oc.fingerprint_secrets(plan.config)

        def record(s: Session) -> None:
            gw = s.get(Gateway, plan.gateway_id)
            if gw is None:
                return
            gw.applied_config_hash = plan.config_hash
            gw.applied_config_version = plan.desired_version
            gw.applied_config = fingerprinted
            if remote_hash:
                gw.remote_config_hash = remote_hash
            gw.last_error = ""
            gw.last_ready_at = gw.last_seen_at = utcnow()
            gw.drift_detected_at = None
            gw.updated_at = utcnow()
            s.add(gw)

        await self.db.run(record)
        self.bus.publish(
            Kind.CONFIG_APPLIED,
            {"version": plan.desired_version, "hash": plan.config_hash, **news},
            gateway_id=plan.gateway_id,
        )
        # The status itself goes through the book, so every live view hears it.
        await self.status.set_gateway(plan.gateway_id, GatewayStatus.RUNNING, "")
        await self.status.set_bots(plan.running_bot_ids, BotStatus.RUNNING, "")
        await self.status.set_bots(plan.stopped_bot_ids, BotStatus.STOPPED, "")
        self.after_applied(plan.gateway_id)

    # --- remote ----------------------------------------------------------------------------

    async def _reconcile_remote(self, plan: GatewayPlan) -> None:
        if not plan.desired_running or plan.config is None:
            await self.links.drop(plan.gateway_id)
            await self._settle_stopped(plan)
            return
        link = self.links.ensure(plan.target)
        if not link.client.is_connected:
            try:
                await wait_for(link.client.connected.wait(), 15)
            except TimeoutError:
                error = link.client.last_error
                message = f"Cannot reach the remote gateway: {error.message if error else 'no answer'}"
                await self.status.set_gateway(
                    plan.gateway_id,
                    GatewayStatus.UNRESPONSIVE,
                    message,
                    bots=plan.running_bot_ids,
                    bot_status=BotStatus.ERROR,
                )
                return
        if plan.config_hash != plan.applied_hash:
            await self._apply_hot(plan)
        else:
            await self.status.set_gateway(plan.gateway_id, GatewayStatus.RUNNING, "")
            await self._settle_running(plan)
        await self._sync_skills(plan)
