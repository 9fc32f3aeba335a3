"""Which gateway hosts which bot.

An idle gateway costs about 1 GB whatever its agent count, so the bots of one owner share a
pooled gateway (up to `pool_capacity` agents). OpenClaw's session scope and reset are
gateway-wide, so a pool only hosts bots that agree on them. A bot can instead get a dedicated
gateway (stronger isolation: one process, one trust boundary). A bot placed on a remote gateway
by an admin stays there.
"""

from __future__ import annotations

from typing import Any

import psutil
from sqlmodel import Session, col, func, select

from clawnet.bots.views import PlacementChoice
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


REMOTE_PREFIX = "remote:"  # a placement choice naming a remote gateway: "remote:<id>"
PLACEMENT_LABELS = {
    Placement.POOLED.value: "Shared gateway on this machine (efficient)",
    Placement.DEDICATED.value: "Own gateway on this machine (isolated, ~1 GB)",
}


def remote_gateways(session: Session) -> list[Gateway]:
    return list(
        session.exec(
            select(Gateway).where(Gateway.kind == GatewayKind.REMOTE.value).order_by(col(Gateway.id))
        ).all()
    )


def placement_choices(session: Session) -> list[PlacementChoice]:
    """This machine (shared or own gateway), then every remote gateway with how full it is."""
    choices = [PlacementChoice(value, label) for value, label in PLACEMENT_LABELS.items()]
    for gateway in remote_gateways(session):
        used = bots_on(session, gateway.id or 0)
        full = ", full" if used >= gateway.capacity else ""
        choices.append(
            PlacementChoice(
                f"{REMOTE_PREFIX}{gateway.id}",
                f"On {gateway.name} (another host: {used} of {gateway.capacity} agents{full})",
            )
        )
    return choices


def remote_problem(session: Session, gateway_id: int, bot_id: int | None) -> str | None:
    """Why a bot cannot be placed on this remote gateway, or None."""
    gateway = session.get(Gateway, gateway_id)
    if gateway is None or gateway.kind != GatewayKind.REMOTE.value:
        return "Choose one of the remote gateways listed under Settings → Gateways."
    used = session.exec(
        select(func.count()).select_from(Bot).where(Bot.gateway_id == gateway_id, Bot.id != bot_id)
    ).one()
    if used >= gateway.capacity:
        return f"{gateway.name} is full ({used} of {gateway.capacity} agents): choose another gateway."
    return None


def on_remote_gateway(session: Session, bot: Bot) -> bool:
    gateway = session.get(Gateway, bot.gateway_id) if bot.gateway_id is not None else None
    return gateway is not None and gateway.kind == GatewayKind.REMOTE.value


def local_room(settings: Settings) -> bool:
    """Whether this machine has the memory for one more gateway."""
    return psutil.virtual_memory().available >= settings.local_gateway_min_free_mb * 1024 * 1024


def roomiest_remote(session: Session) -> Gateway | None:
    """The remote gateway with the most free places, if any has one."""
    best, room = None, 0
    for gateway in remote_gateways(session):
        free = gateway.capacity - bots_on(session, gateway.id or 0)
        if free > room:
            best, room = gateway, free
    return best


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
    if claimed is None and wanted is Placement.POOLED and not local_room(settings):
        remote = roomiest_remote(session)  # this machine is short of memory: a host with room
        if remote is not None:
            bot.gateway_id = remote.id
            session.add(bot)
            return remote
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
