"""ClawNet's HTTP routes, mounted in front of Reflex's backend (`rx.App(api_transformer=...)`)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from clawnet.api import auth, health, media, posts


def build_api() -> Starlette:
    route_list: list[BaseRoute] = [*auth.ROUTES, *health.ROUTES, *media.ROUTES, *posts.ROUTES]
    return Starlette(routes=route_list)
