"""The Bots list and the Sessions list."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import routes
from clawnet.bots import queries
from clawnet.db import session_scope
from clawnet.security.permissions import PermissionDenied
from clawnet.ui.components.forms import data_table
from clawnet.ui.components.layout import page_frame
from clawnet.ui.components.status import status_badge
from clawnet.ui.session import SessionState, current_principal


class BotsListState(rx.State):
    rows: list[dict[str, str]] = []

    @rx.event
    async def on_load(self):
        principal = await current_principal(self)
        if principal is None:
            return
        try:
            with session_scope() as session:
                self.rows = queries.fleet_overview(session, principal)["cards"]
        except PermissionDenied:
            self.rows = []


def bot_row(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.link(
                row["emoji"] + " " + row["name"],
                href="/bots/" + row["id"],
                data_testid="bots-row-link-" + row["id"],
            )
        ),
        rx.table.cell(rx.code(row["agent_id"])),
        rx.table.cell(status_badge(row["status"], "bots-row-status-" + row["id"])),
        rx.table.cell(row["channels"]),
        rx.table.cell(row["sessions"]),
        rx.table.cell(row["last_activity"]),
        rx.table.cell(row["gateway"]),
        data_testid="bots-row-" + row["id"],
    )


@rx.page(
    route=routes.BOTS, title="Bots · ClawNet", on_load=[SessionState.require_fleet, BotsListState.on_load]
)
def bots_page() -> rx.Component:
    return page_frame(
        "Bots",
        rx.cond(
            BotsListState.rows.length() == 0,
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
    rows: list[dict[str, str]] = []
    search: str = ""

    @rx.event
    async def on_load(self):
        await self._load()

    async def _load(self) -> None:
        principal = await current_principal(self)
        if principal is None:
            return
        try:
            with session_scope() as session:
                self.rows = queries.sessions_table(session, principal, search=self.search, limit=200)
        except PermissionDenied:
            self.rows = []

    @rx.event
    async def run_search(self, form: dict[str, Any]):
        self.search = str(form.get("q", ""))[:200]
        await self._load()


def session_row(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.link(
                row["bot"],
                href="/bots/" + row["bot_id"] + "?tab=sessions&session=" + row["id"],
                data_testid="sessions-row-link-" + row["id"],
            )
        ),
        rx.table.cell(row["channel"]),
        rx.table.cell(row["peer"]),
        rx.table.cell(row["messages"]),
        rx.table.cell(row["tokens"]),
        rx.table.cell(row["last"]),
        rx.table.cell(rx.text(row["preview"], size="1", color_scheme="gray")),
        data_testid="sessions-row-" + row["id"],
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
                    placeholder="Search by bot, conversation or text",
                    aria_label="Search sessions",
                    data_testid="sessions-search",
                    width="24em",
                ),
                rx.button("Search", type="submit", variant="soft"),
            ),
            on_submit=SessionsListState.run_search,
        ),
        rx.cond(
            SessionsListState.rows.length() == 0,
            rx.text("No conversations yet.", color_scheme="gray", data_testid="sessions-page-empty"),
        ),
        data_table(
            ("Bot", "Channel", "With", "Messages", "Tokens", "Last message", "Preview"),
            SessionsListState.rows,
            session_row,
            "sessions-table",
        ),
        testid="sessions-page",
    )
