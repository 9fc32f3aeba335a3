"""The filter bar and paging controls both session lists share (`/sessions` and a bot's
Sessions tab): channel, kind and activity selects (and a bot select on `/sessions`), a search
box, "Load more". Each list's state owns the values and handlers; these only draw them."""

from __future__ import annotations

import json
from typing import Any

import reflex as rx

from clawnet.bots.session_views import ACTIVITY_WINDOWS, FilterChoice, SessionFacets
from clawnet.ui.components.forms import native_select

ACTIVITY_CHOICES = [("", "Any time")] + [(key, label) for key, (label, _) in ACTIVITY_WINDOWS.items()]


def choices(items: list[FilterChoice], any_label: str) -> list[dict[str, str]]:
    """A select's options: "any" first, then `items`."""
    return [{"value": "", "label": any_label}] + [{"value": c.value, "label": c.label} for c in items]


def facet_choices(facets: SessionFacets) -> tuple[list[dict[str, str]], ...]:
    """The bot, channel and kind options of `facets`."""
    return (
        choices(facets.bots, "Any bot"),
        choices(facets.channels, "Any channel"),
        choices(facets.kinds, "Any kind"),
    )


def replace_url(url: str) -> Any:
    """Show `url` in the address bar without a reload, so the filtered list can be linked."""
    return rx.call_script(f"window.history.replaceState(null, '', {json.dumps(url)})")


def select(label: str, options: Any, value: Any, on_change: Any, testid: str) -> rx.Component:
    return native_select(label, options, testid=testid, value=value, on_change=on_change, show_label=False)


def search_form(text: Any, on_change: Any, on_submit: Any, prefix: str) -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.input(
                name="q",
                value=text,
                on_change=on_change,
                placeholder="Search bot, conversation or messages",
                aria_label="Search sessions",
                data_testid=f"{prefix}-search",
                width="20em",
                max_length=200,
            ),
            rx.button("Search", type="submit", variant="soft", data_testid=f"{prefix}-search-submit"),
            spacing="2",
        ),
        on_submit=on_submit,
        role="search",
        aria_label="Search sessions",
    )


def load_more(
    has_more: Any, loading: Any, on_click: Any, testid: str, label: str = "Load more"
) -> rx.Component:
    return rx.cond(
        has_more,
        rx.button(label, variant="soft", loading=loading, on_click=on_click, data_testid=testid),
    )
