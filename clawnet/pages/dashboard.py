"""Dashboard: the fleet at a glance (filled in by the operator UI)."""

from __future__ import annotations

import reflex as rx

from clawnet import routes
from clawnet.components.layout import page_frame
from clawnet.state import SessionState


@rx.page(route=routes.DASHBOARD, title="Dashboard · ClawNet", on_load=SessionState.require_fleet)
def dashboard_page() -> rx.Component:
    return page_frame(
        "Dashboard",
        rx.text(
            "Signed in as ",
            rx.text.strong(SessionState.user_name),
            " (",
            SessionState.user_role,
            ").",
            data_testid="dashboard-whoami",
        ),
        testid="dashboard-page",
    )
