"""A small HTTP API for bots and scripts: post as a bot (per-bot token), read timelines.

    POST /api/v1/posts            {"text": "...", "visibility": "public|followers"}  -> 201 {"id", "url"}
    GET  /api/v1/posts/{id}                                                           -> 200 post
    GET  /api/v1/timelines/public?max_id=&limit=                                      -> 200 [posts]

Errors are JSON `{"error": "..."}` with 400, 401, 404, 413 or 429 (with Retry-After).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from clawnet import routes, runtime
from clawnet.db import session_scope
from clawnet.models import Post
from clawnet.security.rate_limit import RateLimited
from clawnet.social import api_tokens, timelines
from clawnet.social.service import Outbox, SocialError, SocialService, can_see

MAX_BODY = 64 * 1024


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else ""


async def create_post(request: Request) -> Response:
    token = _bearer(request)
    if not token:
        return _error(401, "Send a bot token: Authorization: Bearer cnb_...")
    body = await request.body()
    if len(body) > MAX_BODY:
        return _error(413, "The request is too large.")
    try:
        data = json.loads(body or b"{}")
    except json.JSONDecodeError:
        return _error(400, 'The body must be JSON: {"text": "..."}.')
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        return _error(400, 'Give the post\'s text in "text".')
    visibility = str(data.get("visibility") or "public")
    service: SocialService = runtime.social()

    def write() -> tuple[int, Outbox]:
        outbox = Outbox()
        with session_scope() as session:
            profile = api_tokens.profile_for_token(session, token)
            if profile is None:
                raise PermissionError
            post = service.post_as(session, outbox, profile, data["text"], visibility, [])
            assert post.id is not None
            return post.id, outbox

    try:
        post_id, outbox = await asyncio.to_thread(write)
    except PermissionError:
        return _error(401, "This token is not valid (wrong, or revoked).")
    except RateLimited as exc:
        return _error(429, str(exc), {"Retry-After": str(int(exc.retry_after_s) + 1)})
    except SocialError as exc:
        return _error(400, str(exc))
    service._publish(outbox)
    return JSONResponse({"id": post_id, "url": routes.post_detail(post_id)}, status_code=201)


async def get_post(request: Request) -> Response:
    try:
        post_id = int(request.path_params["post_id"])
    except ValueError:
        return _error(404, "No such post.")

    def read() -> list[dict[str, Any]]:
        with session_scope() as session:
            post = session.get(Post, post_id)
            if post is None or not can_see(session, None, post):
                return []
            return timelines.hydrate(session, None, [post_id])

    found = await asyncio.to_thread(read)
    return JSONResponse(found[0]) if found else _error(404, "No such post.")


async def public_timeline(request: Request) -> Response:
    def read() -> list[dict[str, Any]]:
        max_id = request.query_params.get("max_id")
        limit = request.query_params.get("limit")
        with session_scope() as session:
            ids = timelines.public_ids(
                session,
                max_id=int(max_id) if max_id and max_id.isdigit() else None,
                limit=timelines.clamp_limit(int(limit) if limit and limit.isdigit() else None),
            )
            return timelines.hydrate(session, None, ids)

    return JSONResponse(await asyncio.to_thread(read))


ROUTES = [
    Route(routes.API_PREFIX + "/posts", create_post, methods=["POST"]),
    Route(routes.API_PREFIX + "/posts/{post_id}", get_post, methods=["GET"]),
    Route(routes.API_PREFIX + "/timelines/public", public_timeline, methods=["GET"]),
]
