"""Desired state (the database) vs reality (processes, gateway configs): make them match.

For each gateway, `load_plan` reads what should run (its bots whose desired status is running)
and builds the config. The reconciler then starts, stops or hot-patches the gateway:
- a local gateway that should run and does not: persona files and config written, process
  spawned, ready checked;
- one that runs with an outdated config: a merge patch (`config.patch`) plus `agents.delete`
  (keeping the bot's files) for removed bots — no restart, no lost data;
- one with no running bot left: stopped (OpenClaw refuses a config without agents).
It records the applied version and hash, notices drift (a `config.changed` it did not cause),
and says what it did on the event bus.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import json5
from sqlmodel import Session, col, select

from clawnet.controlplane import openclaw_config as oc
from clawnet.controlplane.protocol import GatewayError
from clawnet.controlplane.supervisor import (
    EXIT_CONFIG_INVALID,
    GatewayStartError,
    PortInUseError,
    bot_paths,
    gateway_paths,
)
from clawnet.events.bus import Kind
from clawnet.files import write_file_atomically
from clawnet.models import AgentTombstone, Bot, BotChannel, Gateway, ModelProvider, utcnow
from clawnet.models.enums import (
    BotStatus,
    ChannelType,
    DesiredStatus,
    DmPolicy,
    GatewayKind,
    GatewayStatus,
    MentionPolicy,
    ProviderKind,
)
from clawnet.security.secret_fields import CHANNEL_CREDENTIALS, GATEWAY_TOKEN, PROVIDER_API_KEY, unseal_json
from clawnet.settings import Settings

if TYPE_CHECKING:
    from clawnet.controlplane.controller import FleetController

log = logging.getLogger(__name__)

CONFIG_RECHECK_S = 2.0  # a config file must read bad this long before it is rebuilt

PUBLIC_TELEGRAM_API = "https://api.telegram.org"


@dataclass
class GatewayPlan:
    """Everything the reconciler needs about one gateway, read in one transaction."""

    gateway_id: int
    name: str
    kind: str
    port: int | None
    url: str | None
    token: str
    desired_running: bool
    actual_status: str
    pid: int | None
    pid_started_at: float | None
    applied_hash: str
    applied_version: int
    desired_version: int
    applied_config: dict[str, Any] | None
    remote_hash: str
    config: dict[str, Any] | None  # None when no bot should run here
    config_hash: str
    agents: tuple[oc.AgentSpec, ...] = ()
    running_bot_ids: list[int] = field(default_factory=list)
    stopped_bot_ids: list[int] = field(default_factory=list)
    agent_bots: dict[str, int] = field(default_factory=dict)

    @property
    def is_local(self) -> bool:
        return self.kind == GatewayKind.LOCAL.value

    @property
    def has_channels(self) -> bool:
        return any(a.channels for a in self.agents if a.active)

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}" if self.is_local else str(self.url)


def provider_spec(provider: ModelProvider, settings: Settings) -> oc.ProviderSpec:
    kind = ProviderKind(provider.kind)
    api_key = PROVIDER_API_KEY.unseal(provider.api_key_enc) if provider.api_key_enc else ""
    base_url = provider.base_url
    if kind is ProviderKind.LOCAL_ECHO:
        base_url = f"http://127.0.0.1:{settings.echo_llm_port}/v1"
        api_key = api_key or "local-echo"
    models = tuple(
        oc.ModelSpec(
            id=str(m.get("id")),
            name=str(m.get("name") or m.get("id")),
            context_window=int(m.get("context_window") or 128000),
            max_tokens=int(m.get("max_tokens") or 4096),
            cost_input=float(m.get("cost_input") or 0),
            cost_output=float(m.get("cost_output") or 0),
        )
        for m in provider.models
        if m.get("id")
    )
    return oc.ProviderSpec(provider.name, kind, base_url, api_key, models)


def channel_spec(channel: BotChannel, agent_id: str, settings: Settings) -> oc.ChannelSpec:
    ctype = ChannelType(channel.type)
    api_root = ""
    if ctype is ChannelType.TELEGRAM and settings.telegram_api_root != PUBLIC_TELEGRAM_API:
        api_root = settings.telegram_api_root + "/"
    return oc.ChannelSpec(
        type=ctype,
        account_id=agent_id,
        credentials=unseal_json(CHANNEL_CREDENTIALS, channel.credentials_enc),
        dm_policy=DmPolicy(channel.dm_policy),
        allow_from=tuple(channel.allow_from),
        group_policy=channel.group_policy,
        group_allow_from=tuple(channel.group_allow_from),
        mention_policy=MentionPolicy(channel.mention_policy),
        enabled=channel.enabled,
        api_root=api_root,
    )


def agent_spec(
    session: Session, bot: Bot, providers: dict[int, ModelProvider], settings: Settings, *, local: bool
) -> oc.AgentSpec:
    from clawnet.models import Binding

    provider = providers.get(bot.provider_id) if bot.provider_id is not None else None
    channels = session.exec(
        select(BotChannel).where(BotChannel.bot_id == bot.id).order_by(col(BotChannel.type))
    ).all()
    bindings = session.exec(select(Binding).where(Binding.bot_id == bot.id).order_by(col(Binding.id))).all()
    paths = bot_paths(settings, bot.agent_id)
    return oc.AgentSpec(
        active=bot.desired_status == DesiredStatus.RUNNING.value,
        agent_id=bot.agent_id,
        name=bot.name,
        model_ref=f"{provider.name}/{bot.model_id}" if provider and bot.model_id else "",
        workspace=str(paths.workspace) if local else "",
        emoji=bot.emoji,
        persona=bot.persona,
        tools_profile=bot.tools_profile,
        tools_allow=tuple(bot.tools_allow),
        tools_deny=tuple(bot.tools_deny),
        channels=tuple(channel_spec(c, bot.agent_id, settings) for c in channels if c.enabled),
        bindings=tuple(
            oc.BindingSpec(
                b.channel,
                b.account_id or bot.agent_id,
                b.peer_kind,
                b.peer_id,
                b.guild_id,
                b.team_id,
                b.priority,
            )
            for b in bindings
        ),
    )


def preview_config(session: Session, settings: Settings, inp: Any) -> dict[str, Any]:
    """The config a gateway would get for one bot described by a (not yet saved) BotInput,
    as the wizard's review step asks OpenClaw to check it."""
    provider = session.get(ModelProvider, inp.provider_id) if inp.provider_id is not None else None
    agent_id = inp.agent_id or "bot"
    channels = tuple(
        oc.ChannelSpec(
            ChannelType(c.type),
            agent_id,
            c.credentials,
            DmPolicy(c.dm_policy),
            tuple(c.allow_from),
            c.group_policy,
            tuple(c.group_allow_from),
            MentionPolicy(c.mention_policy),
        )
        for c in inp.channels
    )
    agent = oc.AgentSpec(
        agent_id=agent_id,
        name=inp.name,
        model_ref=f"{provider.name}/{inp.model_id}" if provider else "",
        persona=inp.persona,
        emoji=inp.emoji,
        tools_profile=inp.tools_profile,
        tools_allow=tuple(inp.tools_allow),
        tools_deny=tuple(inp.tools_deny),
        channels=channels,
    )
    return oc.build_config(
        oc.GatewaySpec(
            local=True,
            port=settings.gateway_base_port,
            token="preview",  # noqa: S106 (never runs: validation only)
            log_file=str(settings.data_dir / "preview.log"),
            providers=(provider_spec(provider, settings),) if provider else (),
            agents=(agent,),
            session=oc.SessionSpec(
                inp.session_scope, inp.dm_scope, inp.reset_mode, inp.reset_at_hour, inp.reset_idle_minutes
            ),
        )
    )


