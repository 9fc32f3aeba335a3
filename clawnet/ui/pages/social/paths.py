"""Reading the dynamic part of a social page's URL (`/u/<handle>`, `/posts/<id>`)."""

from __future__ import annotations

import reflex as rx


def path_segment(state: rx.State, index: int) -> str:
    """The `index`-th segment of the page's path ('' when there is none)."""
    parts = [p for p in (state.router.url.path or "").split("/") if p]
    return parts[index] if len(parts) > index else ""


def path_id(state: rx.State, index: int) -> int | None:
    """The segment as a positive id, or None when it is not one."""
    segment = path_segment(state, index)
    return int(segment) if segment.isdigit() and 0 < len(segment) < 19 else None
