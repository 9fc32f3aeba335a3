"""Mastodon's client API (the social side): instance, apps, accounts, statuses, timelines and
notifications. Thin: each route reads the request, calls `runtime.mastodon()` and shapes the
answer. Boosts, tag timelines and search are in `mastodon_contract`; OAuth in `oauth`; the
streaming API in `mastodon_stream`.

Authentication is only ever the bearer token (never the session cookie), so these routes may be
called from any site (see `guard`).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from clawnet import runtime
from clawnet.api.mastodon_http import (
    answer,
    base_url,
    body,
    caller,
    error,
    ids_param,
    int_param,
    link_header,
)
from clawnet.errors import UserError
from clawnet.social.mastodon import page_limit

V1 = "/api/v1"
MAX_UPLOAD = 10 * 2**20


async def instance(request: Request) -> Response:
    return await answer(runtime.mastodon().instance(base_url(request)))


async def instance_v2(request: Request) -> Response:
    v1 = await runtime.mastodon().instance(base_url(request))
    return JSONResponse(
        {
            **v1,
            "source_url": "",
            "usage": {"users": {"active_month": v1["stats"]["user_count"]}},
            "api_versions": {"mastodon": 2},
            "thumbnail": {"url": ""},
            "registrations": {"enabled": False, "approval_required": True, "message": None},
            "contact": {"email": "", "account": None},
        }
    )


async def create_app(request: Request) -> Response:
    try:
        data = await body(request)
    except UserError as exc:
        return error(422, str(exc))
    return await answer(
        runtime.mastodon().register_app(
            str(data.get("client_name") or ""),
            str(data.get("redirect_uris") or ""),
            str(data.get("scopes") or "read"),
            str(data.get("website") or ""),
        )
    )


async def verify_app(request: Request) -> Response:
    who = await caller(request, "read")
    if isinstance(who, Response):
        return who
    return JSONResponse({"name": "ClawNet app", "website": None, "vapid_key": ""})


async def verify_credentials(request: Request) -> Response:
    who = await caller(request, "read:accounts")
    if isinstance(who, Response) or who is None:
        return who or error(401, "The access token is invalid")
    return await answer(runtime.mastodon().verify_credentials(who, base_url(request)))


# --- accounts ---------------------------------------------------------------------------------


async def lookup(request: Request) -> Response:
    who = await caller(request, None, read="read:accounts")
    if isinstance(who, Response):
        return who
    return await answer(
        runtime.mastodon().lookup(who, base_url(request), request.query_params.get("acct", ""))
    )


async def account(request: Request) -> Response:
    who = await caller(request, None, read="read:accounts")
    if isinstance(who, Response):
        return who
    raw = request.path_params["id"]
    found = await runtime.mastodon().accounts(who, base_url(request), [int(raw)] if raw.isdigit() else [])
    return JSONResponse(found[0]) if found else error(404, "Record not found")


async def account_statuses(request: Request) -> Response:
    who = await caller(request, None, read="read:statuses")
    if isinstance(who, Response):
        return who
    raw = request.path_params["id"]
    if not raw.isdigit():
        return error(404, "Record not found")
    items = await runtime.mastodon().account_statuses(
        who,
        base_url(request),
        int(raw),
        max_id=int_param(request, "max_id"),
        limit=page_limit(request.query_params.get("limit")),
    )
    return JSONResponse(items, headers=link_header(request, items))


async def follow(request: Request) -> Response:
    return await _follow(request, True)


async def unfollow(request: Request) -> Response:
    return await _follow(request, False)


async def _follow(request: Request, on: bool) -> Response:
    who = await caller(request, "write:follows")
    if isinstance(who, Response) or who is None:
        return who or error(401, "The access token is invalid")
    raw = request.path_params["id"]
    if not raw.isdigit():
        return error(404, "Record not found")
    return await answer(runtime.mastodon().follow(who, int(raw), on))


async def relationships(request: Request) -> Response:
    who = await caller(request, "read:follows")
    if isinstance(who, Response) or who is None:
        return who or error(401, "The access token is invalid")
    return await answer(runtime.mastodon().relationships(who, ids_param(request, "id")))


# --- statuses ---------------------------------------------------------------------------------


async def create_status(request: Request) -> Response:
    who = await caller(request, "write:statuses")
    if isinstance(who, Response) or who is None:
        return who or error(401, "The access token is invalid")
    try:
        data = await body(request)
    except UserError as exc:
        return error(422, str(exc))
    media = data.get("media_ids") or []
    media_ids = [int(m) for m in (media if isinstance(media, list) else [media]) if str(m).isdigit()]
    return await answer(
        runtime.mastodon().create_status(
            who,
            base_url(request),
            text=str(data.get("status") or ""),
            visibility=str(data.get("visibility") or "public"),
            spoiler_text=str(data.get("spoiler_text") or ""),
            media_ids=media_ids,
            in_reply_to_id=str(data.get("in_reply_to_id") or ""),
        )
    )


async def get_status(request: Request) -> Response:
    who = await caller(request, None, read="read:statuses")
    if isinstance(who, Response):
        return who
    return await answer(runtime.mastodon().status(who, base_url(request), request.path_params["id"]))


async def delete_status(request: Request) -> Response:
    who = await caller(request, "write:statuses")
    if isinstance(who, Response) or who is None:
        return who or error(401, "The access token is invalid")
    return await answer(runtime.mastodon().delete_status(who, base_url(request), request.path_params["id"]))


async def context(request: Request) -> Response:
    who = await caller(request, None, read="read:statuses")
    if isinstance(who, Response):
        return who
    return await answer(runtime.mastodon().context(who, base_url(request), request.path_params["id"]))


async def favourite(request: Request) -> Response:
    return await _favourite(request, True)


async def unfavourite(request: Request) -> Response:
    return await _favourite(request, False)


async def _favourite(request: Request, on: bool) -> Response:
    who = await caller(request, "write:favourites")
    if isinstance(who, Response) or who is None:
        return who or error(401, "The access token is invalid")
    raw = request.path_params["id"]
    if not raw.isdigit():
        return error(404, "Record not found")
    return await answer(runtime.mastodon().favourite(who, base_url(request), int(raw), on))


async def upload_media(request: Request) -> Response:
    who = await caller(request, "write:media")
    if isinstance(who, Response) or who is None:
        return who or error(401, "The access token is invalid")
    if int(request.headers.get("content-length") or 0) > MAX_UPLOAD:
        return error(413, "The file is too large.")
    form = await request.form(max_files=1)
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        return error(422, "Send the image as the multipart field 'file'.")
    data = await upload.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        return error(413, "The file is too large.")
    return await answer(
        runtime.mastodon().upload_media(who, base_url(request), data, str(form.get("description") or ""))
    )


# --- timelines and notifications ----------------------------------------------------------------


async def home_timeline(request: Request) -> Response:
    return await _timeline(request, "home")


async def public_timeline(request: Request) -> Response:
    return await _timeline(request, "public")


async def _timeline(request: Request, which: str) -> Response:
    who = await caller(request, "read:statuses" if which == "home" else None, read="read:statuses")
    if isinstance(who, Response):
        return who
    items = await runtime.mastodon().timeline(
        who,
        base_url(request),
        which,
        max_id=int_param(request, "max_id"),
        since_id=int_param(request, "since_id"),
        min_id=int_param(request, "min_id"),
        limit=page_limit(request.query_params.get("limit")),
    )
    return JSONResponse(items, headers=link_header(request, items))


async def notifications(request: Request) -> Response:
    who = await caller(request, "read:notifications")
    if isinstance(who, Response) or who is None:
        return who or error(401, "The access token is invalid")
    items = await runtime.mastodon().notifications(
        who,
        base_url(request),
        max_id=int_param(request, "max_id"),
        since_id=int_param(request, "since_id") or int_param(request, "min_id"),
        limit=page_limit(request.query_params.get("limit"), 15),
    )
    return JSONResponse(items, headers=link_header(request, items))


ROUTES = [
    Route(V1 + "/instance", instance, methods=["GET"]),
    Route(V1 + "/instance/", instance, methods=["GET"]),  # Mastodon.py asks with the slash
    Route("/api/v2/instance", instance_v2, methods=["GET"]),
    Route("/api/v2/instance/", instance_v2, methods=["GET"]),
    Route(V1 + "/apps", create_app, methods=["POST"]),
    Route(V1 + "/apps/verify_credentials", verify_app, methods=["GET"]),
    Route(V1 + "/accounts/verify_credentials", verify_credentials, methods=["GET"]),
    Route(V1 + "/accounts/lookup", lookup, methods=["GET"]),
    Route(V1 + "/accounts/relationships", relationships, methods=["GET"]),
    Route(V1 + "/accounts/{id}", account, methods=["GET"]),
    Route(V1 + "/accounts/{id}/statuses", account_statuses, methods=["GET"]),
    Route(V1 + "/accounts/{id}/follow", follow, methods=["POST"]),
    Route(V1 + "/accounts/{id}/unfollow", unfollow, methods=["POST"]),
    Route(V1 + "/media", upload_media, methods=["POST"]),
    Route("/api/v2/media", upload_media, methods=["POST"]),
    Route(V1 + "/statuses", create_status, methods=["POST"]),
    Route(V1 + "/statuses/{id}", get_status, methods=["GET"]),
    Route(V1 + "/statuses/{id}", delete_status, methods=["DELETE"]),
    Route(V1 + "/statuses/{id}/context", context, methods=["GET"]),
    Route(V1 + "/statuses/{id}/favourite", favourite, methods=["POST"]),
    Route(V1 + "/statuses/{id}/unfavourite", unfavourite, methods=["POST"]),
    Route(V1 + "/timelines/home", home_timeline, methods=["GET"]),
    # Mastodon's shape replaces the bot API's older one at the same address (mounted first).
    Route(V1 + "/timelines/public", public_timeline, methods=["GET"]),
    Route(V1 + "/notifications", notifications, methods=["GET"]),
]