def load_plan(session: Session, settings: Settings, gateway_id: int) -> GatewayPlan | None:
    """Read one gateway's desired state and build its config (records a new desired version)."""
    gw = session.get(Gateway, gateway_id)
    if gw is None:
        return None
    bots = session.exec(select(Bot).where(Bot.gateway_id == gateway_id).order_by(col(Bot.id))).all()
    running = [b for b in bots if b.desired_status == DesiredStatus.RUNNING.value]
    local = gw.kind == GatewayKind.LOCAL.value
    providers = {p.id: p for p in session.exec(select(ModelProvider)).all() if p.id is not None}
    # Every bot placed here is an agent; only running ones have channels and routes.
    agents = tuple(agent_spec(session, b, providers, settings, local=local) for b in bots)
    token = GATEWAY_TOKEN.unseal(gw.token_enc)
    config: dict[str, Any] | None = None
    config_hash = ""
    if running:  # a gateway with no running bot is stopped, not configured
        paths = gateway_paths(settings, gateway_id)
        spec = oc.GatewaySpec(
            local=local,
            port=gw.base_port or 0,
            token=token,
            log_file=str(paths.log_file),
            workspace_root=str(paths.workspace_root) if local else "",
            providers=tuple(provider_spec(p, settings) for p in providers.values()),
            agents=agents,
            session=oc.SessionSpec(**_session_kwargs(gw.session_settings)),
        )
        config = oc.build_config(spec)
        config_hash = oc.config_hash(config)
        if config_hash != gw.desired_config_hash:
            gw.desired_config_hash = config_hash
            gw.desired_config_version += 1
            gw.updated_at = utcnow()
            session.add(gw)
    return GatewayPlan(
        gateway_id=gateway_id,
        name=gw.name,
        kind=gw.kind,
        port=gw.base_port,
        url=gw.url,
        token=token,
        desired_running=gw.desired_status == DesiredStatus.RUNNING.value,
        actual_status=gw.actual_status,
        pid=gw.pid,
        pid_started_at=gw.pid_started_at,
        applied_hash=gw.applied_config_hash,
        applied_version=gw.applied_config_version,
        desired_version=gw.desired_config_version,
        applied_config=gw.applied_config,
        remote_hash=gw.remote_config_hash,
        config=config,
        config_hash=config_hash,
        agents=agents,
        running_bot_ids=[b.id for b in running if b.id is not None],
        stopped_bot_ids=[
            b.id for b in bots if b.id is not None and b.desired_status != DesiredStatus.RUNNING.value
        ],
        agent_bots={b.agent_id: b.id for b in bots if b.id is not None},
    )


