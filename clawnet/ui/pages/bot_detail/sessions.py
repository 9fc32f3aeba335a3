"""The Sessions tab's list of conversations and the open one's transcript, synced live, each a
page at a time: the list newest activity first with "Load more" and filters (channel, kind,
activity, search; from the URL too: `?tab=sessions&channel=&kind=&active=&q=`), the transcript
its newest lines with "Load older". The chat panel on the same tab (`chat`) builds on this state.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import routes, runtime
from clawnet.bots.session_views import MAX_SEARCH, SessionFilters, SessionListRow
from clawnet.bots.views import TranscriptLine
from clawnet.errors import UserError
from clawnet.events import FleetEvent, Kind
from clawnet.security.permissions import Principal
from clawnet.ui.pages.bot_detail.state import BotDetailState, part
from clawnet.ui.pages.session_filters import (
    ACTIVITY_CHOICES,
    facet_choices,
    load_more,
    replace_url,
    search_form,
    select,
)
from clawnet.ui.session import current_principal, error_toast
from clawnet.ui.typed import Field, event, field

SESSION_EVENTS = frozenset({Kind.SESSION_CHANGED, Kind.SESSION_MESSAGE})
PAGE = 50
MAX_ROWS = 200  # a live refresh re-reads at most this many rows of the list
LINES = 100
MAX_LINES = 1000  # a live refresh re-reads at most this many lines of the open transcript


@part("sessions")
class BotSessionsState(BotDetailState):
    sessions: Field[list[SessionListRow]] = field(default_factory=list)
    next_cursor: Field[str] = field("")
    loading_more: Field[bool] = field(False)
    f_channel: Field[str] = field("")
    f_kind: Field[str] = field("")
    f_active: Field[str] = field("")
    search: Field[str] = field("")
    search_text: Field[str] = field("")
    channel_choices: Field[list[dict[str, str]]] = field(default_factory=list)
    kind_choices: Field[list[dict[str, str]]] = field(default_factory=list)
    selected_session: Field[int] = field(0)
    transcript: Field[list[TranscriptLine]] = field(default_factory=list)
    has_older: Field[bool] = field(False)
    transcript_total: Field[int] = field(0)
    loading_older: Field[bool] = field(False)
    # Whether the open transcript is the chat panel's (the bot's dashboard session), or none yet.
    on_chat_session: Field[bool] = field(True)
    # The chat session's line that is the reply to the chat panel's last turn (-1: none yet), so
    # the reply keeps its place (and test id) once the synced transcript holds it.
    reply_seq: Field[int] = field(-1)
    _chat_session_id: int = 0

    def _filters(self) -> SessionFilters:
        return SessionFilters.from_query(  # checked like a URL: the browser may send anything
            {"channel": self.f_channel, "kind": self.f_kind, "active": self.f_active, "q": self.search}
        ).with_bot(self.current_bot)

    async def _load_part(self, actor: Principal | None) -> None:
        params = dict(self.router.url.query_parameters)
        wanted = SessionFilters.from_query(params)
        self.f_channel, self.f_kind, self.f_active = wanted.channel, wanted.kind, wanted.active
        self.search = self.search_text = wanted.search
        facets = await runtime.bots().session_facets(actor, bot_id=self.current_bot)
        _, self.channel_choices, self.kind_choices = facet_choices(facets)
        await self._reload_list(actor, PAGE)
        await self._find_chat_session(actor)
        first = self.sessions[0].id if self.sessions else 0
        await self._open(actor, self._session_param or self._chat_session_id or first)

    async def _reload_list(self, actor: Principal | None, rows: int) -> None:
        page = await runtime.bots().session_page(actor, self._filters(), limit=min(max(rows, PAGE), MAX_ROWS))
        self.sessions, self.next_cursor = page.rows, page.next_cursor

    async def _find_chat_session(self, actor: Principal | None) -> None:
        """The id of the bot's dashboard session (where the chat panel talks), 0 before its first turn."""
        key = self.header.chat_session_key
        found = next((s.id for s in self.sessions if s.key == key), 0)
        if not found and key:
            page = await runtime.bots().session_page(
                actor, SessionFilters(self.current_bot, search=key), limit=5
            )
            found = next((s.id for s in page.rows if s.key == key), 0)
        self._chat_session_id = found

    async def _open(self, actor: Principal | None, session_id: int) -> None:
        """Show `session_id`'s newest lines (0: none)."""
        if session_id:
            page = await runtime.bots().transcript_page(actor, session_id, limit=LINES)
            self.transcript, self.has_older, self.transcript_total = page.lines, page.has_older, page.total
        else:
            self.transcript, self.has_older, self.transcript_total = [], False, 0
        self.selected_session = session_id
        self.on_chat_session = session_id in (0, self._chat_session_id)

    async def _reload_transcript(self, actor: Principal | None) -> None:
        """Re-read the open transcript, as many lines as are shown (new ones included)."""
        if self.selected_session:
            lines = min(max(len(self.transcript) + 10, LINES), MAX_LINES)
            page = await runtime.bots().transcript_page(actor, self.selected_session, limit=lines)
            self.transcript, self.has_older, self.transcript_total = page.lines, page.has_older, page.total

    def _session_with_key(self, key: str) -> int:
        return self._chat_session_id if key and key == self.header.chat_session_key else 0

    async def _follow_part(self, batch: list[FleetEvent], actor: Principal | None) -> None:
        touched = {e.payload.get("session_id") for e in batch if e.kind in SESSION_EVENTS}
        if not touched:
            return
        await self._reload_list(actor, len(self.sessions))
        if not self._chat_session_id:
            await self._find_chat_session(actor)
        if not self.selected_session and (self._chat_session_id or self.sessions):
            # the first conversation appeared
            await self._open(actor, self._chat_session_id or self.sessions[0].id)
        elif self.selected_session in touched:
            await self._reload_transcript(actor)

    async def _refilter(self) -> Any:
        actor = await current_principal(self)
        try:
            await self._reload_list(actor, PAGE)
        except UserError as exc:
            return error_toast(exc)
        query = SessionFilters(0, self.f_channel, self.f_kind, self.f_active, self.search).query()
        return replace_url(routes.bot_detail(self.current_bot, "sessions") + query.replace("?", "&", 1))

    @event
    async def set_channel(self, value: str) -> Any:
        self.f_channel = str(value)[:32]
        return await self._refilter()

    @event
    async def set_kind(self, value: str) -> Any:
        self.f_kind = str(value)[:32]
        return await self._refilter()

    @event
    async def set_active(self, value: str) -> Any:
        self.f_active = str(value)[:8]
        return await self._refilter()

    @event
    def set_search_text(self, value: str) -> None:
        self.search_text = str(value)[:MAX_SEARCH]

    @event
    async def run_search(self, form: dict[str, Any]) -> Any:
        self.search = self.search_text = str(form.get("q", self.search_text)).strip()[:MAX_SEARCH]
        return await self._refilter()

    @event
    async def load_more(self) -> Any:
        if not self.next_cursor:
            return None
        self.loading_more = True
        try:
            page = await runtime.bots().session_page(
                await current_principal(self), self._filters(), cursor=self.next_cursor, limit=PAGE
            )
        except UserError as exc:
            return error_toast(exc)
        finally:
            self.loading_more = False
        known = {s.id for s in self.sessions}
        self.sessions = self.sessions + [s for s in page.rows if s.id not in known]
        self.next_cursor = page.next_cursor
        return None

    @event
    async def load_older(self) -> Any:
        if not self.selected_session or not self.transcript or not self.has_older:
            return None
        self.loading_older = True
        try:
            page = await runtime.bots().transcript_page(
                await current_principal(self),
                self.selected_session,
                before_seq=self.transcript[0].seq,
                limit=LINES,
            )
        except UserError as exc:
            return error_toast(exc)
        finally:
            self.loading_older = False
        self.transcript = page.lines + self.transcript
        self.has_older = page.has_older
        return None

    @event
    async def select_session(self, session_id: int) -> Any:
        try:
            await self._open(await current_principal(self), int(session_id))
        except UserError as exc:
            return error_toast(exc)
        except ValueError:
            return None
        return None


