"""What a gateway should run, read from the database in one transaction: its bots as OpenClaw
agents, its model providers and channels (secrets unsealed here, for the config file only), and
the whole config built from them (`GatewayPlan`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlmodel import Session, col, select

from clawnet.controlplane import openclaw_config as oc
from clawnet.controlplane.links import LinkTarget
from clawnet.controlplane.openclaw_cli import installed_version
from clawnet.controlplane.paths import bot_paths, gateway_paths
from clawnet.controlplane.skill_choices import SkillChoices, has_custom_skills, load_choices_of
from clawnet.controlplane.spares import RELOAD_WARMUP_AGENT, WARMUP_AGENT
from clawnet.enums import (
    ChannelType,
    DesiredStatus,
    DmPolicy,
    GatewayKind,
    MentionPolicy,
    ProviderKind,
)
from clawnet.models import Binding, Bot, BotChannel, BotPause, Gateway, ModelProvider, utcnow
from clawnet.security.secret_fields import CHANNEL_CREDENTIALS, GATEWAY_TOKEN, PROVIDER_API_KEY, unseal_json
from clawnet.settings import Settings

PUBLIC_TELEGRAM_API = "https://api.telegram.org"
# A paused bot's agent runs on this provider: ClawNet's own loopback model answering with the
# bot's pause reply (the echo server's `/paused/v1`), so no real model is called.
PAUSED_PROVIDER = oc.PAUSED_PROVIDER


def paused_model_id(bot_id: int) -> str:
    return f"bot-{bot_id}"


def paused_provider(settings: Settings, agents: tuple[oc.AgentSpec, ...]) -> oc.ProviderSpec:
    models = tuple(
        oc.ModelSpec(id=a.model_ref.split("/", 1)[1])
        for a in agents
        if a.model_ref.startswith(PAUSED_PROVIDER + "/")
    )
    base_url = f"http://127.0.0.1:{settings.echo_llm_port}/paused/v1"
    return oc.ProviderSpec(PAUSED_PROVIDER, ProviderKind.LOCAL_ECHO, base_url, "paused", models)


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
    spare: bool = False  # a warm spare: runs with no agent, ready to take over (spares.py)

    @property
    def is_local(self) -> bool:
        return self.kind == GatewayKind.LOCAL.value

    @property
    def has_channels(self) -> bool:
        # A spare starts with its channel runtime on: the bots it takes over bring channels hot.
        return self.spare or any(a.channels for a in self.agents if a.active)

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}" if self.is_local else str(self.url)

    @property
    def target(self) -> LinkTarget:
        return LinkTarget(self.gateway_id, self.ws_url, self.token, dict(self.agent_bots))


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
        group_mentions=dict(channel.group_mentions or {}),
    )


@dataclass
class BotRows:
    """What an agent is made of besides its bot row, read for many bots in a few queries (a
    reconcile pass builds every gateway's agents: one query per bot and table was most of it)."""

    channels: dict[int, list[BotChannel]]
    bindings: dict[int, list[Binding]]
    paused: set[int]
    skills: dict[int, SkillChoices]


def bot_rows(session: Session, bot_ids: Iterable[int | None]) -> BotRows:
    ids = sorted({i for i in bot_ids if i is not None})
    rows = BotRows({i: [] for i in ids}, {i: [] for i in ids}, set(), load_choices_of(session, ids))
    if ids:
        for c in session.exec(
            select(BotChannel).where(col(BotChannel.bot_id).in_(ids)).order_by(col(BotChannel.type))
        ).all():
            rows.channels[c.bot_id].append(c)
        for b in session.exec(
            select(Binding).where(col(Binding.bot_id).in_(ids)).order_by(col(Binding.id))
        ).all():
            rows.bindings[b.bot_id].append(b)
        rows.paused = set(
            session.exec(
                select(BotPause.bot_id).where(col(BotPause.bot_id).in_(ids), BotPause.reason != "none")
            ).all()
        )
    return rows


def agent_specs(
    session: Session,
    bots: Iterable[Bot],
    providers: dict[int, ModelProvider],
    settings: Settings,
    *,
    local: bool,
) -> tuple[oc.AgentSpec, ...]:
    """Each bot as the OpenClaw agent its gateway runs."""
    bots = list(bots)
    rows = bot_rows(session, (b.id for b in bots))
    return tuple(_agent_spec(b, rows, providers, settings, local=local) for b in bots)


def agent_spec(
    session: Session, bot: Bot, providers: dict[int, ModelProvider], settings: Settings, *, local: bool
) -> oc.AgentSpec:
    return agent_specs(session, [bot], providers, settings, local=local)[0]


def _agent_spec(
    bot: Bot, rows: BotRows, providers: dict[int, ModelProvider], settings: Settings, *, local: bool
) -> oc.AgentSpec:
    provider = providers.get(bot.provider_id) if bot.provider_id is not None else None
    channels = rows.channels.get(bot.id or 0, [])
    bindings = rows.bindings.get(bot.id or 0, [])
    paths = bot_paths(settings, bot.agent_id)
    paused = bot.id in rows.paused
    model_ref = f"{provider.name}/{bot.model_id}" if provider and bot.model_id else ""
    if paused and bot.id is not None:
        model_ref = f"{PAUSED_PROVIDER}/{paused_model_id(bot.id)}"
    return oc.AgentSpec(
        active=bot.desired_status == DesiredStatus.RUNNING.value,
        agent_id=bot.agent_id,
        name=bot.name,
        model_ref=model_ref,
        workspace=str(paths.workspace) if local else "",
        emoji=bot.emoji,
        persona=bot.persona,
        tools_profile=bot.tools_profile,
        tools_allow=tuple(bot.tools_allow),
        tools_deny=tuple(bot.tools_deny),
        exec_approval=bool(bot.exec_approval),
        tools_allow_only=tuple(bot.tools_allow_only or ()),
        model_fallbacks=tuple(bot.model_fallbacks or ()) if provider and bot.model_id and not paused else (),
        theme=bot.identity_theme,
        persona_files=dict(bot.persona_files or {}),
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
                tuple(b.roles or ()),
            )
            for b in bindings
        ),
        skills=rows.skills[bot.id].effective() if bot.id is not None else None,
    )


