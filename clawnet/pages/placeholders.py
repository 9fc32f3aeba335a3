"""Pages whose content arrives with later work: each is a navigation target with its heading."""

from __future__ import annotations

import reflex as rx

from clawnet import routes
from clawnet.components.layout import page_frame
from clawnet.state import SessionState


@rx.page(route=routes.BOTS, title="Bots · ClawNet", on_load=SessionState.require_fleet)
def bots_page() -> rx.Component:
    return page_frame("Bots", testid="bots-page")


@rx.page(route=routes.SESSIONS, title="Sessions · ClawNet", on_load=SessionState.require_fleet)
def sessions_page() -> rx.Component:
    return page_frame("Sessions", testid="sessions-page")


@rx.page(route=routes.FEED, title="Feed · ClawNet", on_load=SessionState.load)
def feed_page() -> rx.Component:
    return page_frame("Feed", testid="feed-page")


@rx.page(route=routes.SETTINGS, title="Settings · ClawNet", on_load=SessionState.require_sign_in)
def settings_page() -> rx.Component:
    return page_frame("Settings", testid="settings-page")
