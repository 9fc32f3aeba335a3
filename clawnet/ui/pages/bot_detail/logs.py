"""The Logs tab: the newest lines of the bot's gateway log, then new lines live, filtered by level
and text. A pooled gateway's log mixes its bots: lines naming the pool's other bots are hidden."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import runtime
from clawnet.bots import LOG_LEVELS
from clawnet.bots.views import LogEntry, LogScope
from clawnet.errors import UserError
from clawnet.events import FleetEvent, Kind
from clawnet.security.permissions import Principal
from clawnet.ui.components.forms import native_select
from clawnet.ui.pages.bot_detail.state import BotDetailState, part
from clawnet.ui.session import current_principal, error_toast
from clawnet.ui.typed import Field, event, field

LEVEL_CHOICES = [(level, level.title()) for level in LOG_LEVELS[1:5]]
MAX_LOG_LINES = 300
MAX_SEARCH = 200


def at_least(level: str, minimum: str) -> bool:
    if level not in LOG_LEVELS or minimum not in LOG_LEVELS:
        return True
    return LOG_LEVELS.index(level) >= LOG_LEVELS.index(minimum)


@part("logs")
class BotLogsState(BotDetailState):
    logs: Field[list[LogEntry]] = field(default_factory=list)
    log_level: Field[str] = field("INFO")
    log_search: Field[str] = field("")
    _scope: LogScope | None = None

    async def _load_part(self, actor: Principal | None) -> None:
        bots = runtime.bots()
        self._scope = await bots.log_scope(actor, self.current_bot)
        self.logs = await bots.recent_logs(
            actor, self.current_bot, level=self.log_level, search=self.log_search, limit=MAX_LOG_LINES
        )

    def _wanted(self, line: LogEntry) -> bool:
        search = self.log_search.lower()
        return (
            self._scope is not None
            and self._scope.shows(line.message)
            and at_least(line.level, self.log_level)
            and (not search or search in line.message.lower())
        )

    async def _follow_part(self, batch: list[FleetEvent], actor: Principal | None) -> None:
        if any(e.kind == Kind.FLEET_CHANGED for e in batch):  # the pool's bots may have changed
            self._scope = await runtime.bots().log_scope(actor, self.current_bot)
        lines = [
            LogEntry(
                str(p.get("time", "")),
                str(p.get("level", "")),
                str(p.get("subsystem", "")),
                str(p["message"]),
            )
            for e in batch
            if e.kind == Kind.GATEWAY_LOG and "message" in (p := e.payload)
        ]
        new = [line for line in lines if self._wanted(line)]
        if new:
            self.logs = [*self.logs, *new][-MAX_LOG_LINES:]

    async def _reload(self) -> Any:
        try:
            await self._load_part(await current_principal(self))
        except UserError as exc:
            return error_toast(exc)
        except OSError:
            return rx.toast.error("The gateway's log cannot be read right now.")
        return None

    @event
    async def set_log_level(self, level: str) -> Any:
        level = str(level).upper()
        self.log_level = level if level in LOG_LEVELS else "INFO"
        return await self._reload()

    @event
    async def search_logs(self, form: dict[str, Any]) -> Any:
        self.log_search = str(form.get("q", "")).strip()[:MAX_SEARCH]
        return await self._reload()


def log_row(line: Any) -> rx.Component:
    level = line.level
    return rx.text(
        rx.text.span(line.time.to(str)[11:19] + " ", color_scheme="gray"),
        rx.text.span(
            level + " ",
            color=rx.cond(
                (level == "ERROR") | (level == "FATAL"),
                "var(--red-11)",
                rx.cond(level == "WARN", "var(--amber-11)", "var(--gray-11)"),
            ),
        ),
        rx.text.span(line.subsystem + " ", color_scheme="iris"),
        rx.text.span(line.message),
        size="1",
        font_family="var(--code-font-family)",
        white_space="pre-wrap",
        data_testid="log-line",
        data_level=level,
    )


def logs_tab() -> rx.Component:
    s = BotLogsState
    return rx.vstack(
        rx.hstack(
            native_select(
                "Minimum level",
                LEVEL_CHOICES,
                testid="logs-level",
                value=s.log_level,
                on_change=s.set_log_level,
                show_label=False,
            ),
            rx.form(
                rx.hstack(
                    rx.input(
                        name="q",
                        placeholder="Search logs",
                        aria_label="Search logs",
                        data_testid="logs-search",
                        default_value=s.log_search,
                    ),
                    rx.button(
                        "Search", type="submit", size="2", variant="soft", data_testid="logs-search-submit"
                    ),
                ),
                on_submit=s.search_logs,
            ),
            rx.badge("live", color_scheme="green", variant="outline"),
            spacing="3",
            align="center",
        ),
        rx.box(
            rx.cond(s.logs.length() == 0, rx.text("No log lines yet.", color_scheme="gray")),
            rx.foreach(s.logs, log_row),
            width="100%",
            max_height="32em",
            overflow_y="auto",
            padding="0.5em",
            background="var(--gray-a2)",
            border_radius="var(--radius-2)",
            data_testid="logs",
            role="log",
            aria_label="Gateway log",
        ),
        spacing="3",
        width="100%",
    )
