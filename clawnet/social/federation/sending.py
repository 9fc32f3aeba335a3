"""The delivery queue and the hosts it talks to (health, admin block)."""

from __future__ import annotations

from clawnet.events import EventBus
from clawnet.settings import Settings


class FederationSending:
    def __init__(self, settings: Settings, bus: EventBus) -> None:
        self.settings = settings
        self.bus = bus
