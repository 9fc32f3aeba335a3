"""The app shell: top navigation, the signed-in user's menu, and the page frame."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import routes
from clawnet.ui.access_count import AccessCountState
from clawnet.ui.alert_count import AlertCountState
from clawnet.ui.inbox_count import InboxCountState
from clawnet.ui.notify import NotifyState
from clawnet.ui.session import SessionState
from clawnet.ui.verify_banner import verify_banner


def nav_link(label: str, href: str, testid: str) -> rx.Component:
    return rx.link(label, href=href, data_testid=testid, weight="medium", size="3", underline="none")


def notifications_link(testid: str = "nav-notifications", *, start: bool = True) -> rx.Component:
    """The bell with the unread count. Rendered twice (wide and narrow nav, one hidden by CSS):
    only one copy starts the live count."""
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
                    # The narrow nav's copy gets its own id (two elements must not share one).
                    data_testid="nav-unread-count" if start else f"{testid}-count",
                ),
            ),
            spacing="1",
            align="center",
        ),
        href=routes.NOTIFICATIONS,
        **({"on_mount": NotifyState.start} if start else {}),
        data_testid=testid,
        aria_label="Notifications: " + NotifyState.unread.to(str) + " unread",
    )


def count_link(
    label: str, href: str, count: Any, color: str, testid: str, aria: str, start: Any
) -> rx.Component:
    """A navigation link with a live count badge (`<testid>-count`, only when above zero). Its
    accessible name is "<aria noun>: <count> <aria word>" (`aria` as "noun:word"); `start` begins
    the live count."""
    return rx.link(
        rx.hstack(
            rx.text(label, weight="medium", size="3"),
            rx.cond(
                count > 0,
                rx.badge(
                    count, color_scheme=color, variant="solid", radius="full", data_testid=f"{testid}-count"
                ),
            ),
            spacing="1",
            align="center",
        ),
        href=href,
        underline="none",
        on_mount=start,
        data_testid=testid,
        aria_label=_aria(aria, count),
    )


def _aria(noun_word: str, count: Any) -> Any:
    noun, word = noun_word.split(":")
    return noun + ": " + count.to(str) + " " + word


def access_link() -> rx.Component:
    """Access requests, with how many wait for a decision (live)."""
    pending = AccessCountState.pending
    return count_link(
        "Access",
        routes.ACCESS,
        pending,
        "orange",
        "nav-access",
        "Access requests:waiting",
        AccessCountState.start,
    )


def inbox_link() -> rx.Component:
    """The inbox: approvals and access requests waiting on the person (live count)."""
    pending = InboxCountState.pending
    return count_link(
        "Inbox", routes.INBOX, pending, "orange", "nav-inbox", "Inbox:waiting", InboxCountState.start
    )


def alerts_link() -> rx.Component:
    """The alert centre, with how many of the person's alerts are open (live)."""
    count = AlertCountState.open_alerts
    return count_link(
        "Alerts", routes.ALERTS, count, "red", "nav-alerts", "Alerts:open", AlertCountState.start
    )


def count_badge_link(icon: str, href: str, count: Any, color: str, testid: str, aria: str) -> rx.Component:
    """On narrow screens, beside the menu button: a count badge linking to its page, only when
    above zero (the wide nav's link keeps the count live; both copies read the same state)."""
    return rx.cond(
        count > 0,
        rx.link(
            rx.badge(rx.icon(icon, size=14), count, color_scheme=color, variant="solid", radius="full"),
            href=href,
            data_testid=testid,
            aria_label=_aria(aria, count),
        ),
    )


def inbox_count_link(testid: str) -> rx.Component:
    return count_badge_link("inbox", routes.INBOX, InboxCountState.pending, "orange", testid, "Inbox:waiting")


