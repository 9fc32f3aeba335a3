"""Channel accounts on a gateway: their status into the database, and starting the ones that
should run but do not.

After three unclean boots within five minutes OpenClaw's restart-loop breaker stops starting
channels on its own ("safe mode"); `channels.start` is its documented manual override. A
supervisor that restarts crashed gateways therefore has to start them itself.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, select

from clawnet.controlplane.protocol import GatewayError
from clawnet.events.bus import Kind
from clawnet.models import BotChannel, utcnow
from clawnet.models.enums import ChannelStatus

if TYPE_CHECKING:
    from clawnet.controlplane.controller import FleetController, GatewayLink

log = logging.getLogger(__name__)


def account_status(account: dict[str, Any]) -> tuple[ChannelStatus, str]:
    """OpenClaw's view of one channel account -> (status, last error)."""
    error = str(account.get("lastError") or "")
    if not account.get("enabled", True):
        return ChannelStatus.DISABLED, error
    if account.get("connected"):
        return ChannelStatus.CONNECTED, ""
    if error:
        return ChannelStatus.ERROR, error
    return ChannelStatus.DISCONNECTED, error


def _ms(value: Any) -> datetime | None:
    return datetime.fromtimestamp(value / 1000, UTC) if isinstance(value, int | float) and value > 0 else None


async def sync_channels(controller: FleetController, link: GatewayLink, *, start_stopped: bool = True) -> int:
    """Refresh the status of a gateway's channel accounts; start configured ones that are not
    running. Returns how many were started."""
    try:
        status = await link.client.call("channels.status", {}, timeout=20, connect_wait=5)
    except GatewayError as exc:
        log.debug("gateway %s: channels.status failed: %s", link.gateway_id, exc)
        return 0
    observed: list[tuple[int, str, ChannelStatus, str, datetime | None]] = []
    to_start: list[tuple[str, str]] = []
    for channel_type, accounts in (status.get("channelAccounts") or {}).items():
        for account in accounts or []:
            agent_id = str(account.get("accountId") or "")
            bot_id = link.agent_bots.get(agent_id)
            if bot_id is None:
                continue
            state, error = account_status(account)
            observed.append((bot_id, channel_type, state, error, _ms(account.get("lastEventAt"))))
            if account.get("configured") and account.get("enabled", True) and not account.get("running"):
                to_start.append((channel_type, agent_id))
    started = 0
    for channel_type, agent_id in to_start if start_stopped else []:
        try:
            answer = await link.client.call(
                "channels.start", {"channel": channel_type, "accountId": agent_id}, timeout=30
            )
            started += 1 if (answer or {}).get("started") else 0
            log.info(
                "gateway %s: started channel %s/%s (%s)",
                link.gateway_id,
                channel_type,
                agent_id,
                (answer or {}).get("outcome"),
            )
        except GatewayError as exc:
            log.warning(
                "gateway %s: channels.start %s/%s failed: %s", link.gateway_id, channel_type, agent_id, exc
            )

    def store(s: Session) -> list[tuple[int, str, str, str]]:
        changed = []
        for bot_id, channel_type, state, error, seen in observed:
            row = s.exec(
                select(BotChannel).where(BotChannel.bot_id == bot_id, BotChannel.type == channel_type)
            ).first()
            if row is None:
                continue
            if row.status != state.value or row.last_error != error[:2000]:
                changed.append((bot_id, channel_type, state.value, error))
            row.status, row.last_error = state.value, error[:2000]
            if seen is not None:
                row.last_seen_at = seen
            row.updated_at = utcnow()
            s.add(row)
        return changed

    for bot_id, channel_type, state_value, error in await controller.db.run(store):
        controller.bus.publish(
            Kind.CHANNEL_STATUS,
            {"channel": channel_type, "status": state_value, "error": error},
            bot_id=bot_id,
            gateway_id=link.gateway_id,
        )
    return started
