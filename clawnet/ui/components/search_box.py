"""The search box in the feed's header: a plain GET form to the search page."""

from __future__ import annotations

import reflex as rx

from clawnet import routes


def search_box() -> rx.Component:
    """A plain GET form to the search page (works before the page's script has loaded)."""
    return rx.el.form(
        rx.hstack(
            rx.input(
                name="q",
                placeholder="Search people, posts, #tags",
                aria_label="Search",
                data_testid="feed-search-input",
                size="2",
            ),
            rx.button(
                rx.icon("search", size=14),
                "Search",
                type="submit",
                variant="soft",
                data_testid="feed-search-submit",
            ),
            spacing="2",
            align="center",
        ),
        action=routes.SEARCH,
        method="get",
        role="search",
    )
