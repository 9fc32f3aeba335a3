"""Port ranges for local gateways: each gateway takes a base port and the ~110 above it."""

from __future__ import annotations

from sqlmodel import Session, select

from clawnet.controlplane.supervisor import port_is_free
from clawnet.models import Gateway
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
