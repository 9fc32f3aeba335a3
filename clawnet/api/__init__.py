"""ClawNet's HTTP routes, mounted in front of Reflex's backend (`rx.App(api_transformer=...)`)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from clawnet.api import auth, health, media, metrics, posts
from clawnet.metrics.web import ASGIApp, RequestTimer


def build_api() -> Starlette:
    route_list: list[BaseRoute] = [
        *auth.ROUTES,
        *health.ROUTES,
        *media.ROUTES,
        *metrics.ROUTES,
        *posts.ROUTES,
    ]
    return Starlette(routes=route_list)


def request_timer(app: ASGIApp) -> ASGIApp:
    """Times every HTTP request of the backend for `/metrics` (routes labelled by template)."""
    templates = [
        getattr(r, "path", "")
        for r in (*auth.ROUTES, *health.ROUTES, *media.ROUTES, *metrics.ROUTES, *posts.ROUTES)
    ]
    return RequestTimer(app, templates)
