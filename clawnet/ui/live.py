"""Live pages: a background event per open page follows the fleet's event bus and pushes
changes to that browser over Reflex's WebSocket (no polling, no reload).

Reflex keeps a background task running after its browser disconnects, so `follow` ends the task
itself: when the browser is gone, when it navigated to another page, or when a newer watcher for
the same page replaced it (a reload). Events come in batches: everything queued is applied in one
state update, so a burst of events is one message to the browser, not hundreds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import reflex as rx

from clawnet import runtime
from clawnet.events import FleetEvent

IDLE_CHECK_S = 5.0
MAX_BATCH = 500

_web_app: Any = None


def set_web_app(app: Any) -> None:
    """The Reflex app of this process (asked which browsers are still connected)."""
    global _web_app
    _web_app = app


def client_connected(token: str) -> bool:
    """Whether the browser tab with this Reflex client token still has a live socket here."""
    app = _web_app
    namespace = getattr(app, "event_namespace", None) if app is not None else None
    if namespace is None:
        return True
    return token in namespace.token_to_sid


async def follow(
    state: rx.State,
    *,
    kinds: Iterable[str],
    where: Callable[[FleetEvent], bool],
    apply: Callable[[list[FleetEvent]], Any],
    generation: Callable[[], int],
    on_page: Callable[[str], bool],
) -> None:
    """Run inside a background event: apply matching bus events to `state` until the page goes
    away. `generation()` reads the state's watcher generation (checked under the state lock)."""
    async with state:
        my_generation = generation()
        token = state.router.session.client_token
    with runtime.bus().subscribe(kinds, where=where, maxsize=5000) as events:
        while True:
            try:
                first = await events.get(timeout=IDLE_CHECK_S)
            except TimeoutError:
                if not client_connected(token):
                    return
                continue
            batch = [first]
            while len(batch) < MAX_BATCH and (more := events.get_nowait()) is not None:
                batch.append(more)
            async with state:
                path = (state.router.url.path or "/").rstrip("/") or "/"
                if generation() != my_generation or not on_page(path):
                    return
                result = apply(batch)
                if hasattr(result, "__await__"):
                    await result
            if not client_connected(token):
                return
