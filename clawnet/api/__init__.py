"""ClawNet's HTTP routes, mounted in front of Reflex's backend (`rx.App(api_transformer=...)`)."""

from __future__ import annotations

import logging

import sqlalchemy.exc
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from clawnet.api import (
    auth,
    federation,
    federation_inbox,
    feeds,
    health,
    mastodon,
    mastodon_contract,
    mastodon_stream,
    media,
    metrics,
    oauth,
    posts,
)
from clawnet.errors import DatabaseUnavailable, Unavailable, disk_full
from clawnet.metrics.web import ASGIApp, RequestTimer

log = logging.getLogger(__name__)


def build_api() -> Starlette:
    route_list: list[BaseRoute] = [
        *auth.ROUTES,
        *health.ROUTES,
        *media.ROUTES,
        *metrics.ROUTES,
        # Mastodon's client API before the bot API: its public timeline answers in Mastodon's shape.
        *mastodon.ROUTES,
        *mastodon_contract.ROUTES,
        *mastodon_stream.ROUTES,
        *oauth.ROUTES,
        *posts.ROUTES,
        *feeds.ROUTES,
        *federation.ROUTES,
        *federation_inbox.ROUTES,
    ]
    unavailable = {
        sqlalchemy.exc.OperationalError: _unavailable,
        sqlalchemy.exc.TimeoutError: _unavailable,
        Unavailable: _unavailable,
    }
    return Starlette(routes=route_list, exception_handlers=unavailable)


async def _unavailable(_request: Request, exc: Exception) -> Response:
    """A locked, stopped or unreachable database, or a full disk, said plainly: 503, not a 500."""
    if (full := disk_full(exc)) is not None:
        message = full.message
    elif isinstance(exc, Unavailable):
        message = exc.message
    else:
        log.warning("database unavailable during an API request: %s", exc)
        message = DatabaseUnavailable.default_message
    return JSONResponse({"error": message}, status_code=503, headers={"Retry-After": "5"})


def request_timer(app: ASGIApp) -> ASGIApp:
    """Times every HTTP request of the backend for `/metrics` (routes labelled by template)."""
    templates = [
        getattr(r, "path", "")
        for r in (
            *auth.ROUTES,
            *health.ROUTES,
            *media.ROUTES,
            *metrics.ROUTES,
            *mastodon.ROUTES,
            *mastodon_contract.ROUTES,
            *mastodon_stream.ROUTES,
            *oauth.ROUTES,
            *posts.ROUTES,
            *feeds.ROUTES,
            *federation.ROUTES,
            *federation_inbox.ROUTES,
        )
    ]
    return RequestTimer(app, templates)
