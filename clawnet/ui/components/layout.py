"""The app shell: top navigation, the signed-in user's menu, and the page frame."""

from __future__ import annotations

import reflex as rx

from clawnet import routes
from clawnet.ui.access_count import AccessCountState
from clawnet.ui.alert_count import AlertCountState
from clawnet.ui.notify import NotifyState
from clawnet.ui.session import SessionState


def nav_link(label: str, href: str, testid: str) -> rx.Component:
    return rx.link(label, href=href, data_testid=testid, weight="medium", size="3", underline="none")


def notifications_link() -> rx.Component:
    return rx.link(
        rx.hstack(
            rx.icon("bell", size=18),
            rx.cond(
                NotifyState.unread > 0,
                rx.badge(
                    NotifyState.unread,
                    color_scheme="red",
                    variant="solid",
                    radius="full",
                    data_testid="nav-unread-count",
                ),
            ),
            spacing="1",
            align="center",
        ),
        href=routes.NOTIFICATIONS,
        on_mount=NotifyState.start,
        data_testid="nav-notifications",
        aria_label="Notifications: " + NotifyState.unread.to(str) + " unread",
    )


def access_link() -> rx.Component:
    """Access requests, with how many wait for a decision (live)."""
    return rx.link(
        rx.hstack(
            rx.text("Access", weight="medium", size="3"),
            rx.cond(
                AccessCountState.pending > 0,
                rx.badge(
                    AccessCountState.pending,
                    color_scheme="orange",
                    variant="solid",
                    radius="full",
                    data_testid="nav-access-count",
                ),
            ),
            spacing="1",
            align="center",
        ),
        href=routes.ACCESS,
        underline="none",
        on_mount=AccessCountState.start,
        data_testid="nav-access",
        aria_label="Access requests: " + AccessCountState.pending.to(str) + " waiting",
    )


def alerts_link() -> rx.Component:
    """The alert centre, with how many of the person's alerts are open (live)."""
    return rx.link(
        rx.hstack(
            rx.text("Alerts", weight="medium", size="3"),
            rx.cond(
                AlertCountState.open_alerts > 0,
                rx.badge(
                    AlertCountState.open_alerts,
                    color_scheme="red",
                    variant="solid",
                    radius="full",
                    data_testid="nav-alerts-count",
                ),
            ),
            spacing="1",
            align="center",
        ),
        href=routes.ALERTS,
        underline="none",
        on_mount=AlertCountState.start,
        data_testid="nav-alerts",
        aria_label="Alerts: " + AlertCountState.open_alerts.to(str) + " open",
    )


def user_menu() -> rx.Component:
    return rx.cond(
        SessionState.signed_in,
        rx.hstack(
            rx.text(SessionState.user_name, size="2", weight="medium", data_testid="nav-user-name"),
            rx.badge(SessionState.user_role, variant="soft", data_testid="nav-user-role"),
            rx.button(
                "Sign out",
                on_click=SessionState.sign_out,
                variant="soft",
                size="1",
                data_testid="nav-sign-out",
            ),
            spacing="3",
            align="center",
        ),
        rx.hstack(
            nav_link("Sign in", routes.LOGIN, "nav-sign-in"),
            nav_link("Create account", routes.REGISTER, "nav-register"),
            spacing="4",
            align="center",
        ),
    )


def navbar() -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.link(
                rx.hstack(
                    rx.text("🦀", size="5"), rx.heading("ClawNet", size="5"), spacing="2", align="center"
                ),
                href=rx.cond(SessionState.sees_fleet, routes.DASHBOARD, routes.FEED),
                underline="none",
                data_testid="nav-home",
            ),
            rx.el.nav(
                rx.hstack(
                    rx.cond(
                        SessionState.sees_fleet,
                        rx.hstack(
                            nav_link("Dashboard", routes.DASHBOARD, "nav-dashboard"),
                            nav_link("Bots", routes.BOTS, "nav-bots"),
                            nav_link("Sessions", routes.SESSIONS, "nav-sessions"),
                            access_link(),
                            alerts_link(),
                            spacing="5",
                            wrap="wrap",
                        ),
                    ),
                    nav_link("Feed", routes.FEED, "nav-feed"),
                    rx.cond(SessionState.signed_in, notifications_link()),
                    rx.cond(SessionState.signed_in, nav_link("Settings", routes.SETTINGS, "nav-settings")),
                    rx.cond(SessionState.is_admin, nav_link("Admin", routes.ADMIN, "nav-admin")),
                    spacing="5",
                    align="center",
                    wrap="wrap",
                ),
                aria_label="Main",
            ),
            rx.spacer(),
            user_menu(),
            align="center",
            spacing="6",
            width="100%",
            wrap="wrap",
        ),
        padding_x="1.5em",
        padding_y="0.8em",
        border_bottom="1px solid var(--gray-a5)",
        background="var(--color-panel-solid)",
        # Sticky on wider screens; on a phone the wrapped navigation would hide a quarter of it.
        position=rx.breakpoints(initial="static", sm="sticky"),
        top="0",
        z_index="10",
    )


def page_frame(
    title: str | rx.Var[str] | rx.Component,
    *children: rx.Component,
    testid: str,
    actions: rx.Component | None = None,
) -> rx.Component:
    """A signed-in page: navigation, a heading (`title`, or a component of the page's own that
    holds its heading), then the page's content."""
    heading = (
        title
        if isinstance(title, rx.Component)
        else rx.heading(title, size="7", data_testid=f"{testid}-title")
    )
    return rx.box(
        navbar(),
        rx.el.main(
            rx.vstack(
                rx.hstack(
                    heading,
                    rx.spacer(),
                    actions if actions is not None else rx.fragment(),
                    width="100%",
                    align="center",
                ),
                *children,
                spacing="5",
                width="100%",
            ),
            max_width="1200px",
            margin_x="auto",
            padding="1.5em",
            data_testid=testid,
        ),
        min_height="100vh",
    )


def centered_card(*children: rx.Component, testid: str) -> rx.Component:
    """A small centered card, for sign-in and registration."""
    return rx.box(
        navbar(),
        rx.center(
            rx.card(
                rx.vstack(*children, spacing="4", width="100%"), width="100%", max_width="26em", size="3"
            ),
            padding_top="8vh",
            padding_x="1em",
        ),
        data_testid=testid,
        min_height="100vh",
    )
