"""Cross-site requests are refused on the event WebSocket and on state-changing HTTP routes; pages
carry a Content-Security-Policy and hardening headers."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
import reflex
import websockets

from clawnet.api.guard import origin_allowed
from tests.support.reflex_client import ReflexClient

EVIL = "http://evil.example"


def request(url: str, method: str = "GET", headers: dict[str, str] | None = None, body: bytes | None = None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})  # noqa: S310 (loopback)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 (loopback)
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@pytest.mark.parametrize(
    ("origin", "host", "allowed"),
    [
        ("http://127.0.0.1:3000", "127.0.0.1:3000", True),
        ("http://LOCALHOST:3000", "localhost:3000", True),
        ("https://clawnet.example", "clawnet.example", True),
        ("https://clawnet.example", "10.0.0.5:3000", True),  # behind a proxy: the public URL
        ("http://127.0.0.1:3001", "127.0.0.1:3000", False),
        ("http://evil.example", "127.0.0.1:3000", False),
        ("http://127.0.0.1:3000.evil.example", "127.0.0.1:3000", False),
        ("null", "127.0.0.1:3000", False),
        ("javascript:alert(1)", "127.0.0.1:3000", False),
    ],
)
def test_origin_rule(origin, host, allowed):
    assert origin_allowed(origin, host, "http", "https://clawnet.example") is allowed


async def test_the_event_websocket_refuses_a_foreign_origin(world):
    base = world.server.url
    ws_url = base.replace("http", "ws", 1) + "/_event/?EIO=4&transport=websocket"
    with pytest.raises(websockets.InvalidStatus) as refused:
        await websockets.connect(
            ws_url,
            additional_headers={"Cookie": world.cookies["olga"]},
            subprotocols=[reflex.constants.Reflex.VERSION],
            origin=EVIL,
        )
    assert refused.value.response.status_code == 403
    own = ReflexClient(base, world.cookies["olga"])  # the page's own origin still connects
    await own.connect()
    await own.close()


def test_state_changing_routes_refuse_a_foreign_origin(world):
    base = world.server.url
    status, _, _ = request(
        f"{base}/auth/logout", "POST", {"Origin": EVIL, "Cookie": world.cookies["mia"]}, body=b""
    )
    assert status == 403
    status, _, _ = request(
        f"{base}/api/v1/posts",
        "POST",
        {"Origin": EVIL, "Authorization": "Bearer cnb_whatever", "Content-Type": "application/json"},
        json.dumps({"text": "cross-site"}).encode(),
    )
    assert (
        status == 401
    )  # bearer-token API calls may come from any site (Mastodon clients): the token decides
    status, _, _ = request(
        f"{base}/oauth/authorize",
        "POST",
        {"Origin": EVIL, "Cookie": world.cookies["mia"], "Content-Type": "application/x-www-form-urlencoded"},
        body=b"decision=approve",
    )
    assert status == 403  # the consent form acts with the cookie: same site only
    status, _, _ = request(f"{base}/auth/logout", "POST", {"Origin": base}, body=b"")  # same site: served
    assert status != 403
    status, _, _ = request(f"{base}/api/v1/timelines/public", "GET", {"Origin": EVIL})  # reading is fine
    assert status == 200


@pytest.mark.parametrize("path", ["/feed", "/login", "/", "/u/olga", "/healthz"])
def test_pages_carry_a_content_security_policy(world, path):
    status, headers, _ = request(world.server.url + path)
    assert status == 200
    headers = {k.lower(): v for k, v in headers.items()}
    csp = headers["content-security-policy"]
    for directive in ("default-src 'self'", "object-src 'none'", "frame-ancestors 'none'", "base-uri 'self'"):
        assert directive in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
