"""The inbox (verify, de-duplicate, apply) and remote accounts (look up, fetch, follow)."""

from __future__ import annotations

from clawnet.events import EventBus
from clawnet.settings import Settings


class FederationReceiving:
    def __init__(self, settings: Settings, bus: EventBus) -> None:
        self.settings = settings
        self.bus = bus
