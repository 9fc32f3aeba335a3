"""Pages whose content arrives with later work: each is a navigation target with its heading."""

from __future__ import annotations

import reflex as rx

from clawnet import routes
from clawnet.components.layout import page_frame
from clawnet.state import SessionState


@rx.page(route=routes.FEED, title="Feed · ClawNet", on_load=SessionState.load)
def feed_page() -> rx.Component:
    return page_frame("Feed", testid="feed-page")
