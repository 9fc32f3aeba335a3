"""Mastodon's streaming API over server-sent events, fed from the event bus:

GET /api/v1/streaming/public   `update` for each new public post
GET /api/v1/streaming/user     `update` for new posts of the people followed (and one's own),
                               `notification` for one's notifications

Each event is `event: <name>` and `data: <the entity's JSON>` (for `delete`, the status id), as
Mastodon's server-sent events carry them (its WebSocket wraps the same JSON in a string);
a `:thump` comment every 15 s keeps proxies from closing an idle stream.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from clawnet import runtime
from clawnet.api.mastodon_http import base_url, bearer, caller, error
from clawnet.events import Kind
from clawnet.social.mastodon import Caller

HEARTBEAT_S = 15.0


def _sse(event: str, data: str) -> bytes:
    return f"event: {event}\ndata: {data}\n\n".encode()


async def _still_valid(token: str, who: Caller | None) -> bool:
    """Whether the stream's token still acts for the same caller with a read scope (it may have
    been revoked, or its person deactivated, since the stream began)."""
    if who is None:
        return True
    again = await runtime.mastodon().caller(token)
    return again is not None and again.profile_id == who.profile_id and again.allows("read:statuses")


async def _events(request: Request, who: Caller | None, which: str) -> AsyncIterator[bytes]:
    masto = runtime.mastodon()
    base = base_url(request)
    token = bearer(request) if who is not None else ""
    checked = time.monotonic()
    follows = await masto.home_follows(who) if who is not None and which == "user" else set()
    with runtime.bus().subscribe([Kind.POST_CREATED, Kind.NOTIFICATION, Kind.POST_CHANGED]) as sub:
        yield b":)\n\n"
        while True:  # Starlette ends the stream (cancels this) when the client goes away
            if time.monotonic() - checked >= HEARTBEAT_S:  # on every heartbeat, busy or idle
                if not await _still_valid(token, who):
                    return  # revoked or deactivated: the stream ends
                checked = time.monotonic()
            try:
                event = await sub.get(timeout=HEARTBEAT_S)
            except TimeoutError:
                if not await _still_valid(token, who):
                    return
                checked = time.monotonic()
                yield b":thump\n\n"
                continue
            payload = event.payload
            if event.kind == Kind.POST_CREATED:
                author = int(payload.get("author_id") or 0)
                if which == "public" and payload.get("visibility") != "public":
                    continue
                if which == "user" and author not in follows:
                    continue
                shown = await masto.statuses(who, base, [int(payload.get("post_id") or 0)])
                if shown:
                    yield _sse("update", json.dumps(shown[0]))
            elif event.kind == Kind.NOTIFICATION and which == "user" and who is not None:
                note = await masto.notification(who, base, int(payload.get("recipient_id") or 0))
                if note is not None:
                    yield _sse("notification", json.dumps(note))
            elif event.kind == Kind.POST_CHANGED and payload.get("what") == "deleted":
                yield _sse("delete", str(payload.get("post_id") or ""))
            elif (
                event.kind == Kind.POST_CHANGED
                and which == "user"
                and who is not None
                and payload.get("what") == "followed"
                and payload.get("follower_id") == who.profile_id
            ):
                follows = await masto.home_follows(who)


async def _stream(request: Request, which: str) -> Response:
    who = await caller(request, "read:statuses" if which == "user" else None, read="read:statuses")
    if isinstance(who, Response):
        return who
    if which == "user" and who is None:
        return error(401, "The access token is invalid")
    return StreamingResponse(
        _events(request, who, which),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def public(request: Request) -> Response:
    return await _stream(request, "public")


async def user(request: Request) -> Response:
    return await _stream(request, "user")


async def health(_request: Request) -> Response:
    return Response("OK", media_type="text/plain")


ROUTES = [
    Route("/api/v1/streaming/health", health, methods=["GET"]),
    Route("/api/v1/streaming/public", public, methods=["GET"]),
    Route("/api/v1/streaming/user", user, methods=["GET"]),
]
