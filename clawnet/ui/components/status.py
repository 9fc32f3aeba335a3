"""Status lights and badges: one colour per status, everywhere."""

from __future__ import annotations

import reflex as rx
from reflex.vars.sequence import StringVar

STATUS_COLORS = {
    "running": "green",
    "connected": "green",
    "starting": "amber",
    "pending": "amber",
    "restarting": "amber",
    "stopping": "amber",
    "unknown": "gray",
    "error": "red",
    "crash_loop": "red",
    "unresponsive": "red",
    "disconnected": "orange",
    "stopped": "gray",
    "disabled": "gray",
}
STATUS_LABELS = {
    "running": "Running",
    "starting": "Starting",
    "pending": "Pending",
    "restarting": "Restarting",
    "stopping": "Stopping",
    "error": "Error",
    "crash_loop": "Crash loop",
    "unresponsive": "Not answering",
    "stopped": "Stopped",
    "connected": "Connected",
    "disconnected": "Disconnected",
    "disabled": "Disabled",
    "unknown": "Unknown",
}


def _color(status: rx.Var | str) -> StringVar:
    return rx.Var.create(STATUS_COLORS).to(dict)[status].to(str)


def status_label(status: rx.Var | str) -> StringVar:
    return rx.Var.create(STATUS_LABELS).to(dict)[status].to(str)


def status_light(status: rx.Var | str, testid: rx.Var | str | None = None) -> rx.Component:
    """A coloured dot with the status as its accessible name."""
    return rx.box(
        width="0.75em",
        height="0.75em",
        border_radius="50%",
        background="var(--" + _color(status) + "-9)",
        role="img",
        aria_label=status_label(status),
        title=status_label(status),
        data_testid=testid,
        flex_shrink="0",
    )


def status_badge(status: rx.Var | str, testid: rx.Var | str | None = None) -> rx.Component:
    return rx.badge(
        status_label(status),
        color_scheme=_color(status),
        variant="soft",
        data_testid=testid,
        data_status=status,
    )
