"""The Sessions tab's list of conversations and the open one's transcript, synced live.
The chat panel on the same tab (`chat`) builds on this state."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import runtime
from clawnet.bots.views import SessionRow, TranscriptLine
from clawnet.errors import UserError
from clawnet.events import FleetEvent, Kind
from clawnet.security.permissions import Principal
from clawnet.ui.pages.bot_detail.state import BotDetailState, part
from clawnet.ui.session import current_principal, error_toast
from clawnet.ui.typed import Field, event, field

SESSION_EVENTS = frozenset({Kind.SESSION_CHANGED, Kind.SESSION_MESSAGE})


@part("sessions")
class BotSessionsState(BotDetailState):
    sessions: Field[list[SessionRow]] = field(default_factory=list)
    selected_session: Field[int] = field(0)
    transcript: Field[list[TranscriptLine]] = field(default_factory=list)
    # Whether the open transcript is the chat panel's (the bot's dashboard session), or none yet.
    on_chat_session: Field[bool] = field(True)
    # The chat session's line that is the reply to the chat panel's last turn (-1: none yet), so
    # the reply keeps its place (and test id) once the synced transcript holds it.
    reply_seq: Field[int] = field(-1)

    async def _load_part(self, actor: Principal | None) -> None:
        self.sessions = await runtime.bots().sessions(actor, bot_id=self.current_bot)
        wanted = self._session_param or (self.sessions[0].id if self.sessions else 0)
        await self._open(actor, wanted)

    async def _open(self, actor: Principal | None, session_id: int) -> None:
        """Show `session_id`'s transcript (0: none)."""
        self.transcript = await runtime.bots().transcript(actor, session_id) if session_id else []
        self.selected_session = session_id
        self.on_chat_session = session_id in (0, self._session_with_key(self.header.chat_session_key))

    async def _reload_transcript(self, actor: Principal | None) -> None:
        if self.selected_session:
            self.transcript = await runtime.bots().transcript(actor, self.selected_session)

    def _session_with_key(self, key: str) -> int:
        return next((s.id for s in self.sessions if s.key == key), 0) if key else 0

    async def _follow_part(self, batch: list[FleetEvent], actor: Principal | None) -> None:
        touched = {e.payload.get("session_id") for e in batch if e.kind in SESSION_EVENTS}
        if not touched:
            return
        self.sessions = await runtime.bots().sessions(actor, bot_id=self.current_bot)
        if not self.selected_session and self.sessions:  # the first conversation appeared
            chat = self._session_with_key(self.header.chat_session_key)
            await self._open(actor, chat or self.sessions[0].id)
        elif self.selected_session in touched:
            await self._reload_transcript(actor)

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


def session_list() -> rx.Component:
    return rx.vstack(
        rx.text("Sessions", weight="bold"),
        rx.cond(
            BotSessionsState.sessions.length() == 0,
            rx.text("No conversations yet.", color_scheme="gray", data_testid="sessions-empty"),
        ),
        rx.foreach(BotSessionsState.sessions, session_item),
        spacing="1",
        data_testid="session-list",
        max_height="32em",
        overflow_y="auto",
    )
