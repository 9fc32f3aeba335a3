"""The ClawNet app: pages, HTTP routes and start-up work."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import reflex as rx

import clawnet.pages.admin
import clawnet.pages.auth
import clawnet.pages.dashboard
import clawnet.pages.placeholders  # noqa: F401  (pages register themselves with @rx.page)
from clawnet import db, runtime
from clawnet.api import build_api
from clawnet.models import User

# The schema is brought up to date whenever the app loads, before any page is served.
db.migrate()

# Every ClawNet table lives on SQLModel's one shared MetaData; registering one table class hands
# Reflex that whole MetaData (registering each class would make Reflex copy it table by table).
rx.ModelRegistry.register(User)

app = rx.App(api_transformer=build_api())


@contextlib.asynccontextmanager
async def control_plane() -> AsyncIterator[None]:
    """Runs for the life of the backend: the fleet controller, its health jobs, the echo model."""
    await runtime.start()
    try:
        yield
    finally:
        await runtime.stop()


app.register_lifespan_task(control_plane)