def alerts_count_link(testid: str) -> rx.Component:
    return count_badge_link(
        "bell-ring", routes.ALERTS, AlertCountState.open_alerts, "red", testid, "Alerts:open"
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


WIDE = rx.breakpoints(initial="none", md="flex")  # shown from 1024 px on
NARROW = rx.breakpoints(initial="flex", md="none")  # phones and small tablets


def menu_item(label: str, href: str, testid: str) -> rx.Component:
    return rx.menu.item(rx.link(label, href=href, underline="none", width="100%"), data_testid=testid)


def compact_menu() -> rx.Component:
    """The navigation in one menu button, for narrow screens (a phone answering an alert)."""
    return rx.menu.root(
        rx.menu.trigger(
            rx.icon_button(
                rx.icon("menu", size=20), variant="soft", aria_label="Menu", data_testid="navmenu-button"
            )
        ),
        rx.menu.content(
            rx.cond(
                SessionState.sees_fleet,
                rx.fragment(
                    menu_item("Dashboard", routes.DASHBOARD, "navmenu-dashboard"),
                    menu_item("Bots", routes.BOTS, "navmenu-bots"),
                    menu_item("Sessions", routes.SESSIONS, "navmenu-sessions"),
                    menu_item("Inbox", routes.INBOX, "navmenu-inbox"),
                    menu_item("Access requests", routes.ACCESS, "navmenu-access"),
                    menu_item("Alerts", routes.ALERTS, "navmenu-alerts"),
                ),
            ),
            menu_item("Feed", routes.FEED, "navmenu-feed"),
            rx.cond(
                SessionState.signed_in,
                rx.fragment(
                    menu_item("Notifications", routes.NOTIFICATIONS, "navmenu-notifications"),
                    menu_item("Mentions", routes.MENTIONS, "navmenu-mentions"),
                    menu_item("Settings", routes.SETTINGS, "navmenu-settings"),
                ),
            ),
            rx.cond(SessionState.is_admin, menu_item("Admin", routes.ADMIN, "navmenu-admin")),
            rx.cond(
                SessionState.is_admin, menu_item("Moderation", routes.ADMIN_MODERATION, "navmenu-moderation")
            ),
            rx.menu.separator(),
            rx.cond(
                SessionState.signed_in,
                rx.menu.item("Sign out", on_select=SessionState.sign_out, data_testid="navmenu-sign-out"),
                rx.fragment(
                    menu_item("Sign in", routes.LOGIN, "navmenu-sign-in"),
                    menu_item("Create account", routes.REGISTER, "navmenu-register"),
                ),
            ),
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
                            inbox_link(),
                            access_link(),
                            alerts_link(),
                            spacing="5",
                            wrap="wrap",
                        ),
                    ),
                    nav_link("Feed", routes.FEED, "nav-feed"),
                    rx.cond(SessionState.signed_in, notifications_link()),
                    rx.cond(SessionState.signed_in, nav_link("Mentions", routes.MENTIONS, "nav-mentions")),
                    rx.cond(SessionState.signed_in, nav_link("Settings", routes.SETTINGS, "nav-settings")),
                    rx.cond(SessionState.is_admin, nav_link("Admin", routes.ADMIN, "nav-admin")),
                    spacing="5",
                    align="center",
                    wrap="wrap",
                ),
                aria_label="Main",
                display=WIDE,
            ),
            rx.spacer(),
            rx.box(user_menu(), display=WIDE),
            rx.hstack(
                rx.cond(SessionState.sees_fleet, alerts_count_link("navmenu-alerts-count")),
                rx.cond(SessionState.sees_fleet, inbox_count_link("navmenu-inbox-count")),
                rx.cond(
                    SessionState.signed_in, notifications_link("navmenu-notifications-bell", start=False)
                ),
                compact_menu(),
                display=NARROW,
                spacing="3",
                align="center",
            ),
            align="center",
            spacing=rx.breakpoints(initial="3", md="6"),
            width="100%",
            wrap="wrap",
        ),
        padding_x=rx.breakpoints(initial="1em", md="1.5em"),
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
                    wrap="wrap",  # a page's actions go under its heading on a phone
                ),
                verify_banner(),
                *children,
                spacing="5",
                width="100%",
            ),
            max_width="1200px",
            margin_x="auto",
            padding=rx.breakpoints(initial="1em", sm="1.5em"),
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
