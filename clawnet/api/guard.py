"""ASGI middleware around the whole backend (pages, event WebSocket, API routes):

- Cross-site requests are refused. A browser always sends `Origin` on WebSocket handshakes and on
  POSTs; when it names another site than the one addressed (the `Host` header, or the configured
  public URL behind a proxy), the event WebSocket is closed before it opens and the request gets
  403. This is what stops another site from driving a signed-in person's session (cross-site
  WebSocket hijacking, CSRF on the sign-in and sign-out forms). Clients that send no Origin (scripts,
  bots with API tokens) carry no ambient cookies of a victim, so they are let through.
  Mastodon clients may call from any site: the API routes that authenticate only by a bearer
  token (or a client secret) and never by the cookie are let through (`bearer_exempt`).
- Every response carries a Content-Security-Policy and the usual hardening headers. Reflex's
  frontend needs inline bootstrap scripts and `eval` (for `call_script`), so scripts are limited to
  this origin plus those; everything else (scripts, frames, plugins, connections, form targets,
  images) may only come from or go to this origin.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; "
    "script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; "
    "font-src 'self' data:; "
    "connect-src 'self'; "
    "object-src 'none'; "
    "base-uri 'self'; "
    "form-action 'self'; "
    "frame-ancestors 'none'"
)

HARDENING_HEADERS = {
    b"content-security-policy": CONTENT_SECURITY_POLICY.encode(),
    b"x-content-type-options": b"nosniff",
    b"x-frame-options": b"DENY",
    b"referrer-policy": b"same-origin",
}

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Routes that never read the session cookie: Mastodon's API with a bearer token, and the OAuth
# endpoints an app calls with its client secret. (Not /oauth/authorize: the consent form.)
BEARER_PREFIXES = ("/api/v1/", "/api/v2/")
SECRET_PATHS = frozenset({"/oauth/token", "/oauth/revoke", "/api/v1/apps"})


def bearer_exempt(path: str, headers: dict[bytes, bytes]) -> bool:
    """Whether a cross-site request may pass: it carries no ambient credential that matters."""
    if path in SECRET_PATHS:
        return True
    auth = headers.get(b"authorization", b"")
    return path.startswith(BEARER_PREFIXES) and auth[:7].lower() == b"bearer "


def _host_of(origin: str) -> str:
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError:  # a port that is not a number
        return ""
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    return f"{parts.hostname.lower()}:{port or (443 if parts.scheme == 'https' else 80)}"


def _host_header(host: str, scheme: str) -> str:
    if not host:
        return ""
    return _host_of(f"{'https' if scheme in ('https', 'wss') else 'http'}://{host}")


def origin_allowed(origin: str, host: str, scheme: str, public_url: str) -> bool:
    """Whether a request from page origin `origin` to `host` is same-site for ClawNet."""
    target = _host_of(origin)
    if not target:
        return False  # "null" (sandboxed frames, file:) or garbage
    return target in {_host_header(host, scheme), _host_of(public_url)} - {""}


class SameOriginGuard:
    def __init__(self, app: ASGIApp, public_url: str) -> None:
        self.app = app
        self.public_url = public_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope.get("type")
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers") or []}
        origin = headers.get(b"origin")
        checked = kind == "websocket" or scope.get("method", "GET") not in SAFE_METHODS
        if (
            checked
            and origin is not None
            and not (kind == "http" and bearer_exempt(scope.get("path", ""), headers))
            and not origin_allowed(
                origin.decode("latin-1"),
                headers.get(b"host", b"").decode("latin-1"),
                scope.get("scheme", "http"),
                self.public_url,
            )
        ):
            await self._refuse(kind, receive, send)
            return
        if kind == "websocket":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers") or []}
                extra = [(k, v) for k, v in HARDENING_HEADERS.items() if k not in present]
                message["headers"] = [*(message.get("headers") or []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    @staticmethod
    async def _refuse(kind: str, receive: Receive, send: Send) -> None:
        if kind == "websocket":
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 1008, "reason": "cross-site request refused"})
            return
        body = b"Cross-site request refused."
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})


def same_origin_guard(app: ASGIApp) -> ASGIApp:
    from clawnet.settings import get_settings

    return SameOriginGuard(app, get_settings().public_url)