def _session_kwargs(settings: dict[str, Any]) -> dict[str, Any]:
    reset = settings.get("reset") or {}
    kwargs: dict[str, Any] = {}
    if "scope" in settings:
        kwargs["scope"] = settings["scope"]
    if "dmScope" in settings:
        kwargs["dm_scope"] = settings["dmScope"]
    if "mode" in reset:
        kwargs["reset_mode"] = reset["mode"]
    if "atHour" in reset:
        kwargs["reset_at_hour"] = reset["atHour"]
    if "idleMinutes" in reset:
        kwargs["reset_idle_minutes"] = reset["idleMinutes"]
    return kwargs


def config_file_problem(path: Path) -> str | None:
    """What is wrong with a gateway's config file on disk, or None."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return "it is missing"
    except (OSError, UnicodeDecodeError) as exc:
        return f"it cannot be read: {exc}"
    try:
        data = json.loads(text)  # what OpenClaw writes back: fast to check
    except ValueError:
        try:
            data = json5.loads(text)  # what people may write (comments, trailing commas)
        except ValueError as exc:
            return f"it is not valid JSON5: {str(exc)[:120]}"
    if not isinstance(data, dict) or not isinstance(data.get("gateway"), dict):
        return "it has no gateway section"
    return None


def prepare_agent_files(settings: Settings, gateway_id: int, agents: tuple[oc.AgentSpec, ...]) -> None:
    """Before a local gateway sees its agents: write each bot's persona files (atomically), and
    point `<gateway state>/agents/<id>` at the bot's own state folder. Links of bots that left
    this gateway are removed, so it never touches a state folder another gateway now uses."""
    agents_root = gateway_paths(settings, gateway_id).state / "agents"
    agents_root.mkdir(parents=True, exist_ok=True)
    wanted = {a.agent_id for a in agents}
    for entry in agents_root.iterdir():
        if entry.is_symlink() and entry.name not in wanted:
            entry.unlink()
    for agent in agents:
        paths = bot_paths(settings, agent.agent_id)
        for folder in (paths.root, paths.workspace, paths.state):
            folder.mkdir(parents=True, exist_ok=True)
            folder.chmod(0o700)
        link_agent_state(agents_root / agent.agent_id, paths.state)
        for name, content in oc.workspace_files(agent).items():
            target = paths.workspace / name
            try:
                if target.read_text() == content:
                    continue
            except FileNotFoundError:
                pass
            write_file_atomically(target, content, mode=0o600)


def link_agent_state(link: Path, target: Path) -> None:
    """Make `link` a symlink to `target`. A real folder already there (state an older setup
    kept inside the gateway) is moved into `target` first, so nothing is lost."""
    if link.is_symlink():
        if link.resolve() == target.resolve():
            return
        link.unlink()
    elif link.exists():
        if any(target.iterdir()):
            raise RuntimeError(f"Both {link} and {target} hold agent state; move one aside by hand.")
        target.rmdir()
        link.rename(target)
    link.symlink_to(target, target_is_directory=True)


def unlink_agent_state(settings: Settings, gateway_id: int, agent_id: str) -> None:
    link = gateway_paths(settings, gateway_id).state / "agents" / agent_id
    if link.is_symlink():
        link.unlink()


def record_tombstone(session: Session, *, gateway_id: int, agent_id: str) -> None:
    """Remember that `gateway_id` deleted `agent_id` (see AgentTombstone)."""
    exists = session.exec(
        select(AgentTombstone).where(
            AgentTombstone.agent_id == agent_id, AgentTombstone.gateway_id == gateway_id
        )
    ).first()
    bot_gone = session.exec(select(Bot.id).where(Bot.agent_id == agent_id)).first() is None
    if exists is None:
        session.add(AgentTombstone(agent_id=agent_id, gateway_id=gateway_id, bot_deleted=bot_gone))
    elif bot_gone and not exists.bot_deleted:
        exists.bot_deleted = True
        session.add(exists)


class RestartNeeded(Exception):
    """The gateway saved a change it can only apply after a restart."""


class Reconciler:
    def __init__(self, controller: FleetController) -> None:
        self.ctl = controller
        self._locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        # Configs OpenClaw refused (config hash -> the reason), per gateway and per way of applying
        # them: they are not retried until the desired config changes.
        self._refused_start: dict[int, tuple[str, str]] = {}
        self._refused_hot: dict[int, tuple[str, str]] = {}
        self.applying: set[int] = set()
        self._bad_config_since: dict[int, float] = {}  # gateway -> when its file first read bad
        self._good_config_file: dict[int, tuple[int, int]] = {}  # gateway -> (mtime, size) read well

    @property
    def settings(self) -> Settings:
        return self.ctl.settings

    async def reconcile_all(self) -> None:
        ids = await self.ctl.db.run(lambda s: [g for g in s.exec(select(Gateway.id)).all() if g is not None])
        known = set(ids)
        for gid in list(self.ctl.supervisor.processes):
            if gid not in known:  # the gateway row is gone: its process goes too
                await self.ctl.supervisor.stop(gid)
        for gid in list(self.ctl.links):
            if gid not in known:
                await self.ctl.drop_link(gid)
        await asyncio.gather(*(self.reconcile_gateway(gid) for gid in ids), return_exceptions=True)
        from clawnet.bots.service import purge_deleted_bot_data

        purged = await self.ctl.db.run(lambda s: purge_deleted_bot_data(self.settings, s))
        for agent_id in purged:
            log.info("deleted the data of bot %s, as asked", agent_id)

    async def reconcile_gateway(self, gateway_id: int, *, restart: bool = False) -> None:
        async with self._locks[gateway_id]:
            try:
                plan = await self.ctl.db.run(lambda s: load_plan(s, self.settings, gateway_id))
            except Exception as exc:
                log.exception("gateway %s: cannot build its plan", gateway_id)
                await self.ctl.set_gateway_status(
                    gateway_id, GatewayStatus.ERROR, f"Cannot build the configuration: {exc}"
                )
                return
            if plan is None:
                return
            if restart and plan.is_local and self.ctl.supervisor.processes.get(gateway_id) is not None:
                await self._stop(plan, reason="restart requested")
                plan.actual_status = GatewayStatus.STOPPED.value
            if plan.is_local:
                await self._reconcile_local(plan)
            else:
                await self._reconcile_remote(plan)

    # --- local ---------------------------------------------------------------------------

    async def _reconcile_local(self, plan: GatewayPlan) -> None:
        proc = self.ctl.supervisor.processes.get(plan.gateway_id)
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
            if self.ctl.health.restart_pending(plan.gateway_id):
                return  # waiting out the backoff after a crash
            refused = self._refused_start.get(plan.gateway_id)
            if refused is not None and refused[0] == plan.config_hash:
                # The same config was refused; say so and wait for a change.
                await self.ctl.set_bot_statuses(plan.running_bot_ids, BotStatus.ERROR, refused[1])
                return
            await self._start(plan)
            return
        await self._check_config_file(plan)
        self.ctl.ensure_link(plan)
        if plan.config_hash != plan.applied_hash:
            await self._apply_hot(plan)
        else:
            await self._settle_running(plan)

    async def _check_config_file(self, plan: GatewayPlan) -> None:
        """A running gateway's config file that stays missing or unreadable (a full disk, a bad
        hand edit, a crash of another tool) is refused and rebuilt from the database: OpenClaw
        would refuse to start on it after its next restart. One bad read is not enough (OpenClaw
        rewrites the file itself after a hot change, and a read can meet it half-written): the
        problem must still be there a little later. Valid hand edits are drift, handled when
        OpenClaw reports `config.changed`. Never while a change is being applied."""
        assert plan.config is not None
        gid = plan.gateway_id
        if gid in self.applying:
            return
        path = gateway_paths(self.settings, gid).config
        try:
            stat = path.stat()
            signature: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            signature = None
        if signature is not None and self._good_config_file.get(gid) == signature:
            return  # unchanged since it last read well: no need to parse it on every pass
        problem = config_file_problem(path)
        if problem is None:
            self._bad_config_since.pop(gid, None)
            if signature is not None:
                self._good_config_file[gid] = signature
            return
        first_seen = self._bad_config_since.setdefault(gid, time.monotonic())
        if time.monotonic() - first_seen < CONFIG_RECHECK_S:
            self.ctl.spawn(self._kick_later(CONFIG_RECHECK_S), f"config-recheck-{gid}")
            return
        self._bad_config_since.pop(gid, None)
        write_file_atomically(path, oc.render(plan.config), mode=0o600)  # the whole desired config
        message = f"Refused the config file {path.name} ({problem}); rebuilt it from the database."
        log.warning("gateway %s: %s", gid, message)
        self.ctl.bus.publish(
            Kind.CONFIG_DRIFT,
            {"expected_hash": plan.applied_hash, "remote_hash": "", "action": message},
            gateway_id=gid,
        )

    async def _kick_later(self, delay_s: float) -> None:
        await asyncio.sleep(delay_s)
        self.ctl.kick()

    async def _start(self, plan: GatewayPlan) -> None:
        assert plan.config is not None and plan.port is not None
        gid = plan.gateway_id
        paths = gateway_paths(self.settings, gid)
        paths.create()
        prepare_agent_files(self.settings, plan.gateway_id, plan.agents)
        write_file_atomically(paths.config, oc.render(plan.config), mode=0o600)
        await self.ctl.set_gateway_status(
            gid,
            GatewayStatus.STARTING,
            "starting the gateway process",
            bots=plan.running_bot_ids,
            bot_status=BotStatus.STARTING,
        )
        try:
            proc = await self.ctl.supervisor.spawn(gid, plan.port, has_channels=plan.has_channels)
        except PortInUseError as exc:
            if plan.applied_version == 0:
                # Never ran: take another port instead of failing.
                await self.ctl.db.run(lambda s: self._move_port(s, gid, self.settings))
                self.ctl.kick()
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

        await self.ctl.db.run(record_pid)
        link = self.ctl.ensure_link(plan)  # connects as soon as the gateway answers
        try:
            await self.ctl.supervisor.wait_ready(
                proc, plan.token, timeout=self.ctl.start_timeout_s, client=link.client
            )
        except GatewayStartError as exc:
            exited_code = proc.exited.result().exit_code if proc.exited.done() else None
            await self.ctl.drop_link(gid)
            if proc.alive:
                await self.ctl.supervisor.stop(gid, grace_s=2)
            await self._start_failed(plan, str(exc), retry=exited_code != EXIT_CONFIG_INVALID)
            return
        self._refused_start.pop(gid, None)
        await self._record_applied(plan, remote_hash="")
        self.ctl.bus.publish(
            Kind.CONFIG_APPLIED,
            {"version": plan.desired_version, "hash": plan.config_hash, "how": "start", "pid": proc.pid},
            gateway_id=gid,
        )

    @staticmethod
    def _move_port(session: Session, gateway_id: int, settings: Settings) -> None:
        from clawnet.bots.placement import allocate_port

        gw = session.get(Gateway, gateway_id)
        if gw is not None:
            gw.base_port = None
            session.add(gw)
            session.flush()
            gw.base_port = allocate_port(session, settings)
            session.add(gw)

    async def _start_failed(self, plan: GatewayPlan, message: str, *, retry: bool) -> None:
        gid = plan.gateway_id
        log.warning("gateway %s did not start: %s", gid, message)
        if not retry:
            self._refused_start[gid] = (plan.config_hash, message)
        failures = await self.ctl.record_failure(gid, message)
        await self.ctl.set_gateway_status(
            gid, GatewayStatus.ERROR, message, bots=plan.running_bot_ids, bot_status=BotStatus.ERROR
        )
        self.ctl.bus.publish(Kind.ERROR, {"message": message, "where": "start"}, gateway_id=gid)
        if retry:
            self.ctl.health.schedule_restart(gid, failures)

    async def _stop(self, plan: GatewayPlan, *, reason: str) -> None:
        gid = plan.gateway_id
        await self.ctl.set_gateway_status(gid, GatewayStatus.STOPPING, reason)
        await self.ctl.drop_link(gid)
        await self.ctl.supervisor.stop(gid)
        self.ctl.chats.fail_gateway(gid, "The gateway was stopped.")

        def forget_applied(s: Session) -> None:
            gw = s.get(Gateway, gid)
            if gw is not None:  # a stopped gateway runs no config; the next start writes it whole
                gw.applied_config, gw.applied_config_hash = None, ""
                s.add(gw)

        await self.ctl.db.run(forget_applied)
        await self._settle_stopped(plan, force=True)

    async def _settle_stopped(self, plan: GatewayPlan, force: bool = False) -> None:
        status = GatewayStatus(plan.actual_status)
        if force or status in (
            GatewayStatus.RUNNING,
            GatewayStatus.STARTING,
            GatewayStatus.STOPPING,
            GatewayStatus.UNRESPONSIVE,
        ):
            await self.ctl.set_gateway_status(plan.gateway_id, GatewayStatus.STOPPED, "", clear_pid=True)
        if status is GatewayStatus.CRASH_LOOP and plan.desired_running:
            await self.ctl.set_bot_statuses(
                plan.running_bot_ids,
                BotStatus.ERROR,
                "The gateway keeps crashing; restart it once the cause is fixed.",
            )
        else:
            await self.ctl.set_bot_statuses(
                plan.running_bot_ids + plan.stopped_bot_ids, BotStatus.STOPPED, ""
            )

    async def _settle_running(self, plan: GatewayPlan) -> None:
        if plan.actual_status != GatewayStatus.RUNNING.value:
            return
        await self.ctl.set_bot_statuses(plan.running_bot_ids, BotStatus.RUNNING, "")
        await self.ctl.set_bot_statuses(plan.stopped_bot_ids, BotStatus.STOPPED, "")

    # --- hot changes ---------------------------------------------------------------------

    async def _apply_hot(self, plan: GatewayPlan) -> None:
        assert plan.config is not None
        gid = plan.gateway_id
        refused = self._refused_hot.get(gid)
        if refused is not None and refused[0] == plan.config_hash:
            return
        link = self.ctl.ensure_link(plan)
        if plan.is_local:
            prepare_agent_files(self.settings, plan.gateway_id, plan.agents)
        old = plan.applied_config or {}
        new_fp = oc.fingerprint_secrets(plan.config)
        removed = oc.removed_agents(old, plan.config)
        patch = oc.restate_invariants(
            oc.without_agent_removals(oc.merge_patch(old, new_fp, plan.config)), plan.config
        )
        self.applying.add(gid)
        try:
            if not plan.is_local:
                await self._push_remote_persona(link, plan)
            remote_hash = ""
            if patch:
                remote_hash = await self._patch(link, patch)
            for agent_id in removed:
                try:
                    await link.client.call(
                        "agents.delete", {"agentId": agent_id, "deleteFiles": False}, timeout=30
                    )
                except GatewayError as exc:
                    if "not found" not in exc.message.lower() and "unknown" not in exc.message.lower():
                        raise
                await self.ctl.db.run(partial(record_tombstone, gateway_id=gid, agent_id=agent_id))
                if plan.is_local:
                    unlink_agent_state(self.settings, gid, agent_id)
            if removed or not remote_hash:
                remote_hash = str((await link.client.call("config.get", {}, timeout=30)).get("hash", ""))
        except RestartNeeded:
            self.applying.discard(gid)
            if plan.is_local:
                log.info("gateway %s needs a restart to apply its new config", gid)
                await self._stop(plan, reason="restarting to apply a change")
                await self._start(plan)
                return
            message = "The remote gateway saved the change but needs a restart by its own supervisor."
            await self.ctl.record_error(gid, message)
            self.ctl.bus.publish(Kind.ERROR, {"message": message, "where": "apply"}, gateway_id=gid)
            return
        except GatewayError as exc:
            message = f"The gateway refused the configuration change: {exc.message}"
            self._refused_hot[gid] = (plan.config_hash, message)
            await self.ctl.record_error(gid, message)
            changed = self._changed_bots(plan, patch, removed)
            await self.ctl.set_bot_statuses(changed, BotStatus.ERROR, message)
            self.ctl.bus.publish(Kind.ERROR, {"message": message, "where": "apply"}, gateway_id=gid)
            return
        finally:
            self.applying.discard(gid)
        self._refused_hot.pop(gid, None)
        await self._record_applied(plan, remote_hash=remote_hash)
        self.ctl.bus.publish(
            Kind.CONFIG_APPLIED,
            {
                "version": plan.desired_version,
                "hash": plan.config_hash,
                "how": "hot",
                "changed": sorted(patch),
                "removed_agents": removed,
            },
            gateway_id=gid,
        )

    async def _patch(self, link: Any, patch: dict[str, Any]) -> str:
        """`config.patch` against the gateway's current hash (one retry if it moved meanwhile).

        Some changes (re-adding `agents.ownership` when a pool grows back from one agent, for
        instance) are persisted but need a restart: OpenClaw then restarts itself in-process
        (close 1012) and this waits for it to come back. If it says the change was persisted
        but not applied, `RestartNeeded` asks the caller to restart the gateway."""
        for attempt in range(2):
            base = (await link.client.call("config.get", {}, timeout=30)).get("hash")
            try:
                result = await link.client.call(
                    "config.patch", {"raw": json.dumps(patch), "baseHash": base}, timeout=60
                )
            except GatewayError as exc:
                if attempt == 0 and "changed since" in exc.message:
                    continue
                if "persisted" in exc.message and (
                    "restart is required" in exc.message or "accepted for restart" in exc.message
                ):
                    return await self._await_self_restart(link)
                if "persisted but was not applied" in exc.message:
                    raise RestartNeeded(exc.message) from None
                raise
            return str((result or {}).get("hash", ""))
        return ""

    async def _await_self_restart(self, link: Any) -> str:
        client = link.client
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(client.disconnected.wait(), 15)  # it closes with 1012...
        await asyncio.wait_for(client.connected.wait(), 120)  # ...and comes back
        log.info("gateway %s restarted itself to apply a change", link.gateway_id)
        return str((await client.call("config.get", {}, timeout=30)).get("hash", ""))

    async def _push_remote_persona(self, link: Any, plan: GatewayPlan) -> None:
        for agent in plan.agents:
            for name, content in oc.workspace_files(agent).items():
                try:
                    await link.client.call(
                        "agents.files.set",
                        {"agentId": agent.agent_id, "name": name, "content": content},
                        timeout=30,
                    )
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

    async def _record_applied(self, plan: GatewayPlan, *, remote_hash: str) -> None:
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
            gw.actual_status = GatewayStatus.RUNNING.value
            gw.status_detail = ""
            gw.last_error = ""
            gw.last_ready_at = gw.last_seen_at = utcnow()
            gw.drift_detected_at = None
            gw.updated_at = utcnow()
            s.add(gw)

        await self.ctl.db.run(record)
        await self.ctl.set_gateway_status(plan.gateway_id, GatewayStatus.RUNNING, "")
        await self.ctl.set_bot_statuses(plan.running_bot_ids, BotStatus.RUNNING, "")
        await self.ctl.set_bot_statuses(plan.stopped_bot_ids, BotStatus.STOPPED, "")

    # --- remote ----------------------------------------------------------------------------

    async def _reconcile_remote(self, plan: GatewayPlan) -> None:
        if not plan.desired_running or plan.config is None:
            await self.ctl.drop_link(plan.gateway_id)
            await self._settle_stopped(plan)
            return
        link = self.ctl.ensure_link(plan)
        if not link.client.is_connected:
            try:
                await asyncio.wait_for(link.client.connected.wait(), 15)
            except TimeoutError:
                error = link.client.last_error
                message = f"Cannot reach the remote gateway: {error.message if error else 'no answer'}"
                await self.ctl.set_gateway_status(
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
            await self.ctl.set_gateway_status(plan.gateway_id, GatewayStatus.RUNNING, "")
            await self._settle_running(plan)

    # --- drift -----------------------------------------------------------------------------

    async def on_config_changed(self, gateway_id: int, remote_hash: str) -> None:
        """A `config.changed` event: if ClawNet did not cause it, the config drifted."""
        if gateway_id in self.applying or not remote_hash:
            return

        def stored_hash(s: Session) -> str:
            gw = s.get(Gateway, gateway_id)
            return gw.remote_config_hash if gw is not None else ""

        expected = await self.ctl.db.run(stored_hash)
        if not expected or expected == remote_hash:
            return

        def mark(s: Session) -> None:
            gw = s.get(Gateway, gateway_id)
            if gw is not None:
                gw.drift_detected_at = utcnow()
                gw.applied_config_hash = ""  # forces a full re-apply of the desired config
                gw.applied_config = None
                s.add(gw)

        await self.ctl.db.run(mark)
        self.ctl.bus.publish(
            Kind.CONFIG_DRIFT,
            {
                "expected_hash": expected,
                "remote_hash": remote_hash,
                "action": "re-applying ClawNet's configuration",
            },
            gateway_id=gateway_id,
        )
        self.ctl.kick()
