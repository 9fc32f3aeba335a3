"""The event bus: filters, bounded queues for slow subscribers, publishing from threads."""

from __future__ import annotations

import asyncio
import threading

from clawnet.events import EventBus, FleetEvent, Kind


async def test_subscribers_get_only_what_they_asked_for():
    bus = EventBus()
    with bus.subscribe([Kind.BOT_STATUS], bot_ids=[1]) as sub, bus.subscribe() as everything:
        bus.publish(Kind.BOT_STATUS, {"status": "running"}, bot_id=2)
        bus.publish(Kind.GATEWAY_STATUS, {"status": "running"}, gateway_id=1)
        bus.publish(Kind.BOT_STATUS, {"status": "error"}, bot_id=1)
        event = await sub.get(timeout=1)
        assert (event.kind, event.bot_id, event.payload["status"]) == (Kind.BOT_STATUS, 1, "error")
        assert sub.get_nowait() is None
        assert [(await everything.get(timeout=1)).kind for _ in range(3)] == [
            Kind.BOT_STATUS,
            Kind.GATEWAY_STATUS,
            Kind.BOT_STATUS,
        ]
    assert bus.subscriber_count == 0


async def test_a_slow_subscriber_loses_its_oldest_events_and_is_told():
    bus = EventBus()
    with bus.subscribe(maxsize=3) as slow:
        for n in range(5):
            bus.publish(Kind.GATEWAY_LOG, {"n": n})
        assert slow.lagged == 2
        assert [(await slow.get(timeout=1)).payload["n"] for _ in range(3)] == [2, 3, 4]


async def test_events_published_from_another_thread_arrive():
    bus = EventBus()
    with bus.subscribe([Kind.SESSION_MESSAGE]) as sub:
        thread = threading.Thread(target=lambda: bus.publish(Kind.SESSION_MESSAGE, {"text": "hi"}))
        thread.start()
        thread.join()
        assert (await sub.get(timeout=2)).payload == {"text": "hi"}


class LoopbackTransport:
    """Two buses sharing a transport, as two processes sharing Redis would."""

    def __init__(self) -> None:
        self.peers: list = []

    async def start(self, deliver) -> None:
        self.peers.append(deliver)

    def send(self, event: FleetEvent) -> None:
        for deliver in self.peers:
            deliver(event)

    async def stop(self) -> None:
        self.peers.clear()


async def test_a_transport_carries_events_to_other_processes_once():
    transport = LoopbackTransport()
    web, controller = EventBus(origin="web"), EventBus(origin="controller")
    await web.attach_transport(transport)
    await controller.attach_transport(transport)
    with web.subscribe() as web_sub, controller.subscribe([Kind.FLEET_KICK]) as kicks:
        web.publish(Kind.FLEET_KICK)
        assert (await kicks.get(timeout=1)).origin == "web"
        assert (await web_sub.get(timeout=1)).kind == Kind.FLEET_KICK
        await asyncio.sleep(0.05)
        assert web_sub.get_nowait() is None  # not delivered twice to its own process
