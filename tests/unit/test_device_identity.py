"""ClawNet's device identity for gateways reached over a network: the id and signature OpenClaw
checks, encrypted storage, device tokens, the handshake with a device, pairing-required, and the
ws:// rule for adopting a gateway."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets
from websockets.asyncio.server import ServerConnection

from clawnet.controlplane import device_identity as di
from clawnet.controlplane.protocol import (
    GatewayAuthError,
    GatewayConnection,
    GatewayPairingRequired,
    url_is_loopback,
)
from clawnet.security import crypto


@pytest.fixture(autouse=True)
def key_ring() -> Iterator[None]:
    crypto.set_key_ring(crypto.KeyRing.with_keys(crypto.generate_key()))
    yield
    crypto.set_key_ring(None)


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_device_id_is_sha256_of_the_raw_public_key() -> None:
    ident = di.DeviceIdentity.generate()
    raw = _unb64(ident.public_key)
    assert len(raw) == 32
    assert "=" not in ident.public_key and "+" not in ident.public_key and "/" not in ident.public_key
    assert ident.device_id == hashlib.sha256(raw).hexdigest()
    assert len(ident.device_id) == 64


def test_v3_payload_is_exact() -> None:
    payload = di.auth_payload_v3(
        device_id="abc",
        client_id="gateway-client",
        client_mode="backend",
        role="operator",
        scopes=["operator.admin", "operator.read"],
        signed_at_ms=1737264000000,
        token="tok",
        nonce="n-1",
        platform=" Linux ",
        device_family=None,
    )
    assert (
        payload
        == "v3|abc|gateway-client|backend|operator|operator.admin,operator.read|1737264000000|tok|n-1|linux|"
    )
    no_token = di.auth_payload_v3(
        device_id="abc", client_id="c", client_mode="m", role="r", scopes=[], signed_at_ms=1,
        token=None, nonce="n", platform=None,
    )  # fmt: skip
    assert no_token == "v3|abc|c|m|r||1||n||"


def test_connect_device_is_signed_over_the_payload() -> None:
    ident = di.DeviceIdentity.generate()
    device = ident.connect_device(
        client_id="gateway-client", client_mode="backend", role="operator", scopes=["operator.read"],
        token="t", nonce="nonce", signed_at_ms=42, platform="linux",
    )  # fmt: skip
    assert device["id"] == ident.device_id and device["nonce"] == "nonce" and device["signedAt"] == 42
    payload = di.auth_payload_v3(
        device_id=ident.device_id, client_id="gateway-client", client_mode="backend", role="operator",
        scopes=["operator.read"], signed_at_ms=42, token="t", nonce="nonce", platform="linux",
    )  # fmt: skip
    assert di.verify(ident.public_key_raw, payload, str(device["signature"]))
    assert not di.verify(ident.public_key_raw, payload.replace("nonce", "other"), str(device["signature"]))


def test_identity_is_stored_encrypted_and_reloaded(tmp_path: Path) -> None:
    store = di.DeviceStore(tmp_path)
    first = store.identity()
    text = store.identity_path.read_text()
    assert store.identity_path.stat().st_mode & 0o777 == 0o600
    private_b64 = base64.b64encode(first.private_raw()).decode()
    assert private_b64 not in text and first.private_raw().hex() not in text
    assert json.loads(text)["private_key_enc"].startswith("cn1:")
    assert di.DeviceStore(tmp_path).identity().device_id == first.device_id


def test_identity_needs_the_installation_key(tmp_path: Path) -> None:
    di.DeviceStore(tmp_path).identity()
    crypto.set_key_ring(crypto.KeyRing.with_keys(crypto.generate_key()))
    with pytest.raises(crypto.SecretError):
        di.DeviceStore(tmp_path).identity()


def test_device_tokens_per_gateway(tmp_path: Path) -> None:
    store = di.DeviceStore(tmp_path)
    store.save_device_token("wss://a:1", "dev", "operator", "tok-a", ["operator.read"])
    store.save_device_token("wss://b:1", "dev", "operator", "tok-b", ["operator.read"])
    assert store.device_token("wss://a:1", "dev", "operator") == "tok-a"
    assert store.device_token("wss://b:1/", "dev", "operator") == "tok-b"
    assert store.device_token("wss://c:1", "dev", "operator") is None
    assert "tok-a" not in store.tokens_path.read_text()
    assert store.tokens_path.stat().st_mode & 0o777 == 0o600
    store.forget_device_token("wss://a:1", "dev", "operator")
    assert store.device_token("wss://a:1", "dev", "operator") is None


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("ws://127.0.0.1:1", True),
        ("ws://127.3.4.5:1", True),
        ("ws://localhost:1", True),
        ("ws://[::1]:1", True),
        ("ws://10.0.0.5:1", False),
        ("wss://gateway.example.com", False),
        ("ws://127.0.0.1.evil.com", False),
        ("ws://[::ffff:10.0.0.1]:1", False),
    ],
)
def test_url_is_loopback(url: str, loopback: bool) -> None:
    assert url_is_loopback(url) is loopback


# --- the handshake with a device, against an in-test gateway -----------------------------


class PairingGateway:
    """Demands a device (like a gateway behind a tunnel), checks its signature as OpenClaw
    does, answers NOT_PAIRED until approved, then issues a device token."""

    def __init__(self) -> None:
        self.approved: set[str] = set()
        self.seen_devices: list[dict[str, Any]] = []
        self.port = 0
        self.deviceless_gets_no_scopes = False  # like OpenClaw for a non-local client

    async def handler(self, ws: ServerConnection) -> None:
        nonce = f"nonce-{len(self.seen_devices)}"
        await ws.send(
            json.dumps(
                {"type": "event", "event": "connect.challenge", "payload": {"nonce": nonce, "ts": 1000}}
            )
        )
        frame = json.loads(await ws.recv())
        params = frame["params"]

        async def fail(code: str, message: str, details: dict[str, Any]) -> None:
            error = {"code": code, "message": message, "details": details}
            await ws.send(json.dumps({"type": "res", "id": frame["id"], "ok": False, "error": error}))
            await ws.close(1008)

        device = params.get("device")
        if device is None and self.deviceless_gets_no_scopes:
            hello = {
                "type": "hello-ok", "protocol": 4, "server": {"version": "t", "connId": "c0"},
                "features": {"methods": [], "events": []}, "snapshot": {}, "policy": {},
                "auth": {"role": "operator", "scopes": []},
            }  # fmt: skip
            await ws.send(json.dumps({"type": "res", "id": frame["id"], "ok": True, "payload": hello}))
            await ws.wait_closed()
            return
        if device is None:
            await fail("INVALID_REQUEST", "device identity required", {"code": "DEVICE_IDENTITY_REQUIRED"})
            return
        self.seen_devices.append(device)
        raw = _unb64(device["publicKey"])
        client = params["client"]
        payload = di.auth_payload_v3(
            device_id=device["id"], client_id=client["id"], client_mode=client["mode"], role=params["role"],
            scopes=params["scopes"], signed_at_ms=device["signedAt"], token=params["auth"].get("token"),
            nonce=device["nonce"], platform=client.get("platform"), device_family=client.get("deviceFamily"),
        )  # fmt: skip
        ok = (
            device["id"] == hashlib.sha256(raw).hexdigest()
            and device["nonce"] == nonce
            and device["signedAt"] == 1000
            and di.verify(raw, payload, device["signature"])
        )
        if not ok:
            await fail(
                "INVALID_REQUEST", "device signature invalid", {"code": "DEVICE_AUTH_SIGNATURE_INVALID"}
            )
            return
        if device["id"] not in self.approved:
            details = {
                "code": "PAIRING_REQUIRED",
                "reason": "not-paired",
                "requestId": "req-123",
                "deviceId": device["id"],
            }
            await fail("NOT_PAIRED", "pairing required: device is not approved yet", details)
            return
        hello = {
            "type": "hello-ok", "protocol": 4, "server": {"version": "t", "connId": "c1"},
            "features": {"methods": [], "events": []}, "snapshot": {}, "policy": {},
            "auth": {"role": "operator", "scopes": params["scopes"], "deviceToken": "device-token-1"},
        }  # fmt: skip
        await ws.send(json.dumps({"type": "res", "id": frame["id"], "ok": True, "payload": hello}))
        await ws.wait_closed()


@pytest.fixture
async def pairing_gateway() -> AsyncIterator[PairingGateway]:
    gw = PairingGateway()
    async with websockets.serve(gw.handler, "127.0.0.1", 0) as server:
        gw.port = next(iter(server.sockets)).getsockname()[1]
        yield gw


async def test_pairing_required_then_approved(pairing_gateway: PairingGateway, tmp_path: Path) -> None:
    store = di.DeviceStore(tmp_path)
    url = f"ws://127.0.0.1:{pairing_gateway.port}"
    with pytest.raises(GatewayPairingRequired) as caught:
        await GatewayConnection.open(url, "tok", timeout=10, device=store)
    assert isinstance(caught.value, GatewayAuthError)
    assert caught.value.request_id == "req-123"
    assert caught.value.message == (
        "This gateway has not approved ClawNet yet: on the gateway host run `openclaw devices approve req-123`"
    )
    assert pairing_gateway.seen_devices[0]["id"] == store.identity().device_id

    pairing_gateway.approved.add(store.identity().device_id)
    conn = await GatewayConnection.open(url, "tok", timeout=10, device=store)
    await conn.close()
    assert store.device_token(url, store.identity().device_id, "operator") == "device-token-1"


async def test_pairing_message_without_request_id() -> None:
    exc = GatewayPairingRequired("NOT_PAIRED", "pairing required", details={"deviceId": "d" * 64})
    assert f"`openclaw devices approve {'d' * 64}`" in exc.message
    assert "openclaw devices list" in exc.message


# --- adopting a gateway: wss://, or ws:// to loopback only ---------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "ws://10.0.0.5:18789",
        "ws://gateway.example.com",
        "ws://[2001:db8::1]:18789",
        "ws://127.0.0.1.nip.io:1",
    ],
)
async def test_adopt_refuses_plain_ws_off_loopback(migrated, url: str) -> None:  # type: ignore[no-untyped-def]
    from clawnet.bots.service import BotsService
    from clawnet.db import session_scope
    from clawnet.enums import Role
    from clawnet.errors import UserError
    from clawnet.events import EventBus
    from clawnet.security.permissions import Principal
    from tests.factories import make_user

    with session_scope() as s:
        admin = Principal.of(make_user(s, Role.ADMIN))
    service = BotsService(migrated, EventBus())
    with pytest.raises(UserError) as caught:
        await service.adopt_remote_gateway(admin, "Far", url, "token")
    message = caught.value.field_errors["url"]
    assert "wss://" in message and "tunnel" in message and "SSH -L" in message


async def test_adopt_tries_wss_and_loopback_ws(migrated) -> None:  # type: ignore[no-untyped-def]
    """Allowed URLs get as far as a connection attempt (nothing listens: cannot reach)."""
    from clawnet.bots.service import BotsService
    from clawnet.db import session_scope
    from clawnet.enums import Role
    from clawnet.errors import UserError
    from clawnet.events import EventBus
    from clawnet.security.permissions import Principal
    from tests.factories import make_user
    from tests.support.fake_http import closed_port_url

    with session_scope() as s:
        admin = Principal.of(make_user(s, Role.ADMIN))
    service = BotsService(migrated, EventBus())
    port = closed_port_url().rsplit(":", 1)[1].strip("/")
    for url in (f"ws://127.0.0.1:{port}", f"ws://localhost:{port}", f"wss://127.0.0.1:{port}"):
        with pytest.raises(UserError) as caught:
            await service.adopt_remote_gateway(admin, "Far", url, "token")
        assert caught.value.field_errors["url"].startswith("Cannot reach the gateway"), url


def test_identity_is_resealed_with_the_active_key_after_a_rotation(tmp_path: Path) -> None:
    store = di.DeviceStore(tmp_path)
    first = store.identity()
    old_ring = crypto.get_key_ring()
    new_key = crypto.generate_key()
    crypto.set_key_ring(crypto.KeyRing.with_keys(new_key, old_ring.keys.values()))
    assert store.identity().device_id == first.device_id
    crypto.set_key_ring(crypto.KeyRing.with_keys(new_key))  # old key dropped
    assert store.identity().device_id == first.device_id


async def test_a_tunnel_that_withholds_scopes_gets_the_device(
    pairing_gateway: PairingGateway, tmp_path: Path
) -> None:
    """Through a TCP tunnel the URL is loopback but the gateway sees a remote peer: it admits a
    device-less client with no scopes. ClawNet then reconnects with its device."""
    pairing_gateway.deviceless_gets_no_scopes = True
    store = di.DeviceStore(tmp_path)
    with pytest.raises(GatewayPairingRequired):
        await GatewayConnection.open(
            f"ws://127.0.0.1:{pairing_gateway.port}", "tok", timeout=10, device=store
        )
    assert [d["id"] for d in pairing_gateway.seen_devices] == [store.identity().device_id]
