"""The Bots list (`/bots`) and the Sessions list (`/sessions`)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import routes, runtime
from clawnet.bots.views import BotCard, SessionRow
from clawnet.errors import UserError
from clawnet.ui.components.forms import data_table
from clawnet.ui.components.layout import page_frame
from clawnet.ui.components.status import status_badge, status_label
from clawnet.ui.pages.bot_detail.session_actions import row_confirm_bar, row_menu
from clawnet.ui.session import SessionState, current_principal
from clawnet.ui.typed import Field, event, field

SESSIONS_LIMIT = 200


class BotsListState(rx.State):
    rows: Field[list[BotCard]] = field(default_factory=list)
    loaded: Field[bool] = field(False)

    @event
    async def on_load(self) -> None:
        try:
            self.rows = (await runtime.bots().overview(await current_principal(self))).cards
        except UserError:
            self.rows = []
        self.loaded = True


def channel_badge(ch: Any) -> rx.Component:
    return rx.badge(
        ch.type,
        variant="soft",
        color_scheme=rx.cond(ch.status == "connected", "green", "gray"),
        title=status_label(ch.status),
        data_status=ch.status,
    )


def bot_row(card: Any) -> rx.Component:
    bid = card.id.to_string()
    return rx.table.row(
        rx.table.cell(
            rx.link(
                card.emoji + " " + card.name,
                href=routes.bot_detail(card.id),
                data_testid="bots-row-link-" + bid,
            )
        ),
        rx.table.cell(rx.code(card.agent_id)),
        rx.table.cell(status_badge(card.status, "bots-row-status-" + bid)),
        rx.table.cell(
            rx.cond(
                card.channels.length() > 0,
                rx.hstack(rx.foreach(card.channels, channel_badge), spacing="1", wrap="wrap"),
                rx.text("—"),
            )
        ),
        rx.table.cell(card.active_sessions),
        rx.table.cell(card.last_activity),
        rx.table.cell(card.gateway),
        data_testid="bots-row-" + bid,
    )


@rx.page(
    route=routes.BOTS, title="Bots · ClawNet", on_load=[SessionState.require_fleet, BotsListState.on_load]
)
def bots_page() -> rx.Component:
    return page_frame(
        "Bots",
        rx.cond(
            BotsListState.loaded & (BotsListState.rows.length() == 0),
            rx.text("No bots yet.", color_scheme="gray", data_testid="bots-empty"),
        ),
        data_table(
            ("Bot", "Id", "Status", "Channels", "Active sessions", "Last activity", "Gateway"),
            BotsListState.rows,
            bot_row,
            "bots-table",
        ),
        testid="bots-page",
        actions=rx.cond(
            SessionState.can_create_bots,
            rx.hstack(
                rx.link(
                    rx.button("Import openclaw.json", variant="soft", data_testid="bots-import"),
                    href=routes.SETTINGS + "#import",
                ),
                rx.link(rx.button("New bot", data_testid="bots-new"), href=routes.NEW_BOT),
                spacing="2",
            ),
        ),
    )


class SessionsListState(rx.State):
    rows: Field[list[SessionRow]] = field(default_factory=list)
    search: Field[str] = field("")
    loaded: Field[bool] = field(False)

    async def _load(self) -> None:
        try:
            self.rows = await runtime.bots().sessions(
                await current_principal(self), search=self.search, limit=SESSIONS_LIMIT
            )
        except UserError:
            self.rows = []
        self.loaded = True

    @event
    async def on_load(self) -> None:
        await self._load()

    @event
    async def run_search(self, form: dict[str, Any]) -> None:
        self.search = str(form.get("q", ""))[:200]
        await self._load()


def session_row(row: Any) -> rx.Component:
    sid = row.id.to_string()
    return rx.table.row(
        rx.table.cell(
            rx.link(
                row.bot,
                href=routes.bot_detail(row.bot_id, "sessions", session=row.id),
                data_testid="sessions-row-link-" + sid,
            )
        ),
        rx.table.cell(row.channel),
        rx.table.cell(rx.cond(row.label != "", row.label + " · " + row.peer, row.peer)),
        rx.table.cell(row.messages),
        rx.table.cell(row.tokens),
        rx.table.cell(row.last),
        rx.table.cell(rx.text(row.preview, size="1", color_scheme="gray")),
        rx.table.cell(row_menu(row, SessionsListState.on_load)),
        data_testid="sessions-row-" + sid,
    )


@rx.page(
    route=routes.SESSIONS,
    title="Sessions · ClawNet",
    on_load=[SessionState.require_fleet, SessionsListState.on_load],
)
def sessions_page() -> rx.Component:
    return page_frame(
        "Sessions",
        rx.form(
            rx.hstack(
                rx.input(
                    name="q",
                    default_value=SessionsListState.search,
                    placeholder="Search by bot, conversation or text",
                    aria_label="Search sessions",
                    data_testid="sessions-search",
                    width="24em",
                ),
                rx.button("Search", type="submit", variant="soft", data_testid="sessions-search-submit"),
            ),
            on_submit=SessionsListState.run_search,
            aria_label="Search sessions",
        ),
        rx.cond(
            SessionsListState.loaded & (SessionsListState.rows.length() == 0),
            rx.text(
                rx.cond(SessionsListState.search != "", "No conversation matches.", "No conversations yet."),
                color_scheme="gray",
                data_testid="sessions-page-empty",
            ),
        ),
        row_confirm_bar(SessionsListState.on_load),
        data_table(
            ("Bot", "Channel", "With", "Messages", "Tokens", "Last message", "Preview", ""),
            SessionsListState.rows,
            session_row,
            "sessions-table",
        ),
        testid="sessions-page",
    )
