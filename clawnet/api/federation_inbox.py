"""ActivityPub inboxes: the shared one and each actor's (POST, HTTP-signed)."""

from __future__ import annotations

from starlette.routing import BaseRoute

ROUTES: list[BaseRoute] = []
