"""The ClawNet app: pages, HTTP routes and start-up work."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

import reflex as rx
import sqlalchemy.exc
from reflex.app import default_backend_exception_handler
from reflex.event import EventSpec

import clawnet.ui.pages  # noqa: F401  (pages register themselves with @rx.page)
from clawnet import db, runtime
from clawnet.api import build_api, request_timer
from clawnet.api.guard import same_origin_guard
from clawnet.errors import DatabaseUnavailable, Unavailable, disk_full
from clawnet.ui import live

# The schema is brought up to date whenever the app loads, before any page is served.
db.migrate()

# Every ClawNet table lives on SQLModel's shared MetaData, which Reflex's registry already holds
# through its own base model: registering our classes again would make Reflex copy every table
# twice. tests/unit/test_reflex_registry.py checks that Reflex sees them all.

log = logging.getLogger(__name__)

DATABASE_UNAVAILABLE = DatabaseUnavailable.default_message


def backend_error(exception: Exception) -> EventSpec:
    """What a person sees when a handler fails. A locked or unreachable database is said plainly
    (the handler's transaction was rolled back, so nothing half-done is kept), and so is a full
    disk or a part that cannot answer now."""
    if (full := disk_full(exception)) is not None:
        log.warning("disk full during an event: %s", exception)
        return rx.toast.error(full.message, duration=10_000)
    if isinstance(exception, Unavailable):
        return rx.toast.error(exception.message, duration=10_000)
    if isinstance(exception, sqlalchemy.exc.OperationalError | sqlalchemy.exc.TimeoutError):
        log.warning("database unavailable during an event: %s", exception)
        return rx.toast.error(DATABASE_UNAVAILABLE, duration=10_000)
    return default_backend_exception_handler(exception)


app = rx.App(
    # Our HTTP routes in front of Reflex's; then the same-origin guard and security headers
    # around everything (pages, the event WebSocket, uploads, the API); outermost, the request
    # timer for `/metrics`.
    api_transformer=[build_api(), same_origin_guard, request_timer],
    # Centred: in a corner, toasts would cover the primary buttons of forms (Next, Create).
    toaster=rx.toast.provider(position="bottom-center", close_button=True),
    backend_exception_handler=backend_error,
)
live.set_web_app(app)


@contextlib.asynccontextmanager
async def control_plane() -> AsyncIterator[None]:
    """Runs for the life of the backend: the fleet controller, its health jobs, the echo model."""
    await runtime.start()
    try:
        yield
    finally:
        await runtime.stop()


app.register_lifespan_task(control_plane)
