"""Shared plumbing of the Mastodon API routes: bearer tokens, bodies (form or JSON), errors and
Mastodon's `Link` paging headers."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from clawnet import runtime
from clawnet.errors import NotFound, PermissionDenied, RateLimited, Unavailable, UserError
from clawnet.social.mastodon import Caller

MAX_BODY = 256 * 1024
Handler = Callable[[Request], Awaitable[Response]]


def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.query_params.get("access_token", "")  # the streaming API's way


async def caller(request: Request, scope: str | None, *, read: str | None = None) -> Caller | Response | None:
    """The token's caller; a 401/403 response when `scope` is needed and missing; None when
    no token was sent and none is needed. `read` is the scope a public read route needs when a
    token is presented anyway (Mastodon answers 403 to a token without it)."""
    token = bearer(request)
    if not token:
        return error(401, "The access token is invalid") if scope else None
    found = await runtime.mastodon().caller(token)
    if found is None:
        return error(401, "The access token is invalid")
    needed = scope or read
    if needed and not found.allows(needed):
        return error(403, "This action is outside the authorized scopes")
    return found


async def body(request: Request) -> dict[str, Any]:
    """The parameters of a POST: JSON, a form, or the query string (Mastodon accepts all three);
    `name[]` lists become lists under `name`."""
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise UserError("The request is too large.")
    out: dict[str, Any] = {}
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = json.loads(raw or b"{}")
        except json.JSONDecodeError as exc:
            raise UserError("The body is not valid JSON.") from exc
        return data if isinstance(data, dict) else {}
    pairs: list[tuple[str, Any]] = list(request.query_params.multi_items())
    if raw:
        form = await request.form()
        pairs += [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    for key, value in pairs:
        if key.endswith("[]"):
            out.setdefault(key[:-2], []).append(value)
        else:
            out[key] = value
    return out


def int_param(request: Request, name: str) -> int | None:
    value = request.query_params.get(name) or ""
    return int(value) if value.isdigit() else None


def ids_param(request: Request, name: str) -> list[int]:
    values = request.query_params.getlist(name + "[]") or request.query_params.getlist(name)
    return [int(v) for v in values if v.isdigit()][:40]


def link_header(request: Request, items: list[dict[str, Any]]) -> dict[str, str]:
    """Mastodon's paging: next (older) with max_id of the last item, prev (newer) with min_id
    of the first; other query parameters kept."""
    if not items:
        return {}
    kept = [
        (k, v) for k, v in request.query_params.multi_items() if k not in ("max_id", "min_id", "since_id")
    ]
    url = str(request.url.replace(query=""))
    older = urlencode([*kept, ("max_id", items[-1]["id"])])
    newer = urlencode([*kept, ("min_id", items[0]["id"])])
    return {"Link": f'<{url}?{older}>; rel="next", <{url}?{newer}>; rel="prev"'}


async def answer(
    work: Awaitable[Any], *, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """Run a service call and shape its result or its refusal the Mastodon way."""
    try:
        result = await work
    except PermissionDenied as exc:
        return error(403, str(exc))
    except NotFound as exc:
        return error(404, str(exc) or "Record not found")
    except RateLimited as exc:
        return error(429, str(exc), {"Retry-After": str(int(exc.retry_after_s) + 1)})
    except Unavailable as exc:
        return error(503, str(exc))
    except UserError as exc:
        return error(422, str(exc))
    if result is None:
        return error(404, "Record not found")
    return JSONResponse(result, status_code=status, headers=headers)
