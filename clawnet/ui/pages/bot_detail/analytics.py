"""The Analytics tab: the last two weeks of this bot (messages, tokens, cost, failed turns) beside
the fleet the person can see. The bot's own figures follow its turns live."""

from __future__ import annotations

import reflex as rx

from clawnet import runtime
from clawnet.bots.views import DayFigures
from clawnet.events import FleetEvent, Kind
from clawnet.security.permissions import Principal
from clawnet.ui.pages.bot_detail.state import BotDetailState, part
from clawnet.ui.pages.bot_detail.widgets import bar_chart
from clawnet.ui.typed import Field, field

ACTIVITY_EVENTS = frozenset({Kind.SESSION_MESSAGE, Kind.CHAT_FINAL, Kind.CHAT_FAILED})


@part("analytics")
class BotAnalyticsState(BotDetailState):
    bot_days: Field[list[DayFigures]] = field(default_factory=list)
    fleet_days: Field[list[DayFigures]] = field(default_factory=list)

    async def _load_part(self, actor: Principal | None) -> None:
        bots = runtime.bots()
        self.bot_days = await bots.analytics(actor, bot_id=self.current_bot)
        self.fleet_days = await bots.analytics(actor)

    async def _follow_part(self, batch: list[FleetEvent], actor: Principal | None) -> None:
        if any(e.kind in ACTIVITY_EVENTS for e in batch):
            self.bot_days = await runtime.bots().analytics(actor, bot_id=self.current_bot)


def charts(*items: rx.Component) -> rx.Component:
    return rx.grid(*items, columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%")


def analytics_tab() -> rx.Component:
    bot, fleet = BotAnalyticsState.bot_days, BotAnalyticsState.fleet_days
    return rx.vstack(
        rx.heading("This bot", size="3"),
        charts(
            bar_chart(bot, "messages", "Messages", "iris", "chart-bot-messages"),
            bar_chart(bot, "tokens", "Tokens", "green", "chart-bot-tokens"),
            bar_chart(bot, "cost", "Cost (USD)", "amber", "chart-bot-cost"),
            bar_chart(bot, "errors", "Failed turns", "red", "chart-bot-errors"),
        ),
        rx.heading("The fleet you can see", size="3"),
        charts(
            bar_chart(fleet, "messages", "Messages", "iris", "chart-fleet-messages"),
            bar_chart(fleet, "errors", "Failed turns", "red", "chart-fleet-errors"),
        ),
        spacing="4",
        width="100%",
    )
