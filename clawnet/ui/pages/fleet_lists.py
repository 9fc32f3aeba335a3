"""The Bots list (`/bots`) and the Sessions list (`/sessions`)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import routes, runtime
from clawnet.bots.session_views import MAX_SEARCH, SessionFacets, SessionFilters, SessionListRow
from clawnet.bots.views import BotCard
from clawnet.errors import UserError
from clawnet.ui.components.forms import data_table
from clawnet.ui.components.layout import page_frame
from clawnet.ui.components.status import status_badge, status_label
from clawnet.ui.pages.bot_detail.session_actions import row_confirm_bar, row_menu
from clawnet.ui.pages.session_filters import (
    ACTIVITY_CHOICES,
    facet_choices,
    load_more,
    replace_url,
    search_form,
    select,
)
from clawnet.ui.session import SessionState, current_principal, error_toast
from clawnet.ui.typed import Field, event, field


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
    """`/sessions?bot=&channel=&kind=&active=&q=`: every session the person may see, newest
    activity first, a page at a time; the filters live in the URL so a filtered list is a link."""

    rows: Field[list[SessionListRow]] = field(default_factory=list)
    next_cursor: Field[str] = field("")
    loaded: Field[bool] = field(False)
    loading_more: Field[bool] = field(False)
    f_bot: Field[str] = field("")
    f_channel: Field[str] = field("")
    f_kind: Field[str] = field("")
    f_active: Field[str] = field("")
    search: Field[str] = field("")  # the search applied
    search_text: Field[str] = field("")  # what the search box holds
    bot_choices: Field[list[dict[str, str]]] = field(default_factory=list)
    channel_choices: Field[list[dict[str, str]]] = field(default_factory=list)
    kind_choices: Field[list[dict[str, str]]] = field(default_factory=list)

    def _filters(self) -> SessionFilters:
        return SessionFilters.from_query(
            {
                "bot": self.f_bot,
                "channel": self.f_channel,
                "kind": self.f_kind,
                "active": self.f_active,
                "q": self.search,
            }
        )

    async def _load(self) -> Any:
        """The first page for the current filters, and the address bar to match."""
        filters = self._filters()
        try:
            page = await runtime.bots().session_page(await current_principal(self), filters)
        except UserError as exc:
            self.rows, self.next_cursor, self.loaded = [], "", True
            return error_toast(exc)
        self.rows, self.next_cursor, self.loaded = page.rows, page.next_cursor, True
        return replace_url(routes.SESSIONS + filters.query())

    @event
    async def on_load(self) -> Any:
        filters = SessionFilters.from_query(dict(self.router.url.query_parameters))
        self.f_bot = str(filters.bot_id or "")
        self.f_channel, self.f_kind, self.f_active = filters.channel, filters.kind, filters.active
        self.search = self.search_text = filters.search
        self.rows, self.next_cursor, self.loaded = [], "", False
        try:
            facets = await runtime.bots().session_facets(await current_principal(self))
        except UserError:
            facets = SessionFacets()
        self.bot_choices, self.channel_choices, self.kind_choices = facet_choices(facets)
        return await self._load()

    @event
    async def set_bot(self, value: str) -> Any:
        self.f_bot = str(value)[:12]
        return await self._load()

    @event
    async def set_channel(self, value: str) -> Any:
        self.f_channel = str(value)[:32]
        return await self._load()

    @event
    async def set_kind(self, value: str) -> Any:
        self.f_kind = str(value)[:32]
        return await self._load()

    @event
    async def set_active(self, value: str) -> Any:
        self.f_active = str(value)[:8]
        return await self._load()

    @event
    def set_search_text(self, value: str) -> None:
        self.search_text = str(value)[:MAX_SEARCH]

    @event
    async def run_search(self, form: dict[str, Any]) -> Any:
        self.search = self.search_text = str(form.get("q", self.search_text)).strip()[:MAX_SEARCH]
        return await self._load()

    @event
    async def clear_filters(self) -> Any:
        self.f_bot = self.f_channel = self.f_kind = self.f_active = self.search = self.search_text = ""
        return await self._load()

    @event
    async def load_more(self) -> Any:
        if not self.next_cursor:
            return None
        self.loading_more = True
        try:
            page = await runtime.bots().session_page(
                await current_principal(self), self._filters(), cursor=self.next_cursor
            )
        except UserError as exc:
            return error_toast(exc)
        finally:
            self.loading_more = False
        known = {r.id for r in self.rows}
        self.rows = self.rows + [r for r in page.rows if r.id not in known]
        self.next_cursor = page.next_cursor
        return None


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
        rx.table.cell(row.kind),
        rx.table.cell(rx.cond(row.label != "", row.label + " · " + row.peer, row.peer)),
        rx.table.cell(row.messages),
        rx.table.cell(row.tokens),
        rx.table.cell(rx.text(row.last, title=row.at)),
        rx.table.cell(rx.text(row.preview, size="1", color_scheme="gray")),
        rx.table.cell(
            rx.hstack(
                row_menu(row, SessionsListState.on_load),
                spacing="1",
                data_testid="sessions-row-actions-" + sid,
            )
        ),
        data_testid="sessions-row-" + sid,
        data_bot=row.bot_id.to_string(),
    )


def sessions_filter_bar() -> rx.Component:
    s = SessionsListState
    return rx.hstack(
        select("Bot", s.bot_choices, s.f_bot, s.set_bot, "sessions-filter-bot"),
        select("Channel", s.channel_choices, s.f_channel, s.set_channel, "sessions-filter-channel"),
        select("Kind", s.kind_choices, s.f_kind, s.set_kind, "sessions-filter-kind"),
        select("Activity", ACTIVITY_CHOICES, s.f_active, s.set_active, "sessions-filter-active"),
        search_form(s.search_text, s.set_search_text, s.run_search, "sessions"),
        rx.button("Clear", variant="ghost", on_click=s.clear_filters, data_testid="sessions-filter-clear"),
        spacing="2",
        wrap="wrap",
        align="center",
        data_testid="sessions-filters",
    )


@rx.page(
    route=routes.SESSIONS,
    title="Sessions · ClawNet",
    on_load=[SessionState.require_fleet, SessionsListState.on_load],
)
def sessions_page() -> rx.Component:
    s = SessionsListState
    filtered = (
        (s.f_bot != "") | (s.f_channel != "") | (s.f_kind != "") | (s.f_active != "") | (s.search != "")
    )
    return page_frame(
        "Sessions",
        sessions_filter_bar(),
        rx.cond(
            s.loaded & (s.rows.length() == 0),
            rx.text(
                rx.cond(filtered, "No conversation matches.", "No conversations yet."),
                color_scheme="gray",
                data_testid="sessions-page-empty",
            ),
        ),
        row_confirm_bar(SessionsListState.on_load),
        data_table(
            ("Bot", "Channel", "Kind", "With", "Messages", "Tokens", "Last activity", "Preview", ""),
            s.rows,
            session_row,
            "sessions-table",
        ),
        load_more(s.next_cursor != "", s.loading_more, s.load_more, "sessions-load-more"),
        testid="sessions-page",
    )
