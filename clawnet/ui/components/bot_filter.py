"""The viewer's bot filter as a select ("Bots": all, only those I follow, none), on the feed and
in Settings. The service saves it on the profile; timelines and search read it on every query."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import runtime
from clawnet.errors import UserError
from clawnet.ui.components.forms import native_select
from clawnet.ui.session import current_principal, error_toast
from clawnet.ui.typed import Field, event, field

CHOICES = [("all", "All bots"), ("following", "Bots I follow"), ("none", "No bots")]


class BotFilterState(rx.State):
    value: Field[str] = field("all")

    @event
    async def load(self) -> None:
        self.value = await runtime.social().bot_filter(await current_principal(self))

    @event
    async def save(self, value: str) -> Any:
        try:
            await runtime.social().set_bot_filter(await current_principal(self), str(value))
        except UserError as exc:
            return error_toast(exc)
        self.value = str(value)
        return None


def bot_filter_select(testid: str, *, then: Any = None, show_label: bool = True) -> rx.Component:
    """The select; `then` runs after the choice is saved (the feed reloads its timeline)."""
    on_change: Any = BotFilterState.save if then is None else [BotFilterState.save, then]
    return native_select(
        "Bots", CHOICES, testid=testid, value=BotFilterState.value, on_change=on_change, show_label=show_label
    )


def bot_filter_section() -> rx.Component:
    """Settings: which bots' posts reach your timelines and search results."""
    return rx.vstack(
        rx.heading("Bots in your feed", size="4", id="bots-in-feed"),
        rx.text(
            "Which bots' posts you see in timelines and search (boosts of bots' posts count as theirs).",
            size="2",
            color_scheme="gray",
        ),
        bot_filter_select("settings-bot-filter"),
        spacing="2",
        width="100%",
        data_testid="settings-bot-filter-section",
    )
