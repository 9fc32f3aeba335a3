"""Asking OpenClaw before saving: the configuration a change to a bot would give its gateway,
checked by the real `openclaw config validate` (offline, with the channel plugins that config
needs, as `openclaw_cli.validate_config` sets them up).

A saved bot on a gateway is checked inside its gateway's whole config (its routing rules name
other bots' accounts, and every bot of the gateway shares one `bindings` list); a bot not yet
placed is checked alone. OpenClaw's complaints about the bot's own routing rules come back keyed
like the form's fields (`bindings.<n>`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from clawnet.bots.forms import BotInput
from clawnet.controlplane import openclaw_config as oc
from clawnet.controlplane.openclaw_cli import ValidationResult, validate_config
from clawnet.controlplane.plan import candidate_config, preview_config
from clawnet.enums import ChannelType, DmPolicy, MentionPolicy
from clawnet.models import Bot, ModelProvider
from clawnet.settings import Settings


def agent_spec_of(inp: BotInput, provider: ModelProvider | None) -> oc.AgentSpec:
    """The agent a gateway would run for the bot `inp` describes."""
    agent_id = inp.agent_id or "bot"
    return oc.AgentSpec(
        agent_id=agent_id,
        name=inp.name,
        model_ref=f"{provider.name}/{inp.model_id}" if provider else "",
        persona=inp.persona,
        emoji=inp.emoji,
        tools_profile=inp.tools_profile,
        tools_allow=tuple(inp.tools_allow),
        tools_deny=tuple(inp.tools_deny),
        exec_approval=inp.exec_approval,
        channels=tuple(
            oc.ChannelSpec(
                ChannelType(c.type),
                agent_id,
                c.credentials,
                DmPolicy(c.dm_policy),
                tuple(c.allow_from),
                c.group_policy,
                tuple(c.group_allow_from),
                MentionPolicy(c.mention_policy),
                group_mentions=dict(c.group_mentions),
            )
            for c in inp.channels
            if c.enabled
        ),
        bindings=tuple(
            oc.BindingSpec(
                b.channel,
                b.account_id.strip() or agent_id,
                b.peer_kind or None,
                b.peer_id.strip() or None,
                b.guild_id.strip() or None,
                b.team_id.strip() or None,
                b.priority,
                tuple(r.strip() for r in b.roles if r.strip()),
            )
            for b in inp.bindings
        ),
    )


@dataclass
class Candidate:
    """The config to check, and which of its bindings are the bot's own rules."""

    config: dict[str, Any]
    rule_paths: dict[int, int] = field(default_factory=dict)  # config bindings index -> rule index


def candidate(session: Session, settings: Settings, inp: BotInput, bot_id: int | None) -> Candidate:
    """What the bot's gateway would run with `inp` (credentials already filled in)."""
    provider = session.get(ModelProvider, inp.provider_id) if inp.provider_id is not None else None
    agent = agent_spec_of(inp, provider)
    bot = session.get(Bot, bot_id) if bot_id else None
    config = candidate_config(session, settings, bot, agent) if bot is not None else None
    if config is None:
        session_spec = oc.SessionSpec(
            inp.session_scope, inp.dm_scope, inp.reset_mode, inp.reset_at_hour, inp.reset_idle_minutes
        )
        config = preview_config(settings, agent, provider, session_spec)
    return Candidate(config, _rule_paths(config, agent))


def _rule_paths(config: dict[str, Any], agent: oc.AgentSpec) -> dict[int, int]:
    """Which of the config's bindings is which of the bot's rules (by what each one says)."""
    wanted = [
        {"agentId": agent.agent_id, "match": m}
        for m in (oc.binding_match(b, agent.agent_id) for b in agent.bindings)
    ]
    paths: dict[int, int] = {}
    for n, entry in enumerate(config.get("bindings") or []):
        for i, rule in enumerate(wanted):
            if rule == entry and i not in paths.values():
                paths[n] = i
                break
    return paths


async def check_with_openclaw(settings: Settings, cand: Candidate) -> tuple[ValidationResult, dict[str, str]]:
    """OpenClaw's verdict, and its complaints about the bot's own rules keyed `bindings.<n>`."""
    result = await validate_config(settings, cand.config)
    field_errors: dict[str, str] = {}
    for path, message in result.issues:
        parts = path.split(".")
        if len(parts) >= 2 and parts[0] == "bindings" and parts[1].isdigit():
            rule = cand.rule_paths.get(int(parts[1]))
            if rule is not None:
                field_errors.setdefault(f"bindings.{rule}", f"OpenClaw refuses this rule: {message}")
    return result, field_errors
