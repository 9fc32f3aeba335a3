"""Messages between ClawNet's processes over Redis are signed: a client that can reach Redis but
lacks the installation's key cannot make the control plane act. A raw `PUBLISH` of an unsigned,
tampered, foreign-key or replayed `chat.request` makes the controller's remote-request server do
nothing; a properly signed one (from a worker's bus) runs the turn. Rotating the key file keeps
processes that share it in agreement."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import redis

from clawnet import runtime
from clawnet.controlplane.chat import Turn
from clawnet.controlplane.remote import RemoteRequests
from clawnet.controlplane.tasks import TaskSet
from clawnet.events import EventBus, FleetEvent, Kind
from clawnet.events.redis import CHANNEL, encode, seal
from clawnet.security import crypto
from clawnet.security.key_rotation import rotate_key
from clawnet.security.message_keys import RingMessageKeys, message_key


class RecordingChats:
    """The controller's chat router, minus the gateway: records the turns it was asked to run."""

    def __init__(self) -> None:
        self.asked: list[tuple[int, str, int]] = []

    async def send(self, bot_id: int, text: str, *, user_id: int, **_kw: Any) -> Turn:
        self.asked.append((bot_id, text, user_id))
        return Turn(
            turn_id=len(self.asked), bot_id=bot_id, gateway_id=1, session_key="k", idempotency_key="i"
        )


def chat_request(text: str) -> str:
    event = FleetEvent(
        Kind.CHAT_REQUEST,
        {"request_id": "r-" + text, "text": text, "user_id": 1, "session_key": None, "timeout_s": None},
        bot_id=5,
        origin="attacker",
    )
    return encode(event)


async def _settle(chats: RecordingChats, count: int, timeout_s: float = 5.0) -> None:
    async with asyncio.timeout(timeout_s):
        while len(chats.asked) < count:
            await asyncio.sleep(0.05)


async def test_only_signed_requests_make_the_controller_act(redis_url, clawnet_env, caplog):
    controller_bus = EventBus(origin="controller")
    await controller_bus.attach_transport(runtime.redis_transport(redis_url))
    chats, tasks = RecordingChats(), TaskSet()
    remote = RemoteRequests(controller_bus, chats, links=None, tasks=tasks)  # type: ignore[arg-type]
    serving = asyncio.create_task(remote.serve())
    raw = redis.Redis.from_url(redis_url)
    try:
        await asyncio.sleep(0.2)  # the server subscribes
        keys = RingMessageKeys(clawnet_env)
        good = seal(chat_request("signed"), keys)
        kid, stamp, _mac, body = good.split(":", 4)[1:]
        foreign = crypto.KeyRing.with_keys(crypto.generate_key())
        foreign_key = message_key(foreign.keys[foreign.active_id])
        with caplog.at_level(logging.WARNING, logger="clawnet.events.redis"):
            for message in [
                chat_request("unsigned"),  # what any Redis client could send
                good.replace(body, chat_request("tampered")),  # a signed message, body changed
                seal(chat_request("old"), keys, now=float(stamp) - 3600),  # signed, an hour old
                seal(chat_request("foreign"), _Keys(foreign.active_id, foreign_key)),  # another key
                seal(chat_request("lying key id"), _Keys(kid, foreign_key)),
                f"cns1:{kid}:{stamp}:\u00e9:{chat_request('non-ascii mac')}",  # once killed the loop
            ]:
                raw.publish(CHANNEL, message)
            raw.publish(CHANNEL, good)
            await _settle(chats, 1)
            raw.publish(CHANNEL, good)  # the same signed message again: a replay
            await asyncio.sleep(1.0)
        assert chats.asked == [(5, "signed", 1)]
        assert remote.bus is controller_bus
        dropped = " ".join(r.getMessage() for r in caplog.records)
        assert "dropped an unsigned message from Redis" in dropped  # logged (then throttled)

        # A worker's bus signs with the installation's key: its request runs, and it hears back.
        worker_bus = EventBus(origin="worker")
        await worker_bus.attach_transport(runtime.redis_transport(redis_url))
        try:
            with worker_bus.subscribe([Kind.CHAT_ACCEPTED]) as answers:
                worker_bus.publish(
                    Kind.CHAT_REQUEST, json.loads(chat_request("from a worker"))["payload"], bot_id=5
                )
                accepted = await answers.get(timeout=10)
            assert accepted.payload["request_id"] == "r-from a worker"
            assert chats.asked[-1] == (5, "from a worker", 1)
        finally:
            await worker_bus.detach_transport()
    finally:
        serving.cancel()
        tasks.cancel_all()
        raw.close()
        await controller_bus.detach_transport()


class _Keys:
    def __init__(self, key_id: str, key: bytes) -> None:
        self.key_id, self.key = key_id, key

    def signing_key(self) -> tuple[str, bytes]:
        return self.key_id, self.key

    def verifying_key(self, key_id: str) -> bytes | None:
        return self.key if key_id == self.key_id else None


async def test_workers_sharing_the_key_file_agree_through_a_rotation(clawnet_env, migrated, monkeypatch):
    monkeypatch.setattr("clawnet.security.message_keys.CHECK_EVERY_S", 0.0)
    before = RingMessageKeys(clawnet_env)  # a worker that loaded the key file before the rotation
    later = RingMessageKeys(clawnet_env)
    old_id = before.signing_key()[0]
    report = rotate_key(clawnet_env, drop_old=True)  # the old key leaves the file entirely
    assert report.new_key_id != old_id
    new_message = seal("{}", later)  # `later` signs with the new key at once
    assert new_message.split(":")[1] == report.new_key_id
    # The worker that loaded the old ring reads the rotated file when it sees the file changed
    # (or a key it does not know), and signs with the new key too: both verify each other.
    assert before.verifying_key(report.new_key_id) is not None
    assert before.signing_key()[0] == report.new_key_id
    assert later.verifying_key(before.signing_key()[0]) == before.signing_key()[1]