def session_item(s: Any) -> rx.Component:
    sid = s.id.to_string()
    return rx.box(
        rx.text(rx.cond(s.label != "", s.label, s.channel + " · " + s.peer), weight="medium", size="2"),
        rx.text(s.messages.to_string() + " messages · " + s.last, size="1", color_scheme="gray"),
        rx.text(s.preview, size="1", trim="both", no_of_lines=1),
        on_click=BotSessionsState.select_session(s.id),
        cursor="pointer",
        padding="0.5em",
        border_radius="var(--radius-2)",
        background=rx.cond(BotSessionsState.selected_session == s.id, "var(--iris-a3)", "transparent"),
        data_testid="session-item-" + sid,
        data_selected=rx.cond(BotSessionsState.selected_session == s.id, "true", "false"),
        role="button",
        aria_label="Open session " + s.key,
    )


def session_filters() -> rx.Component:
    s = BotSessionsState
    return rx.vstack(
        search_form(s.search_text, s.set_search_text, s.run_search, "bot-sessions"),
        rx.hstack(
            select("Channel", s.channel_choices, s.f_channel, s.set_channel, "bot-sessions-filter-channel"),
            select("Kind", s.kind_choices, s.f_kind, s.set_kind, "bot-sessions-filter-kind"),
            select("Activity", ACTIVITY_CHOICES, s.f_active, s.set_active, "bot-sessions-filter-active"),
            spacing="2",
            wrap="wrap",
        ),
        spacing="2",
        data_testid="bot-sessions-filters",
    )


def session_list() -> rx.Component:
    s = BotSessionsState
    return rx.vstack(
        rx.text("Sessions", weight="bold"),
        session_filters(),
        rx.cond(
            s.sessions.length() == 0,
            rx.text(
                rx.cond(
                    (s.search != "") | (s.f_channel != "") | (s.f_kind != "") | (s.f_active != ""),
                    "No conversation matches.",
                    "No conversations yet.",
                ),
                color_scheme="gray",
                data_testid="sessions-empty",
            ),
        ),
        rx.vstack(
            rx.foreach(s.sessions, session_item),
            load_more(s.next_cursor != "", s.loading_more, s.load_more, "bot-sessions-load-more"),
            spacing="1",
            data_testid="session-list",
            max_height="32em",
            overflow_y="auto",
            width="100%",
        ),
        spacing="2",
        width="100%",
    )


def load_older() -> rx.Component:
    s = BotSessionsState
    return rx.hstack(
        load_more(s.has_older, s.loading_older, s.load_older, "transcript-load-older", "Load older"),
        rx.cond(
            s.transcript_total > 0,
            rx.text(
                s.transcript.length().to_string() + " of " + s.transcript_total.to_string() + " messages",
                size="1",
                color_scheme="gray",
                data_testid="transcript-count",
            ),
        ),
        spacing="2",
        align="center",
    )
