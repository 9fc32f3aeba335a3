"""Channel accounts on a gateway: their status into the database, and starting the ones that
should run but do not.

After three unclean boots within five minutes OpenClaw's restart-loop breaker stops starting
channels on its own ("safe mode"); `channels.start` is its documented manual override. A
supervisor that restarts crashed gateways therefore has to start them itself.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlmodel import Session, select

from clawnet.controlplane.channel_errors import plain_channel_error
from clawnet.controlplane.db_runner import DbRunner
from clawnet.controlplane.gateway_api import ChannelAccount
from clawnet.controlplane.links import GatewayLink
from clawnet.controlplane.protocol import GatewayError
from clawnet.enums import ChannelStatus
from clawnet.events import EventBus, Kind
from clawnet.models import BotChannel, utcnow

log = logging.getLogger(__name__)


def account_status(account: ChannelAccount) -> tuple[ChannelStatus, str]:
    """OpenClaw's view of one channel account -> (status, last error)."""
    if not account.enabled:
        return ChannelStatus.DISABLED, account.last_error
    if account.connected:
        return ChannelStatus.CONNECTED, ""
    if account.last_error:
        return ChannelStatus.ERROR, plain_channel_error(account.channel, account.last_error)
    if account.linked is False:  # WhatsApp before its QR code was scanned: say so, not nothing
        return ChannelStatus.DISCONNECTED, plain_channel_error(account.channel, "not linked")
    return ChannelStatus.DISCONNECTED, ""


def _ms(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value / 1000, UTC) if value else None


async def sync_channels(db: DbRunner, bus: EventBus, link: GatewayLink, *, start_stopped: bool = True) -> int:
    """Refresh the status of a gateway's channel accounts; start configured ones that are not
    running. Returns how many were started."""
    try:
        accounts = await link.api.channel_accounts()
    except GatewayError as exc:
        log.debug("gateway %s: channels.status failed: %s", link.gateway_id, exc)
        return 0
    observed: list[tuple[int, str, ChannelStatus, str, datetime | None]] = []
    to_start: list[tuple[str, str]] = []
    for account in accounts:
        bot_id = link.bot_of(account.account_id)
        if bot_id is None:
            continue
        state, error = account_status(account)
        observed.append((bot_id, account.channel, state, error, _ms(account.last_event_ms)))
        if account.configured and account.enabled and not account.running:
            to_start.append((account.channel, account.account_id))
    started = 0
    for channel_type, agent_id in to_start if start_stopped else []:
        try:
            outcome = await link.api.start_channel(channel_type, agent_id)
            started += 1 if outcome.started else 0
            log.info(
                "gateway %s: started channel %s/%s (%s)", link.gateway_id, channel_type, agent_id, outcome
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

    for bot_id, channel_type, state_value, error in await db.run(store):
        bus.publish(
            Kind.CHANNEL_STATUS,
            {"channel": channel_type, "status": state_value, "error": error},
            bot_id=bot_id,
            gateway_id=link.gateway_id,
        )
    return started
