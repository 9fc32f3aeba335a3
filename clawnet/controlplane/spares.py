"""Warm spare gateways: OpenClaw takes 9-12 s to start on a small machine, so ClawNet keeps
`warm_spares` gateways started ahead, idle (no owner, only a warm-up agent, ~1 GB each). A new
gateway (an owner's first bot, a pool that is full, a dedicated bot) takes a running spare instead
of starting a process: the spare becomes that gateway, and its agents arrive by a hot config
change. The reconciler keeps the number of spares (`keep_spares`, every pass), so the next one
starts in the background.

Spares only serve bots whose channels need no plugin (Telegram is bundled; Discord, Slack,
WhatsApp and Signal load a plugin at start): those start a gateway of their own as before.

Only new bots are placed on a spare: OpenClaw (2026.9.6) indexes an agent's existing sessions
when its process starts, not when the agent arrives by a hot change. A bot that already has
sessions, moved onto a spare, answered at once, but `sessions.list` did not show its sessions and
`chat.history` refused them. For the same reason a crashed gateway is restarted (health.py), not
handed to a spare.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from typing import Any

from sqlmodel import Session, col, select

from clawnet.controlplane.gateway_api import GatewayApi
from clawnet.controlplane.openclaw_config import CHANNEL_PLUGIN_IDS
from clawnet.controlplane.paths import bot_paths
from clawnet.controlplane.ports import new_local_gateway_row
from clawnet.controlplane.protocol import GatewayError
from clawnet.enums import ChannelType, GatewayKind, GatewayStatus, Placement
from clawnet.models import Gateway, utcnow
from clawnet.settings import Settings

log = logging.getLogger(__name__)

SPARE_NAME = "spare"
# OpenClaw refuses a config without agents: a spare runs this one, and one turn to it at start
# loads the agent runtime (lazily loaded: ~12 s on the first turn of a fresh process), so the first
# turn of a bot it takes over does not pay for that. It has no channel and no route, its files
# stay inside the gateway's own state folder, and it stays on the gateway after the spare became a
# pool (OpenClaw makes a gateway's first agent the owner of its inherited credentials and refuses
# to delete it; removing it cost a second config change and ~8 s).
WARMUP_AGENT = "clawnet-warmup"
WARMUP_MESSAGE = "REPLY WITH: ready"
# A process's first hot config change costs OpenClaw ~2 s (its reload path loads lazily, and the
# first agent to join pins the gateway's inherited credentials to the one that was alone); later
# ones ~0.7 s. So a started spare gets a second hidden agent by a hot change of its own (its
# desired config has it once the process has been started), and a bot's arrival is a later change.
# That agent gets a warm-up turn too: a second agent's first turn in a process costs more than
# later agents' (~0.5 s here).
RELOAD_WARMUP_AGENT = "clawnet-warmup-2"
WARMUP_AGENT_IDS = frozenset({WARMUP_AGENT, RELOAD_WARMUP_AGENT})  # no bot may take these ids


def needs_plugin(channel_types: Iterable[str]) -> bool:
    return any(ChannelType(t) in CHANNEL_PLUGIN_IDS for t in channel_types)


def suits_spare(settings: Settings, agent_id: str, channel_types: Iterable[str]) -> bool:
    """Whether a spare can take this bot hot: no channel plugin, and no session data yet."""
    state = bot_paths(settings, agent_id).state
    has_data = state.is_dir() and any(state.iterdir())
    return not needs_plugin(channel_types) and not has_data


def _ready_spare(session: Session) -> Gateway | None:
    """A spare that runs now (a starting one would not save the wait): the oldest of those that
    made their own first hot change, else the oldest."""
    running = session.exec(
        select(Gateway)
        .where(
            col(Gateway.spare).is_(True),
            Gateway.kind == GatewayKind.LOCAL.value,
            Gateway.actual_status == GatewayStatus.RUNNING.value,
            col(Gateway.pid).is_not(None),
        )
        .order_by(col(Gateway.id))
    ).all()
    settled = [g for g in running if made_first_change(g)]
    return next(iter(settled or running), None)


def made_first_change(gateway: Gateway) -> bool:
    """Whether a spare's own first hot change (RELOAD_WARMUP_AGENT) is applied."""
    entries = ((gateway.applied_config or {}).get("agents") or {}).get("entries") or {}
    return RELOAD_WARMUP_AGENT in entries


def keep_spares(session: Session, settings: Settings) -> list[int]:
    """Create spare rows up to `settings.warm_spares` (the reconciler starts them) and remove the
    extra ones (it stops their processes). Returns the ids created."""
    spares = session.exec(select(Gateway).where(col(Gateway.spare).is_(True)).order_by(col(Gateway.id))).all()
    usable = [g for g in spares if g.actual_status != GatewayStatus.CRASH_LOOP.value]
    for extra in usable[settings.warm_spares :]:
        session.delete(extra)
    created = []
    for _ in range(settings.warm_spares - len(usable)):
        gateway = new_local_gateway_row(
            session,
            settings,
            name=SPARE_NAME,
            owner_id=None,
            placement=Placement.POOLED,
            capacity=settings.pool_capacity,
            session_settings={},
            spare=True,
        )
        created.append(gateway.id or 0)
    return created


def claim_spare(
    session: Session,
    *,
    owner_id: int,
    placement: Placement,
    capacity: int,
    session_settings: dict[str, Any],
    label: str,
) -> Gateway | None:
    """A running spare made into a new gateway for `owner_id`, or None when none is ready."""
    gateway = _ready_spare(session)
    if gateway is None:
        return None
    gateway.spare = False
    gateway.owner_id, gateway.placement, gateway.capacity = owner_id, placement.value, capacity
    gateway.session_settings, gateway.name = session_settings, label
    gateway.updated_at = utcnow()
    session.add(gateway)
    session.flush()
    return gateway


async def warm_up_turn(api: GatewayApi, agent_id: str) -> None:
    """One turn to a spare's hidden agent, until it ends. OpenClaw loads its agent runtime on the
    first turn of a process, and more on the first turn of a second agent, so the first turn of
    a bot the spare takes over waits for neither."""
    try:
        run = await api.send_chat(f"agent:{agent_id}:main", WARMUP_MESSAGE, uuid.uuid4().hex)
        await api.wait_for_run(run, timeout=120)
    except GatewayError as exc:  # only slower later; nothing to recover
        log.info("warm-up turn of %s failed: %s", agent_id, exc)