def preview_config(
    settings: Settings, agent: oc.AgentSpec, provider: ModelProvider | None, session: oc.SessionSpec
) -> dict[str, Any]:
    """The config a gateway would get for one bot not yet saved (the wizard asks OpenClaw to
    check it before launch)."""
    return oc.build_config(
        oc.GatewaySpec(
            local=True,
            port=settings.gateway_base_port,
            token="preview",  # noqa: S106 (never runs: validation only)
            log_file=str(settings.data_dir / "preview.log"),
            providers=(provider_spec(provider, settings),) if provider else (),
            agents=(agent,),
            session=session,
        )
    )


def _warmup_agents(
    settings: Settings, gw: Gateway, providers: Iterable[ModelProvider]
) -> tuple[oc.AgentSpec, ...]:
    """A spare's hidden agents, on the local echo model when there is one: the warm-up agent
    (spares.WARMUP_AGENT), and once the process has been started, the one its first hot change
    adds (spares.RELOAD_WARMUP_AGENT)."""
    echo = next((p for p in providers if p.kind == ProviderKind.LOCAL_ECHO.value), None)
    model = ""
    if echo is not None:
        model = f"{echo.name}/{(echo.models or [{'id': 'echo-1'}])[0]['id']}"
    workspace = str(gateway_paths(settings, gw.id or 0).root / "warmup")
    ids = (WARMUP_AGENT, RELOAD_WARMUP_AGENT) if gw.last_started_at is not None else (WARMUP_AGENT,)
    return tuple(
        oc.AgentSpec(agent_id=agent_id, name="Warm-up", model_ref=model, workspace=workspace)
        for agent_id in ids
    )


def _gateway_spec(
    session: Session, settings: Settings, gw: Gateway, agents: tuple[oc.AgentSpec, ...], token: str
) -> oc.GatewaySpec:
    assert gw.id is not None
    local = gw.kind == GatewayKind.LOCAL.value
    paths = gateway_paths(settings, gw.id)
    providers = [p for p in session.exec(select(ModelProvider)).all() if p.id is not None]
    return oc.GatewaySpec(
        local=local,
        port=gw.base_port or 0,
        token=token,
        log_file=str(paths.log_file),
        workspace_root=str(paths.workspace_root) if local else "",
        providers=(*(provider_spec(p, settings) for p in providers), paused_provider(settings, agents)),
        agents=agents,
        session=oc.SessionSpec(**_session_kwargs(gw.session_settings)),
        openclaw_version=installed_version(settings.openclaw_bin) if local else "",
        allow_skill_uploads=has_custom_skills(session, _bot_ids(session, gw.id)),
    )


def candidate_config(
    session: Session, settings: Settings, bot: Bot, agent: oc.AgentSpec
) -> dict[str, Any] | None:
    """The whole config of `bot`'s gateway as it would be with `agent` in place of the bot's
    stored agent (running, so that its routes are in it): what a change to the bot would make
    the gateway run, for OpenClaw to check before the change is saved. Reads only. None when
    the bot has no gateway yet."""
    gw = session.get(Gateway, bot.gateway_id) if bot.gateway_id is not None else None
    if gw is None:
        return None
    bots = session.exec(select(Bot).where(Bot.gateway_id == gw.id).order_by(col(Bot.id))).all()
    local = gw.kind == GatewayKind.LOCAL.value
    providers = {p.id: p for p in session.exec(select(ModelProvider)).all() if p.id is not None}
    specs = agent_specs(session, bots, providers, settings, local=local)
    agents = tuple(
        replace(agent, active=True) if b.id == bot.id else spec for b, spec in zip(bots, specs, strict=True)
    )
    return oc.build_config(_gateway_spec(session, settings, gw, agents, "candidate"))


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
    agents = agent_specs(session, bots, providers, settings, local=local)
    token = GATEWAY_TOKEN.unseal(gw.token_enc)
    config: dict[str, Any] | None = None
    config_hash = ""
    # A gateway with no running bot is stopped, not configured; a spare runs its warm-up agent.
    config_agents = agents
    if gw.warmup_agent and local:
        config_agents = (*_warmup_agents(settings, gw, providers.values()), *agents)
    if running or (gw.spare and local):
        config = oc.build_config(_gateway_spec(session, settings, gw, config_agents, token))
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
        spare=gw.spare,
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


def _bot_ids(session: Session, gateway_id: int) -> list[int]:
    return [
        i for i in session.exec(select(Bot.id).where(Bot.gateway_id == gateway_id)).all() if i is not None
    ]
