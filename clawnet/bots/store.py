"""Writing a bot's input into its rows (and reading it back), inside the caller's transaction.

Channel credentials are sealed here on the way in; an empty credential field keeps the stored
one, so a form never needs the secret back.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from clawnet.bots.forms import BindingInput, BotInput, ChannelInput
from clawnet.enums import GatewayKind
from clawnet.models import Binding, Bot, BotChannel, Gateway, utcnow
from clawnet.security.secret_fields import CHANNEL_CREDENTIALS, seal_json, unseal_json


def _drop_overrides(bot: Bot, inp: BotInput) -> None:
    """What an import brought in verbatim (persona files, an exact tool allowlist) gives way once
    a person edits what it covers, so the edit takes effect."""
    files = dict(bot.persona_files or {})
    if inp.persona.strip() != bot.persona:
        files.pop("SOUL.md", None)
    if inp.name.strip() != bot.name or inp.emoji.strip() != bot.emoji:
        files.pop("IDENTITY.md", None)
    if files != dict(bot.persona_files or {}):
        bot.persona_files = files
    allow = [t.strip() for t in inp.tools_allow if t.strip()]
    if bot.tools_allow_only and (
        allow != list(bot.tools_allow or []) or inp.tools_profile != bot.tools_profile
    ):
        bot.tools_allow_only = []


def apply_input(bot: Bot, inp: BotInput) -> None:
    _drop_overrides(bot, inp)
    bot.name = inp.name.strip()
    bot.persona = inp.persona.strip()
    bot.emoji = inp.emoji.strip()
    bot.avatar_path = inp.avatar_path
    bot.provider_id = inp.provider_id
    bot.model_id = inp.model_id.strip()
    bot.placement = inp.placement
    bot.session_scope, bot.dm_scope, bot.reset_mode = inp.session_scope, inp.dm_scope, inp.reset_mode
    bot.reset_at_hour, bot.reset_idle_minutes = inp.reset_at_hour, inp.reset_idle_minutes
    bot.tools_profile = inp.tools_profile
    bot.tools_allow = [t.strip() for t in inp.tools_allow if t.strip()]
    bot.tools_deny = [t.strip() for t in inp.tools_deny if t.strip()]
    bot.exec_approval = bool(inp.exec_approval)
    bot.updated_at = utcnow()


def summary(bot: Bot) -> dict[str, Any]:
    """What an audit event says about a bot (never credentials)."""
    return {
        "name": bot.name,
        "agent_id": bot.agent_id,
        "model": f"{bot.provider_id}/{bot.model_id}",
        "placement": bot.placement,
        "tools": bot.tools_profile,
        "desired": bot.desired_status,
    }


def replace_channels(session: Session, bot: Bot, channels: list[ChannelInput]) -> None:
    assert bot.id is not None
    existing = {c.type: c for c in session.exec(select(BotChannel).where(BotChannel.bot_id == bot.id)).all()}
    wanted = {c.type: c for c in channels}
    for ctype, row in existing.items():
        if ctype not in wanted:
            session.delete(row)
    for ctype, inp in wanted.items():
        row = existing.get(ctype) or BotChannel(bot_id=bot.id, type=ctype, account_id=bot.agent_id)
        creds = {k: v.strip() for k, v in inp.credentials.items() if v and v.strip()}
        if existing.get(ctype) is not None and row.credentials_enc:
            # Secrets are never sent back to the browser: an empty field means "keep the stored one".
            creds = {**unseal_json(CHANNEL_CREDENTIALS, row.credentials_enc), **creds}
        row.credentials_enc = seal_json(CHANNEL_CREDENTIALS, creds) if creds else None
        row.dm_policy, row.group_policy, row.mention_policy = (
            inp.dm_policy,
            inp.group_policy,
            inp.mention_policy,
        )
        row.allow_from = [a.strip() for a in inp.allow_from if a.strip()]
        row.group_allow_from = list(dict.fromkeys(a.strip() for a in inp.group_allow_from if a.strip()))
        row.group_mentions = {
            gid: mention for gid, mention in inp.group_mentions.items() if gid in row.group_allow_from
        }
        row.enabled = inp.enabled
        row.updated_at = utcnow()
        session.add(row)


def replace_bindings(session: Session, bot: Bot, bindings: list[BindingInput]) -> None:
    assert bot.id is not None
    existing = session.exec(select(Binding).where(Binding.bot_id == bot.id).order_by(col(Binding.id))).all()
    if [binding_input(b) for b in existing] == bindings:
        return  # unchanged: keep the rows (and their order) as they are
    for row in existing:
        session.delete(row)
    for b in bindings:
        session.add(
            Binding(
                bot_id=bot.id,
                channel=b.channel,
                account_id=b.account_id.strip() or None,
                peer_kind=b.peer_kind or None,
                peer_id=b.peer_id.strip() or None,
                guild_id=b.guild_id.strip() or None,
                team_id=b.team_id.strip() or None,
                roles=[r.strip() for r in b.roles if r.strip()],
                priority=b.priority,
            )
        )


def binding_input(b: Binding) -> BindingInput:
    return BindingInput(
        channel=b.channel,
        peer_kind=b.peer_kind or "",
        peer_id=b.peer_id or "",
        guild_id=b.guild_id or "",
        team_id=b.team_id or "",
        priority=b.priority,
        account_id=b.account_id or "",
        roles=list(b.roles or []),
    )


def _remote_gateway_of(session: Session, bot: Bot) -> int | None:
    gateway = session.get(Gateway, bot.gateway_id) if bot.gateway_id is not None else None
    return gateway.id if gateway is not None and gateway.kind == GatewayKind.REMOTE.value else None


def stored_input(session: Session, bot: Bot) -> BotInput:
    """Everything the bot is made of, as input (credentials left empty: they stay stored)."""
    channels = session.exec(
        select(BotChannel).where(BotChannel.bot_id == bot.id).order_by(col(BotChannel.type))
    ).all()
    bindings = session.exec(select(Binding).where(Binding.bot_id == bot.id).order_by(col(Binding.id))).all()
    return BotInput(
        name=bot.name,
        provider_id=bot.provider_id,
        model_id=bot.model_id,
        agent_id=bot.agent_id,
        persona=bot.persona,
        emoji=bot.emoji,
        avatar_path=bot.avatar_path,
        placement=bot.placement,
        remote_gateway_id=_remote_gateway_of(session, bot),
        session_scope=bot.session_scope,
        dm_scope=bot.dm_scope,
        reset_mode=bot.reset_mode,
        reset_at_hour=bot.reset_at_hour,
        reset_idle_minutes=bot.reset_idle_minutes,
        tools_profile=bot.tools_profile,
        tools_allow=list(bot.tools_allow),
        tools_deny=list(bot.tools_deny),
        exec_approval=bool(bot.exec_approval),
        channels=[
            ChannelInput(
                type=c.type,
                credentials={},
                dm_policy=c.dm_policy,
                allow_from=list(c.allow_from),
                group_policy=c.group_policy,
                group_allow_from=list(c.group_allow_from),
                mention_policy=c.mention_policy,
                enabled=c.enabled,
                group_mentions=dict(c.group_mentions or {}),
            )
            for c in channels
        ],
        bindings=[binding_input(b) for b in bindings],
        start=bot.desired_status == "running",
    )


def stored_credentials(session: Session, bot_id: int) -> dict[str, str]:
    """The bot's channel credentials as "<channel>.<field>" -> value (server side only: for a
    connection test or a config check, never for a page)."""
    creds: dict[str, str] = {}
    for c in session.exec(select(BotChannel).where(BotChannel.bot_id == bot_id)).all():
        for name, value in unseal_json(CHANNEL_CREDENTIALS, c.credentials_enc).items():
            creds[f"{c.type}.{name}"] = value
    return creds
