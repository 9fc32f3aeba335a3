"""WebFinger, host-meta, NodeInfo, actors, notes and collections, as served."""

from __future__ import annotations

from clawnet.events import EventBus
from clawnet.settings import Settings


class FederationPublishing:
    def __init__(self, settings: Settings, bus: EventBus) -> None:
        self.settings = settings
        self.bus = bus
