"""The event bus: every status change, log line, session change and error, published for whoever
listens (live pages, tests, benchmarks), and carried between processes by a transport (Redis).
Event names and their payloads are listed in `Kind`."""

from clawnet.events.bus import EventBus, FleetEvent, Subscription, Transport
from clawnet.events.kinds import Kind

__all__ = ["EventBus", "FleetEvent", "Kind", "Subscription", "Transport"]
