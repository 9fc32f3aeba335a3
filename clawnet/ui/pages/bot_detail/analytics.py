"""The Analytics tab: the last two weeks of this bot (messages, tokens, cost, failed turns,
response times p50/p95 per day) beside the fleet the person can see, and the bot's throughput
per minute over the last hour. The bot's own figures follow its turns live."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import runtime
from clawnet.bots.session_views import MinuteCount, ResponseDay
from clawnet.bots.views import DayFigures
from clawnet.events import FleetEvent, Kind
from clawnet.security.permissions import Principal
from clawnet.ui.pages.bot_detail.state import BotDetailState, part
from clawnet.ui.pages.bot_detail.widgets import bar_chart, rows
from clawnet.ui.typed import Field, field

ACTIVITY_EVENTS = frozenset({Kind.SESSION_MESSAGE, Kind.CHAT_FINAL, Kind.CHAT_FAILED})


@part("analytics")
class BotAnalyticsState(BotDetailState):
    bot_days: Field[list[DayFigures]] = field(default_factory=list)
    fleet_days: Field[list[DayFigures]] = field(default_factory=list)
    response_days: Field[list[ResponseDay]] = field(default_factory=list)
    minutes: Field[list[MinuteCount]] = field(default_factory=list)

    async def _load_part(self, actor: Principal | None) -> None:
        bots = runtime.bots()
        self.fleet_days = await bots.analytics(actor)
        await self._load_bot(actor)

    async def _load_bot(self, actor: Principal | None) -> None:
        bots = runtime.bots()
        self.bot_days = await bots.analytics(actor, bot_id=self.current_bot)
        self.response_days = await bots.response_days(actor, self.current_bot)
        self.minutes = await bots.throughput(actor, self.current_bot)

    async def _follow_part(self, batch: list[FleetEvent], actor: Principal | None) -> None:
        if any(e.kind in ACTIVITY_EVENTS for e in batch):
            await self._load_bot(actor)


def charts(*items: rx.Component) -> rx.Component:
    return rx.grid(*items, columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%")


def response_chart() -> rx.Component:
    """p50 and p95 response time per day, as lines."""
    return rx.vstack(
        rx.text("Response time (s)", weight="medium", size="2"),
        rx.recharts.line_chart(
            rx.recharts.line(data_key="p50", name="p50", stroke="var(--iris-9)"),
            rx.recharts.line(data_key="p95", name="p95", stroke="var(--orange-9)"),
            rx.recharts.x_axis(data_key="day"),
            rx.recharts.y_axis(),
            rx.recharts.graphing_tooltip(),
            rx.recharts.legend(),
            data=rows(BotAnalyticsState.response_days),
            width="100%",
            height=180,
        ),
        width="100%",
        data_testid="chart-bot-response",
        role="img",
        aria_label="Response time p50 and p95 per day",
    )


def response_row(d: Any) -> rx.Component:
    return rx.table.row(
        rx.table.cell(d.day),
        rx.table.cell(d.turns),
        rx.table.cell(d.p50),
        rx.table.cell(d.p95),
        rx.table.cell(d.tokens),
        rx.table.cell("$" + d.cost.to_string()),
        data_testid="response-day-" + d.day,
    )


def response_table() -> rx.Component:
    """The same days as figures, next to the day's tokens and cost (newest first)."""
    return rx.table.root(
        rx.table.header(
            rx.table.row(
                *[
                    rx.table.column_header_cell(h)
                    for h in ("Day", "Turns", "p50 (s)", "p95 (s)", "Tokens", "Cost")
                ]
            )
        ),
        rx.table.body(rx.foreach(BotAnalyticsState.response_days.reverse(), response_row)),
        size="1",
        width="100%",
        data_testid="response-table",
    )


def throughput_chart() -> rx.Component:
    return rx.vstack(
        rx.text("Last hour, per minute", weight="medium", size="2"),
        rx.recharts.bar_chart(
            rx.recharts.bar(data_key="messages", fill="var(--iris-9)", name="Messages"),
            rx.recharts.bar(data_key="turns", fill="var(--green-9)", name="Turns answered"),
            rx.recharts.x_axis(data_key="minute", interval=9),
            rx.recharts.y_axis(allow_decimals=False),
            rx.recharts.graphing_tooltip(),
            rx.recharts.legend(),
            data=rows(BotAnalyticsState.minutes),
            width="100%",
            height=180,
        ),
        width="100%",
        data_testid="chart-bot-throughput",
        role="img",
        aria_label="Messages and turns per minute over the last hour",
    )


def analytics_tab() -> rx.Component:
    bot, fleet = BotAnalyticsState.bot_days, BotAnalyticsState.fleet_days
    return rx.vstack(
        rx.heading("This bot", size="3"),
        charts(
            bar_chart(bot, "messages", "Messages", "iris", "chart-bot-messages"),
            bar_chart(bot, "tokens", "Tokens", "green", "chart-bot-tokens"),
            bar_chart(bot, "cost", "Cost (USD)", "amber", "chart-bot-cost"),
            bar_chart(bot, "errors", "Failed turns", "red", "chart-bot-errors"),
            response_chart(),
            throughput_chart(),
        ),
        rx.heading("Response times", size="3"),
        response_table(),
        rx.heading("The fleet you can see", size="3"),
        charts(
            bar_chart(fleet, "messages", "Messages", "iris", "chart-fleet-messages"),
            bar_chart(fleet, "errors", "Failed turns", "red", "chart-fleet-errors"),
        ),
        spacing="4",
        width="100%",
    )
