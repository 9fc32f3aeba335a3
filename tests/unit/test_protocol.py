"""The protocol client against a small in-test gateway speaking protocol v4: handshake, auth
errors, retried start-up answers, call timeouts, and reconnects per close code."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
import websockets
from websockets.asyncio.server import ServerConnection

from clawnet.controlplane.protocol import (
    Backoff,
    GatewayAuthError,
    GatewayClient,
    GatewayConnection,
    GatewayTimeout,
    GatewayUnavailable,
)


class FakeGateway:
    def __init__(self) -> None:
        self.token = "right"
        self.unavailable_answers = 0
        self.connections: list[ServerConnection] = []
        self.connects = 0
        self.port = 0

    async def handler(self, ws: ServerConnection) -> None:
        await ws.send(
            json.dumps({"type": "event", "event": "connect.challenge", "payload": {"nonce": "n", "ts": 0}})
        )
        async for raw in ws:
            frame = json.loads(raw)
            if frame["method"] == "connect":
                self.connects += 1
                if self.unavailable_answers > 0:
                    self.unavailable_answers -= 1
                    await ws.send(
                        json.dumps(
                            {
                                "type": "res",
                                "id": frame["id"],
                                "ok": False,
                                "error": {
                                    "code": "UNAVAILABLE",
                                    "message": "starting",
                                    "retryable": True,
                                    "retryAfterMs": 50,
                                },
                            }
                        )
                    )
                    await ws.close()
                    return
                if frame["params"]["auth"]["token"] != self.token:
                    await ws.send(
                        json.dumps(
                            {
                                "type": "res",
                                "id": frame["id"],
                                "ok": False,
                                "error": {
                                    "code": "INVALID_REQUEST",
                                    "message": "unauthorized: gateway token mismatch",
                                    "details": {"code": "AUTH_TOKEN_MISMATCH"},
                                },
                            }
                        )
                    )
                    await ws.close()
                    return
                self.connections.append(ws)
                await ws.send(
                    json.dumps(
                        {
                            "type": "res",
                            "id": frame["id"],
                            "ok": True,
                            "payload": {
                                "type": "hello-ok",
                                "protocol": 4,
                                "server": {"version": "test", "connId": f"c{self.connects}"},
                                "features": {"methods": ["echo", "never"], "events": ["tick"]},
                                "snapshot": {},
                                "policy": {},
                            },
                        }
                    )
                )
            elif frame["method"] == "echo":
                await ws.send(json.dumps({"type": "event", "event": "tick", "payload": {"n": 1}}))
                await ws.send(
                    json.dumps({"type": "res", "id": frame["id"], "ok": True, "payload": frame["params"]})
                )
            # "never" gets no answer


@pytest.fixture
async def gateway() -> AsyncIterator[FakeGateway]:
    fake = FakeGateway()
    async with websockets.serve(fake.handler, "127.0.0.1", 0) as server:
        fake.port = server.sockets[0].getsockname()[1]
        yield fake


def url(fake: FakeGateway) -> str:
    return f"ws://127.0.0.1:{fake.port}"


async def test_handshake_calls_and_events(gateway):
    events = []
    conn = await GatewayConnection.open(url(gateway), "right", on_event=lambda n, p, s: events.append((n, p)))
    assert conn.hello.protocol == 4 and "echo" in conn.hello.methods
    assert await conn.call("echo", {"x": 1}) == {"x": 1}
    assert events == [("tick", {"n": 1})]
    with pytest.raises(GatewayTimeout):
        await conn.call("never", timeout=0.2)
    await conn.close()


async def test_wrong_token_fails_at_once_with_an_auth_error(gateway):
    with pytest.raises(GatewayAuthError) as err:
        await GatewayConnection.open(url(gateway), "wrong", timeout=10)
    assert err.value.details["code"] == "AUTH_TOKEN_MISMATCH"
    assert gateway.connects == 1  # not retried


async def test_a_starting_gateway_is_retried_until_it_answers(gateway):
    gateway.unavailable_answers = 3
    conn = await GatewayConnection.open(url(gateway), "right", timeout=10)
    assert gateway.connects == 4
    await conn.close()


async def test_nothing_listening_is_unavailable():
    with pytest.raises(GatewayUnavailable):
        await GatewayConnection.open("ws://127.0.0.1:9", "x", timeout=2)


async def test_pending_calls_fail_when_the_connection_drops(gateway):
    conn = await GatewayConnection.open(url(gateway), "right")
    pending = asyncio.create_task(conn.call("never", timeout=10))
    await asyncio.sleep(0.05)
    await gateway.connections[-1].close(code=1012, reason="restart")
    with pytest.raises(GatewayUnavailable) as err:
        await pending
    assert err.value.close_code == 1012


async def test_client_reconnects_at_once_with_a_new_token_after_4001(gateway):
    token = {"value": "right"}
    # A backoff far longer than the call may wait: an answer proves the reconnect was at once.
    client = GatewayClient(url(gateway), lambda: token["value"], backoff=Backoff(base=600, maximum=600))
    client.start()
    try:
        await asyncio.wait_for(client.connected.wait(), 60)
        gateway.token = token["value"] = "rotated"
        await gateway.connections[-1].close(code=4001, reason="gateway auth changed")
        await asyncio.sleep(0.1)
        assert await client.call("echo", {"ok": True}, timeout=60) == {"ok": True}
        assert gateway.connects == 2
    finally:
        await client.stop()


async def test_client_reports_a_bad_token_to_its_callers(gateway):
    client = GatewayClient(url(gateway), lambda: "wrong", backoff=Backoff(base=0.05, maximum=0.1))
    client.start()
    try:
        async with asyncio.timeout(60):
            while client.last_error is None:  # its first attempt was answered
                await asyncio.sleep(0.05)
        with pytest.raises(GatewayAuthError):
            async with asyncio.timeout(30):  # raised from the last attempt, not after a connect wait
                await client.call("echo", {}, timeout=60)
    finally:
        await client.stop()
