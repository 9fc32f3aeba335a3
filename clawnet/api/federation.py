"""ActivityPub documents served to other servers: WebFinger, host-meta, NodeInfo, actors, notes, collections."""

from __future__ import annotations

from starlette.routing import BaseRoute

ROUTES: list[BaseRoute] = []
