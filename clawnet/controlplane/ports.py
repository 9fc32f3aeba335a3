"""Port ranges for local gateways (each takes a base port and the ~110 above it), and the row of a
new local gateway: its ports and its own token."""

from __future__ import annotations

import secrets
from typing import Any

from sqlmodel import Session, select

from clawnet.controlplane.supervisor import port_is_free
from clawnet.enums import GatewayKind, Placement
from clawnet.models import Gateway
from clawnet.security.secret_fields import GATEWAY_TOKEN
from clawnet.settings import Settings


def allocate_port(session: Session, settings: Settings) -> int:
    """The lowest base port, spaced `gateway_port_spacing` apart (a gateway also uses the ~110
    ports above its own), that no gateway has and nothing on this host listens on."""
    used = {p for p in session.exec(select(Gateway.base_port)).all() if p is not None}
    port = settings.gateway_base_port
    while port in used or not port_is_free(port):
        port += settings.gateway_port_spacing
        if port > 65000:
            raise RuntimeError("No free port range left for another gateway.")
    return port


def move_port(session: Session, settings: Settings, gateway_id: int) -> None:
    """Give a gateway that never ran a new port range (its own is taken by another program)."""
    gw = session.get(Gateway, gateway_id)
    if gw is not None:
        gw.base_port = None
        session.add(gw)
        session.flush()
        gw.base_port = allocate_port(session, settings)
        session.add(gw)


def new_local_gateway_row(
    session: Session,
    settings: Settings,
    *,
    name: str,
    owner_id: int | None,
    placement: Placement,
    capacity: int,
    session_settings: dict[str, Any],
    spare: bool = False,
) -> Gateway:
    """A local gateway's row, flushed (the reconciler starts its process): a free port range and a
    token of its own. A spare also runs the warm-up agent (`spares.WARMUP_AGENT`)."""
    gateway = Gateway(
        name=name,
        kind=GatewayKind.LOCAL.value,
        placement=placement.value,
        owner_id=owner_id,
        spare=spare,
        warmup_agent=spare,
        capacity=capacity,
        base_port=allocate_port(session, settings),
        token_enc=GATEWAY_TOKEN.seal(secrets.token_urlsafe(32)),
        session_settings=session_settings,
    )
    session.add(gateway)
    session.flush()
    return gateway
