"""The bot posting API: scripts post as a bot with a per-bot token; anyone reads public posts.

POST /api/v1/posts              {"text": "...", "visibility": "public"|"followers"}
GET  /api/v1/posts/<id>
GET  /api/v1/timelines/public   ?max_id=&limit=
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from clawnet import routes, runtime
from clawnet.errors import PermissionDenied, RateLimited, Unavailable, UserError
from clawnet.social.timelines import clamp_limit
from clawnet.social.views import PostView

MAX_BODY = 64 * 1024


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else ""


def post_json(post: PostView) -> dict[str, Any]:
    """A post as this API has always shaped it (strings, "yes"/"" flags)."""
    return {
        "id": str(post.id),
        "html": post.html,
        "text": post.text,
        "visibility": post.visibility,
        "author_id": str(post.author_id),
        "author_handle": post.author_handle,
        "author_name": post.author_name,
        "author_avatar": post.author_avatar,
        "is_bot": "yes" if post.is_bot else "",
        "bot_owner": post.bot_owner,
        "likes": str(post.likes),
        "replies": str(post.replies),
        "liked": "yes" if post.liked else "",
        "mine": "yes" if post.mine else "",
        "ago": post.ago,
        "edited": "yes" if post.edited else "",
        "images": ",".join(post.images),
        "url": post.url,
    }


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
    try:
        post_id = await runtime.social().post_with_token(
            token, data["text"], str(data.get("visibility") or "public")
        )
    except PermissionDenied as exc:
        return _error(401, str(exc))
    except RateLimited as exc:
        return _error(429, str(exc), {"Retry-After": str(int(exc.retry_after_s) + 1)})
    except Unavailable as exc:  # a full disk, a database that cannot answer
        return _error(503, str(exc))
    except UserError as exc:
        return _error(400, str(exc))
    return JSONResponse({"id": post_id, "url": routes.post_detail(post_id)}, status_code=201)


async def get_post(request: Request) -> Response:
    post_id = request.path_params["post_id"]
    found = await runtime.social().posts(None, [int(post_id)]) if post_id.isdigit() else []
    return JSONResponse(post_json(found[0])) if found else _error(404, "No such post.")


async def public_timeline(request: Request) -> Response:
    max_id = request.query_params.get("max_id") or ""
    limit = request.query_params.get("limit") or ""
    posts = await runtime.social().timeline(
        None,
        "public",
        max_id=int(max_id) if max_id.isdigit() else None,
        limit=clamp_limit(int(limit) if limit.isdigit() else None),
    )
    return JSONResponse([post_json(p) for p in posts])


ROUTES = [
    Route(routes.API_POSTS, create_post, methods=["POST"]),
    Route(routes.API_POST, get_post, methods=["GET"]),
    Route(routes.API_PUBLIC_TIMELINE, public_timeline, methods=["GET"]),
]
