"""Web request latency: an ASGI middleware around the whole backend (HTTP only; the event
WebSocket is one long request and is not timed). Routes are labelled by their template for
ClawNet's own API routes and `reflex` for everything else, so labels stay bounded."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

from clawnet.metrics.instruments import WEB_REQUEST_SECONDS

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestTimer:
    def __init__(self, app: ASGIApp, route_templates: Sequence[str]) -> None:
        self.app = app
        # Longest first, so "/api/posts/{id}" is not taken for "/api/posts".
        self.templates = sorted(route_templates, key=len, reverse=True)

    def route_of(self, path: str) -> str:
        for template in self.templates:
            prefix = template.split("{", 1)[0]
            if path == template or ("{" in template and path.startswith(prefix)):
                return template
        return "reflex"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [0]

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message.get("status", 0))
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            method = scope.get("method", "GET")
            WEB_REQUEST_SECONDS.labels(
                route=self.route_of(scope.get("path", "")),
                method=method if method in KNOWN_METHODS else "other",
                status=f"{status[0] // 100}xx" if status[0] else "none",
            ).observe(time.perf_counter() - started)
