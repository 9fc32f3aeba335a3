"""The Sessions tab's conversation view and chat panel.

A turn sent from here shows at once as a local echo (the message, then the reply as it streams)
until the synced transcript holds it: from then on the transcript's lines show it, so each turn
appears once. The chat talks in the bot's dashboard session, which the transcript opens when a
message is sent.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import runtime
from clawnet.bots.views import TranscriptLine
from clawnet.errors import UserError
from clawnet.events import FleetEvent, Kind
from clawnet.security.permissions import Principal
from clawnet.ui.pages.bot_detail.session_actions import reply_form, session_actions
from clawnet.ui.pages.bot_detail.sessions import BotSessionsState, load_older, session_list
from clawnet.ui.pages.bot_detail.state import BotDetailState, part
from clawnet.ui.pages.bot_detail.widgets import bubble
from clawnet.ui.session import current_principal
from clawnet.ui.typed import Field, event, field

CHAT_EVENTS = frozenset({Kind.CHAT_DELTA, Kind.CHAT_FINAL, Kind.CHAT_FAILED})


def synced_turn(lines: list[TranscriptLine], after_seq: int, reply: str, finished: bool) -> tuple[bool, int]:
    """Where a turn sent after line `after_seq` stands in a transcript: whether it holds the
    message, and the seq of its reply there (-1 while the transcript has no reply at least as
    complete as the one streamed so far)."""
    new = [line for line in lines if line.seq > after_seq]
    sent = next((line for line in new if line.role == "user"), None)
    if sent is None:
        return False, -1
    replies = [line for line in new if line.role == "assistant" and line.seq > sent.seq]
    if replies and (finished or (reply and replies[-1].text.startswith(reply))):
        return True, replies[-1].seq
    return True, -1


@part("sessions")
class BotChatState(BotSessionsState):
    chat_sent: Field[str] = field("")
    chat_reply: Field[str] = field("")
    chat_pending: Field[bool] = field(False)
    chat_error: Field[str] = field("")
    sent_synced: Field[bool] = field(False)
    _turn_id: int = 0
    _after_seq: int = -1  # the chat session's last line when the turn was sent

    async def _load_part(self, actor: Principal | None) -> None:
        self.chat_sent = self.chat_reply = self.chat_error = ""
        self.chat_pending = self.sent_synced = False
        self._turn_id, self._after_seq = 0, -1

    def _settle(self) -> None:
        """Hand the turn over to the transcript as far as it holds it."""
        if not self.chat_sent or not self.selected_session or not self.on_chat_session:
            return
        synced, reply_seq = synced_turn(
            self.transcript, self._after_seq, self.chat_reply, not self.chat_pending
        )
        # Once the transcript holds the reply it keeps it, even while later deltas still arrive.
        self.sent_synced, self.reply_seq = synced or self.sent_synced, max(reply_seq, self.reply_seq)

    def _owns(self, e: FleetEvent) -> bool:
        turn = e.payload.get("turn_id")
        if self._turn_id:
            return turn == self._turn_id
        # Events can arrive before `chat` returned the turn's id.
        return self.chat_pending and e.payload.get("session_key") == self.header.chat_session_key

    async def _follow_part(self, batch: list[FleetEvent], actor: Principal | None) -> None:
        ended = False
        for e in batch:
            if e.kind not in CHAT_EVENTS or not self._owns(e):
                continue
            if e.kind == Kind.CHAT_FAILED:
                self.chat_error = str(e.payload.get("error") or "The bot did not answer.")
            else:
                self.chat_reply = str(e.payload.get("text") or "")
            ended = ended or e.kind != Kind.CHAT_DELTA
        if ended:
            self.chat_pending = False
            await self._reload_transcript(actor)
        self._settle()

    @event(background=True)
    async def send_chat(self, form: dict[str, Any]) -> None:
        text = str(form.get("message", "")).strip()
        async with self:
            if self.chat_pending:
                return
            actor = await current_principal(self)
            bot_id = self.current_bot
            chat_session = self._session_with_key(self.header.chat_session_key)
            if self.selected_session != chat_session:
                await self._open(actor, chat_session)
            self._after_seq = max((line.seq for line in self.transcript), default=-1)
            self._turn_id = 0
            self.chat_sent, self.chat_reply, self.chat_error = text, "", ""
            self.chat_pending, self.sent_synced, self.reply_seq = True, False, -1
        try:
            turn = await runtime.bots().chat(actor, bot_id, text)
        except UserError as exc:
            async with self:
                self.chat_pending, self.chat_error = False, str(exc)
                if not text:
                    self.chat_sent = ""
            return
        async with self:
            self._turn_id = turn.turn_id
            self.chat_reply = turn.text or self.chat_reply
            if turn.finished and self.chat_pending:  # a very fast answer, finished before we heard
                self.chat_pending, self.chat_error = False, turn.error
                await self._reload_transcript(actor)
                self._settle()


def transcript_line(m: Any) -> rx.Component:
    is_reply = BotSessionsState.on_chat_session & (m.seq == BotSessionsState.reply_seq)
    return bubble(
        rx.cond(m.author != "", m.author, m.role) + " · " + m.at,  # "Operator · <name>": a person's reply
        m.text,
        mine=m.role == "user",
        testid="transcript-message",
        text_testid=rx.cond(is_reply, "chat-reply", "transcript-text"),
        data_role=m.role,
        data_author=m.author,
    )


def local_echo() -> rx.Component:
    """The turn sent from this page, while the transcript does not hold it yet."""
    s = BotChatState
    return rx.fragment(
        rx.cond(
            (s.chat_sent != "") & ~s.sent_synced,
            bubble("you", s.chat_sent, mine=True, testid="chat-sent"),
        ),
        rx.cond(
            (s.chat_reply != "") & (BotSessionsState.reply_seq < 0),
            bubble(
                BotDetailState.header.name,
                s.chat_reply,
                mine=False,
                testid="chat-reply-bubble",
                text_testid="chat-reply",
                aria_live="polite",
            ),
        ),
        rx.cond(
            s.chat_pending & (s.chat_reply == ""),
            rx.hstack(rx.spinner(), rx.text("Thinking…", size="2"), data_testid="chat-pending"),
        ),
    )


def chat_form() -> rx.Component:
    s = BotChatState
    return rx.vstack(
        rx.cond(
            s.chat_error != "",
            rx.callout(s.chat_error, color_scheme="red", role="alert", data_testid="chat-error"),
        ),
        rx.form(
            rx.hstack(
                rx.input(
                    name="message",
                    placeholder="Message " + BotDetailState.header.name,
                    aria_label="Message to the bot",
                    data_testid="chat-input",
                    width="100%",
                    auto_complete="off",
                ),
                rx.button("Send", type="submit", loading=s.chat_pending, data_testid="chat-send"),
                width="100%",
            ),
            on_submit=s.send_chat,
            reset_on_submit=True,
            width="100%",
        ),
        width="100%",
        spacing="2",
        data_testid="chat-panel",
    )


def sessions_tab() -> rx.Component:
    can_chat = BotDetailState.header.can_operate
    return rx.grid(
        session_list(),
        rx.vstack(
            session_actions(),
            load_older(),
            rx.vstack(
                rx.foreach(BotSessionsState.transcript, transcript_line),
                rx.cond(can_chat & BotSessionsState.on_chat_session, local_echo()),
                spacing="2",
                width="100%",
                data_testid="transcript",
                max_height="26em",
                overflow_y="auto",
            ),
            rx.cond(can_chat, reply_form()),
            rx.cond(can_chat, chat_form()),
            spacing="3",
            width="100%",
        ),
        columns=rx.breakpoints(initial="1", md="2"),
        spacing="4",
        width="100%",
    )
