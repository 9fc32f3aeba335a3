"""Which gateway hosts which bot.

An idle gateway costs about 1 GB whatever its agent count, so the bots of one owner share a
pooled gateway (up to `pool_capacity` agents). OpenClaw's session scope and reset are
gateway-wide, so a pool only hosts bots that agree on them. A bot can instead get a dedicated
gateway (stronger isolation: one process, one trust boundary). A bot placed on a remote gateway
by an admin stays there.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, func, select

from clawnet.controlplane.openclaw_config import SessionSpec
from clawnet.controlplane.ports import new_local_gateway_row
from clawnet.controlplane.spares import claim_spare, suits_spare
from clawnet.enums import GatewayKind, Placement
from clawnet.models import AgentTombstone, Bot, BotChannel, Gateway, User
from clawnet.settings import Settings


def session_spec_of(bot: Bot) -> SessionSpec:
    return SessionSpec(
        bot.session_scope, bot.dm_scope, bot.reset_mode, bot.reset_at_hour, bot.reset_idle_minutes
    )


def session_settings_of(bot: Bot) -> dict[str, Any]:
    return session_spec_of(bot).to_config()


def new_local_gateway(
    session: Session,
    settings: Settings,
    *,
    owner_id: int,
    placement: Placement,
    session_settings: dict[str, Any],
    label: str,
) -> Gateway:
    return new_local_gateway_row(
        session,
        settings,
        name=label,
        owner_id=owner_id,
        placement=placement,
        capacity=1 if placement is Placement.DEDICATED else settings.pool_capacity,
        session_settings=session_settings,
    )


def bots_on(session: Session, gateway_id: int) -> int:
    return session.exec(select(func.count()).select_from(Bot).where(Bot.gateway_id == gateway_id)).one()


def _fenced(session: Session, gateway: Gateway, bot: Bot) -> bool:
    """Whether this gateway once deleted an agent with the bot's id (OpenClaw refuses it then)."""
    return (
        session.exec(
            select(AgentTombstone.id).where(
                AgentTombstone.agent_id == bot.agent_id, AgentTombstone.gateway_id == gateway.id
            )
        ).first()
        is not None
    )


def _fits(session: Session, gateway: Gateway, bot: Bot) -> bool:
    """Whether `bot` can stay on (or join) `gateway` under the placement rules."""
    if bot.gateway_id != gateway.id and _fenced(session, gateway, bot):
        return False
    if gateway.kind == GatewayKind.REMOTE.value:
        return True
    wanted = Placement(bot.placement)
    if gateway.placement != wanted.value or gateway.owner_id != bot.owner_id:
        return False
    if gateway.session_settings != session_settings_of(bot):
        others = session.exec(
            select(func.count()).select_from(Bot).where(Bot.gateway_id == gateway.id, Bot.id != bot.id)
        ).one()
        # A gateway the bot has to itself simply takes the bot's new session settings.
        return others == 0 and bot.gateway_id == gateway.id
    if bot.gateway_id == gateway.id:
        return True
    return bots_on(session, gateway.id or 0) < gateway.capacity


def place_bot(session: Session, bot: Bot, settings: Settings) -> Gateway:
    """Assign `bot` to a gateway (creating one if needed) and return it. Keeps the current
    gateway whenever the rules allow, so a bot only moves when its placement or its session
    settings change."""
    if bot.gateway_id is not None:
        current = session.get(Gateway, bot.gateway_id)
        if current is not None and _fits(session, current, bot):
            if current.kind == GatewayKind.LOCAL.value or not current.session_settings:
                current.session_settings = session_settings_of(bot)  # a no-op unless the bot is alone there
                session.add(current)
            return current
    wanted = Placement(bot.placement)
    if wanted is Placement.POOLED:
        candidates = session.exec(
            select(Gateway)
            .where(
                Gateway.kind == GatewayKind.LOCAL.value,
                Gateway.placement == Placement.POOLED.value,
                Gateway.owner_id == bot.owner_id,
            )
            .order_by(col(Gateway.id))
        ).all()
        for gateway in candidates:
            if _fits(session, gateway, bot):
                bot.gateway_id = gateway.id
                session.add(bot)
                return gateway
    owner = session.get(User, bot.owner_id)
    owner_name = owner.display_name if owner else f"user {bot.owner_id}"
    label = f"Dedicated: {bot.name}" if wanted is Placement.DEDICATED else f"{owner_name}'s pool"
    claimed: Gateway | None = None
    channel_types = session.exec(select(BotChannel.type).where(BotChannel.bot_id == bot.id)).all()
    if bot.gateway_id is None and suits_spare(settings, bot.agent_id, channel_types):  # a new bot
        claimed = claim_spare(
            session,
            owner_id=bot.owner_id,
            placement=wanted,
            capacity=1 if wanted is Placement.DEDICATED else settings.pool_capacity,
            session_settings=session_settings_of(bot),
            label=label,
        )
    gateway = claimed or new_local_gateway(
        session,
        settings,
        owner_id=bot.owner_id,
        placement=wanted,
        session_settings=session_settings_of(bot),
        label=label,
    )
    bot.gateway_id = gateway.id
    session.add(bot)
    return gateway
