"""ActivityPub documents served to other servers: WebFinger, host-meta, NodeInfo, actors, notes, collections.

GET /.well-known/webfinger?resource=acct:handle@host   JRD (400 without resource, 404 unknown)
GET /.well-known/host-meta                              XRD pointing at WebFinger
GET /.well-known/nodeinfo   /nodeinfo/2.0               NodeInfo discovery and document
GET /ap/users/{handle}[/outbox|/followers|/following][?page=]
GET /ap/posts/{id}   /ap/comments/{id}                  public notes only
GET /ap/actor[/outbox]   POST /ap/actor/inbox           the instance actor (signs our fetches);
                                                        its inbox accepts and ignores

Anonymous GETs: no cookie is read, so the same-origin guard lets cross-site callers through. A
browser asking for HTML (not ActivityPub JSON) is sent to the profile or post page instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from clawnet import routes, runtime
from clawnet.social.federation import discovery, instance_actor, urls

ACTIVITY_JSON = "application/activity+json; charset=utf-8"
JRD_JSON = "application/jrd+json; charset=utf-8"
XRD_XML = "application/xrd+xml; charset=utf-8"
NODEINFO_JSON = 'application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.0#"; charset=utf-8'
USERS = urls.AP_PREFIX + "/users/{handle}"


def _json(data: dict[str, Any], media_type: str = ACTIVITY_JSON, status: int = 200) -> Response:
    return JSONResponse(data, status_code=status, media_type=media_type)


def _not_found(message: str = "Not found.") -> Response:
    return _json({"error": message}, status=404)


def _wants_html(request: Request) -> bool:
    """A browser following a link (Accept: text/html, no ActivityPub type)."""
    accept = request.headers.get("accept", "").lower()
    return "text/html" in accept and "activity+json" not in accept and "ld+json" not in accept


async def webfinger(request: Request) -> Response:
    resource = request.query_params.get("resource", "").strip()
    if not resource:
        return _json({"error": "The resource parameter is required."}, JRD_JSON, 400)
    settings = runtime.federation().settings
    if settings.federation_enabled and instance_actor.names_instance(settings, resource):
        return _json(instance_actor.webfinger(settings), JRD_JSON)
    found = await runtime.federation().webfinger(resource)
    if found is None:
        return _json({"error": "No such account here."}, JRD_JSON, 404)
    return _json(found, JRD_JSON)


async def host_meta(_request: Request) -> Response:
    return Response(await runtime.federation().host_meta(), media_type=XRD_XML)


async def nodeinfo_links(_request: Request) -> Response:
    return _json(await runtime.federation().nodeinfo_links(), "application/json; charset=utf-8")


async def nodeinfo(_request: Request) -> Response:
    return _json(await runtime.federation().nodeinfo(), NODEINFO_JSON)


def _handle(request: Request) -> str:
    return str(request.path_params["handle"]).lower()


async def actor(request: Request) -> Response:
    handle = _handle(request)
    document = await runtime.federation().actor(handle)
    if document is None:
        return _not_found("No such actor.")
    if _wants_html(request):
        return RedirectResponse(routes.profile(handle), status_code=302)
    return _json(document)


def _collection(
    fetch: Callable[[str, str | None], Awaitable[dict[str, Any] | None]],
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        page = request.query_params.get("page") or None
        document = await fetch(_handle(request), page)
        return _not_found("No such actor.") if document is None else _json(document)

    return endpoint


async def outbox(request: Request) -> Response:
    return await _collection(runtime.federation().outbox)(request)


async def followers(request: Request) -> Response:
    return await _collection(runtime.federation().followers)(request)


async def following(request: Request) -> Response:
    return await _collection(runtime.federation().following)(request)


async def post_note(request: Request) -> Response:
    post_id = int(request.path_params["post_id"])
    document = await runtime.federation().note(post_id)
    if document is None:
        return _not_found("No such post.")
    if _wants_html(request):
        return RedirectResponse(routes.post_detail(post_id), status_code=302)
    return _json(document)


async def comment_note(request: Request) -> Response:
    document = await runtime.federation().comment(int(request.path_params["comment_id"]))
    if document is None:
        return _not_found("No such comment.")
    if _wants_html(request):
        return RedirectResponse(document["url"], status_code=302)
    return _json(document)


async def instance(request: Request) -> Response:
    settings = runtime.federation().settings
    if not settings.federation_enabled:
        return _not_found("No such actor.")
    if _wants_html(request):
        return RedirectResponse("/", status_code=302)
    return _json(await instance_actor.served_document(settings))


async def instance_outbox(_request: Request) -> Response:
    settings = runtime.federation().settings
    if not settings.federation_enabled:
        return _not_found("No such actor.")
    return _json(instance_actor.outbox(settings))


async def instance_inbox(_request: Request) -> Response:
    """Accepted and ignored: nobody follows or writes to the instance actor."""
    return _json({"message": "Accepted."}, status=202)


ROUTES: list[BaseRoute] = [
    Route(discovery.WEBFINGER_PATH, webfinger, methods=["GET"]),
    Route("/.well-known/host-meta", host_meta, methods=["GET"]),
    Route("/.well-known/nodeinfo", nodeinfo_links, methods=["GET"]),
    Route(discovery.NODEINFO_PATH, nodeinfo, methods=["GET"]),
    Route(USERS, actor, methods=["GET"]),
    Route(USERS + "/outbox", outbox, methods=["GET"]),
    Route(USERS + "/followers", followers, methods=["GET"]),
    Route(USERS + "/following", following, methods=["GET"]),
    Route(urls.AP_PREFIX + "/posts/{post_id:int}", post_note, methods=["GET"]),
    Route(urls.AP_PREFIX + "/comments/{comment_id:int}", comment_note, methods=["GET"]),
    Route(instance_actor.ACTOR_PATH, instance, methods=["GET"]),
    Route(instance_actor.OUTBOX_PATH, instance_outbox, methods=["GET"]),
    Route(instance_actor.INBOX_PATH, instance_inbox, methods=["POST"]),
]
