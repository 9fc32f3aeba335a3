"""`/bots/<number or agent id>`: the bot's name, live status and actions on top, then its tabs
(`?tab=overview|channels|routing|sessions|schedules|budget|skills|configuration|logs|analytics`, `&session=<id>`)."""

from __future__ import annotations

import reflex as rx

from clawnet import routes
from clawnet.ui.components.layout import page_frame
from clawnet.ui.components.status import status_badge, status_light
from clawnet.ui.pages.bot_detail.analytics import analytics_tab
from clawnet.ui.pages.bot_detail.budget import budget_tab
from clawnet.ui.pages.bot_detail.channels import channels_tab
from clawnet.ui.pages.bot_detail.chat import sessions_tab
from clawnet.ui.pages.bot_detail.configuration import configuration_tab
from clawnet.ui.pages.bot_detail.logs import logs_tab
from clawnet.ui.pages.bot_detail.overview import overview_tab
from clawnet.ui.pages.bot_detail.routing import routing_tab
from clawnet.ui.pages.bot_detail.schedules import schedules_tab
from clawnet.ui.pages.bot_detail.skills import skills_tab
from clawnet.ui.pages.bot_detail.state import NOT_FOUND, TABS, BotDetailState
from clawnet.ui.session import SessionState

TAB_CONTENT = {
    "overview": overview_tab,
    "channels": channels_tab,
    "routing": routing_tab,
    "sessions": sessions_tab,
    "schedules": schedules_tab,
    "budget": budget_tab,
    "skills": skills_tab,
    "configuration": configuration_tab,
    "logs": logs_tab,
    "analytics": analytics_tab,
}


def title() -> rx.Component:
    h = BotDetailState.header
    return rx.cond(
        BotDetailState.found,
        rx.hstack(
            rx.text(h.emoji, size="7", aria_hidden="true"),
            rx.heading(h.name, size="7", data_testid="bot-name"),
            status_light(h.status, "bot-status-light"),
            status_badge(h.status, "bot-status"),
            rx.cond(
                h.paused != "", rx.badge(h.paused, color_scheme="orange", data_testid="budget-header-paused")
            ),
            rx.cond(
                h.budget != "",
                rx.text(
                    "Budget: " + h.budget, size="1", color_scheme="gray", data_testid="budget-header-usage"
                ),
            ),
            spacing="3",
            align="center",
        ),
        rx.heading(
            rx.cond(BotDetailState.not_found, "Bot not found", "Bot"),
            size="7",
            data_testid="bot-detail-page-title",
        ),
    )


def header_actions() -> rx.Component:
    h = BotDetailState.header
    return rx.cond(
        BotDetailState.found & h.can_operate,
        rx.hstack(
            rx.cond(
                h.running,
                rx.button(
                    "Stop",
                    variant="soft",
                    color_scheme="gray",
                    on_click=BotDetailState.stop,
                    data_testid="detail-stop",
                ),
                rx.button(
                    "Start",
                    variant="soft",
                    color_scheme="green",
                    on_click=BotDetailState.start,
                    data_testid="detail-start",
                ),
            ),
            rx.button(
                "Restart", variant="soft", on_click=BotDetailState.restart, data_testid="detail-restart"
            ),
            spacing="2",
        ),
    )


def not_found() -> rx.Component:
    return rx.callout(
        rx.vstack(
            rx.text(NOT_FOUND),
            rx.link("See the bots you can open", href=routes.BOTS, data_testid="bot-not-found-back"),
            spacing="1",
        ),
        icon="circle_alert",
        color_scheme="red",
        role="alert",
        data_testid="bot-not-found",
    )


def tabs() -> rx.Component:
    return rx.tabs.root(
        rx.tabs.list(
            *[rx.tabs.trigger(label, value=value, data_testid=f"tab-{value}") for value, label in TABS]
        ),
        *[rx.tabs.content(TAB_CONTENT[value](), value=value, padding_top="1em") for value, _ in TABS],
        value=BotDetailState.tab,
        on_change=BotDetailState.set_tab,
        width="100%",
    )


@rx.page(
    route=routes.BOT_DETAIL,
    title=BotDetailState.page_title,
    on_load=[SessionState.require_fleet, BotDetailState.on_load],
)
def bot_detail_page() -> rx.Component:
    h = BotDetailState.header
    return page_frame(
        title(),
        rx.cond(
            BotDetailState.not_found,
            not_found(),
            rx.cond(
                BotDetailState.found,
                rx.vstack(
                    rx.cond(
                        h.error != "",
                        rx.callout(h.error, color_scheme="red", role="alert", data_testid="bot-error"),
                    ),
                    tabs(),
                    spacing="4",
                    width="100%",
                ),
            ),
        ),
        testid="bot-detail-page",
        actions=header_actions(),
    )
