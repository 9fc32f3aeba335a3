"""The Overview tab: the bot's figures (from the header), its messages per day and its gateway's
memory, both kept current by the page's watcher."""

from __future__ import annotations

from datetime import UTC, datetime

import reflex as rx

from clawnet import runtime
from clawnet.bots.views import BotUptime, DayFigures, MemoryPoint
from clawnet.events import FleetEvent, Kind
from clawnet.security.permissions import Principal
from clawnet.ui.components.status import status_badge
from clawnet.ui.components.uptime import uptime_bar
from clawnet.ui.pages.bot_detail.state import BotDetailState, part
from clawnet.ui.pages.bot_detail.widgets import bar_chart, rows, stat
from clawnet.ui.typed import Field, field

MAX_MEMORY_POINTS = 3000
# A finished turn or a new message changes today's bar.
ACTIVITY_EVENTS = frozenset({Kind.SESSION_MESSAGE, Kind.CHAT_FINAL, Kind.CHAT_FAILED})


@part("overview")
class BotOverviewState(BotDetailState):
    days: Field[list[DayFigures]] = field(default_factory=list)
    memory: Field[list[MemoryPoint]] = field(default_factory=list)
    uptime: Field[BotUptime] = field(default_factory=BotUptime)

    async def _load_part(self, actor: Principal | None) -> None:
        bots = runtime.bots()
        self.days = await bots.analytics(actor, bot_id=self.current_bot)
        self.memory = await bots.memory(actor, self.current_bot)
        self.uptime = await bots.uptime(actor, self.current_bot)

    async def _follow_part(self, batch: list[FleetEvent], actor: Principal | None) -> None:
        if any(e.kind in (Kind.BOT_STATUS, Kind.BOT_DESIRED) for e in batch):
            self.uptime = await runtime.bots().uptime(actor, self.current_bot)
        if any(e.kind in ACTIVITY_EVENTS for e in batch):
            self.days = await runtime.bots().analytics(actor, bot_id=self.current_bot)
        points = [
            MemoryPoint(
                datetime.now(UTC).strftime("%H:%M"),
                round(e.payload.get("rss_bytes", 0) / 2**20),
                float(e.payload.get("event_loop_delay_p99_ms") or 0.0),
            )
            for e in batch
            if e.kind == Kind.GATEWAY_METRICS
        ]
        if points:
            self.memory = [*self.memory, *points][-MAX_MEMORY_POINTS:]


def memory_chart() -> rx.Component:
    return rx.vstack(
        rx.text("Gateway memory (MB)", weight="medium", size="2"),
        rx.recharts.line_chart(
            rx.recharts.line(data_key="memory_mb", stroke="var(--green-9)", name="MB"),
            rx.recharts.x_axis(data_key="at"),
            rx.recharts.y_axis(),
            rx.recharts.graphing_tooltip(),
            data=rows(BotOverviewState.memory),
            width="100%",
            height=180,
        ),
        width="100%",
        data_testid="chart-memory",
        role="img",
        aria_label="Gateway memory over the last day",
    )


def overview_tab() -> rx.Component:
    h = BotDetailState.header
    return rx.vstack(
        rx.grid(
            stat("Uptime", h.uptime, "bot-uptime"),
            stat("Sessions", h.sessions, "bot-sessions-count"),
            stat("Messages", h.messages, "bot-messages-count"),
            stat("Tokens", h.tokens, "bot-tokens"),
            stat("Cost", h.cost, "bot-cost"),
            stat("Last activity", h.last_activity, "bot-last-activity"),
            columns=rx.breakpoints(initial="2", md="6"),
            spacing="3",
            width="100%",
        ),
        rx.hstack(
            rx.text("Model: ", h.model, " · Gateway: ", h.gateway, size="2"),
            rx.cond(h.gateway_status != "", status_badge(h.gateway_status, "bot-gateway-status")),
            rx.cond(
                h.gateway_detail != "",
                rx.text(h.gateway_detail, size="1", color_scheme="gray", data_testid="bot-gateway-detail"),
            ),
            spacing="2",
            align="center",
            wrap="wrap",
        ),
        uptime_bar(BotOverviewState.uptime, "bot"),
        rx.grid(
            bar_chart(BotOverviewState.days, "messages", "Messages", "iris", "chart-messages"),
            memory_chart(),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
            width="100%",
        ),
        spacing="4",
        width="100%",
    )
