"""ActivityPub inboxes: the shared one and each actor's (POST, HTTP-signed).

    POST /ap/inbox                   the shared inbox
    POST /ap/users/{handle}/inbox    one actor's inbox

Both hand the request to `runtime.federation().receive` (verify, de-duplicate, apply) and answer
its status with a short JSON message. Other servers send no `Origin` header and no cookies, so the
same-origin guard (api/guard.py) lets these POSTs through without an exemption.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from clawnet import runtime

MAX_BODY = 1024 * 1024


async def _body(request: Request) -> bytes | None:
    """The request body, or None once it passes 1 MiB (read no further)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def _receive(request: Request, handle: str | None) -> JSONResponse:
    body = await _body(request)
    if body is None:
        return JSONResponse({"error": "The activity is larger than 1 MiB."}, status_code=413)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    status, message = await runtime.federation().receive(
        handle, request.method, target, request.headers, body
    )
    key = "error" if status >= 400 else "message"
    return JSONResponse({key: message}, status_code=status)


async def shared_inbox(request: Request) -> JSONResponse:
    return await _receive(request, None)


async def actor_inbox(request: Request) -> JSONResponse:
    return await _receive(request, str(request.path_params["handle"]).lower())


ROUTES: list[BaseRoute] = [
    Route("/ap/inbox", shared_inbox, methods=["POST"]),
    Route("/ap/users/{handle}/inbox", actor_inbox, methods=["POST"]),
]
