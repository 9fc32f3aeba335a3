"""The dashboard's controls: the pager under the bot cards and the kill switch buttons."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet.bots.views import CARDS_PER_PAGE
from clawnet.ui.session import SessionState


def pager(state: Any) -> rx.Component:
    """Previous / next page of cards, and where this page is in the list."""
    first = (state.page - 1) * CARDS_PER_PAGE + 1
    last = rx.cond(
        state.page * CARDS_PER_PAGE < state.matched,
        state.page * CARDS_PER_PAGE,
        state.matched,
    )
    return rx.cond(
        state.matched > 0,
        rx.hstack(
            rx.button(
                "Previous",
                variant="soft",
                on_click=state.previous_page,
                disabled=state.page <= 1,
                aria_label="Previous page of bots",
                data_testid="dashboard-page-previous",
            ),
            rx.text(
                "Bots ",
                first.to_string(),
                " to ",
                last.to_string(),
                " of ",
                state.matched.to_string(),
                " · page ",
                state.page.to_string(),
                " of ",
                state.pages.to_string(),
                size="2",
                color_scheme="gray",
                data_testid="dashboard-page-info",
                aria_live="polite",
            ),
            rx.button(
                "Next",
                variant="soft",
                on_click=state.next_page,
                disabled=state.page >= state.pages,
                aria_label="Next page of bots",
                data_testid="dashboard-page-next",
            ),
            spacing="3",
            align="center",
            wrap="wrap",
            data_testid="dashboard-pager",
        ),
    )


def kill_switch_buttons(state: Any) -> rx.Component:
    """The kill switch: pause or resume every bot of the owner (admins: of the fleet). An
    owner's resume lifts only the owner's pause; the fleet's resume lifts every kill-switch
    pause (the fleet's and owners'). Bots over a spent budget stay paused either way."""

    def button(label: str, testid: str, handler: Any, color: str, hint: str) -> rx.Component:
        return rx.button(
            label,
            variant="soft",
            color_scheme=color,
            on_click=handler,
            aria_label=label,
            title=hint,
            data_testid=testid,
        )

    return rx.hstack(
        button(
            "Pause all my bots",
            "kill-switch-pause",
            state.pause_all,
            "red",
            "Pause every bot you own until you resume them.",
        ),
        button(
            "Resume my bots",
            "kill-switch-resume",
            state.resume_all,
            "green",
            "Resume the bots you paused. Bots paused by an admin's fleet pause stay paused until the fleet resumes.",
        ),
        rx.cond(
            SessionState.is_admin,
            rx.fragment(  # its buttons wrap with the others on a phone
                button(
                    "Pause the fleet",
                    "kill-switch-fleet-pause",
                    state.pause_fleet,
                    "red",
                    "Pause every bot of every owner; owners cannot resume them, only the fleet resume does.",
                ),
                button(
                    "Resume the fleet",
                    "kill-switch-fleet-resume",
                    state.resume_fleet,
                    "green",
                    "Resume every bot paused by a kill switch: the fleet's and each owner's.",
                ),
            ),
        ),
        spacing="2",
        wrap="wrap",
    )
