"""Sessions and transcripts from gateway events into the database, and chat turns.

Gateways push `sessions.changed` and `session.message` to subscribed connections
(`sessions.subscribe`); each is written to the database (in arrival order, off the event loop)
and republished on the bus. After a (re)connect, `backfill` catches up on what happened while
ClawNet was not listening. Nothing polls.

A chat turn is `chat.send`, then `chat` events (`delta` ... `final`) streamed to whoever waits
for it. A turn accepted but never finished — the gateway died, or it ran out of time — is
recorded as failed; OpenClaw loses such a turn, so saying so is the honest answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from clawnet.controlplane.protocol import GatewayError
from clawnet.events.bus import Kind
from clawnet.models import Bot, BotSession, ChatTurn, TranscriptMessage, utcnow
from clawnet.models.enums import DesiredStatus, TurnStatus

if TYPE_CHECKING:
    from clawnet.controlplane.controller import FleetController, GatewayLink

log = logging.getLogger(__name__)

SEND_ATTEMPTS = 3  # chat.send again (same idempotency key) when OpenClaw asks for a retry


def message_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    parts: list[str] = []
    for part in content or []:
        if not isinstance(part, dict):
            continue
        if part.get("type") == "text":
            parts.append(str(part.get("text", "")))
        elif part.get("type") in ("toolCall", "tool_use", "toolUse"):
            parts.append(f"[tool: {part.get('name', '?')}]")
    return "\n".join(p for p in parts if p)


def _ms(value: Any) -> datetime | None:
    if isinstance(value, int | float) and value > 0:
        return datetime.fromtimestamp(value / 1000, UTC)
    return None


def channel_and_peer(key: str) -> tuple[str, str]:
    """`agent:<id>:<channel>:<peer...>` -> (channel, peer); operator sessions have neither."""
    parts = key.split(":")
    if len(parts) >= 4 and parts[0] == "agent":
        return parts[2], ":".join(parts[3:])
    return "", ""


def _upsert_session(
    s: Session, bot_id: int, key: str, row: dict[str, Any], preview: str | None
) -> BotSession:
    session_row = s.exec(select(BotSession).where(BotSession.bot_id == bot_id, BotSession.key == key)).first()
    if session_row is None:
        channel, peer = channel_and_peer(key)
        session_row = BotSession(
            bot_id=bot_id,
            key=key[:255],
            channel=channel or str(row.get("channel") or ""),
            peer=peer[:255],
            created_at=_ms(row.get("createdAt")) or utcnow(),
        )
    session_row.gateway_session_id = str(row.get("sessionId") or session_row.gateway_session_id)[:128]
    session_row.kind = str(row.get("chatType") or row.get("kind") or session_row.kind)[:32]
    session_row.status = str(row.get("status") or session_row.status)[:32]
    session_row.model = str(row.get("model") or session_row.model)[:200]
    if preview:
        session_row.preview = preview[:280]
    session_row.updated_at = utcnow()
    s.add(session_row)
    s.flush()
    return session_row


def _add_message(
    s: Session, bot_id: int, key: str, message: dict[str, Any], seq: int
) -> tuple[BotSession, TranscriptMessage] | None:
    """Insert one transcript message (ignored if that seq is already stored)."""
    session_row = _upsert_session(s, bot_id, key, {}, None)
    exists = s.exec(
        select(TranscriptMessage.id).where(
            TranscriptMessage.session_id == session_row.id, TranscriptMessage.seq == seq
        )
    ).first()
    if exists is not None:
        return None
    usage = message.get("usage") or {}
    cost = (usage.get("cost") or {}).get("total") if isinstance(usage.get("cost"), dict) else 0
    text = message_text(message)
    at = _ms(message.get("timestamp")) or utcnow()
    assert session_row.id is not None
    row = TranscriptMessage(
        session_id=session_row.id,
        seq=seq,
        role=str(message.get("role", ""))[:16],
        text=text,
        external_id=str((message.get("__openclaw") or {}).get("id", ""))[:128],
        model=str(message.get("model") or "")[:200],
        input_tokens=int(usage.get("input") or 0),
        output_tokens=int(usage.get("output") or 0),
        cost_usd=float(cost or 0),
        created_at=at,
    )
    try:
        with s.begin_nested():
            s.add(row)
            s.flush()
    except IntegrityError:
        return None
    session_row.message_count += 1
    session_row.input_tokens += row.input_tokens
    session_row.output_tokens += row.output_tokens
    session_row.total_tokens = session_row.input_tokens + session_row.output_tokens
    session_row.cost_usd += row.cost_usd
    if text:
        session_row.preview = text[:280]
    if session_row.last_message_at is None or at >= session_row.last_message_at:
        session_row.last_message_at = at
    s.add(session_row)
    bot = s.get(Bot, bot_id)
    if bot is not None:
        bot.last_activity_at = at
        s.add(bot)
    return session_row, row


class SessionSync:
    def __init__(self, controller: FleetController) -> None:
        self.ctl = controller

    def _bot_id(self, link: GatewayLink, agent_id: str) -> int | None:
        return link.agent_bots.get(agent_id)

    def on_event(self, link: GatewayLink, name: str, payload: dict[str, Any]) -> None:
        agent_id = str(payload.get("agentId") or "")
        key = str(payload.get("sessionKey") or "")
        bot_id = self._bot_id(link, agent_id)
        if bot_id is None or not key:
            return
        if name == "sessions.changed":
            row = payload.get("session") or {}
            preview = row.get("lastMessagePreview") or payload.get("lastMessagePreview")

            def upsert(s: Session) -> BotSession:
                return _upsert_session(s, bot_id, key, row, preview)

            future = self.ctl.db.submit(upsert)
            future.add_done_callback(lambda f: self._published_session(f, link.gateway_id, bot_id))
        elif name == "session.message":
            message = payload.get("message") or {}
            seq = payload.get("messageSeq") or (message.get("__openclaw") or {}).get("seq")
            if not isinstance(seq, int):
                return

            def add(s: Session) -> tuple[BotSession, TranscriptMessage] | None:
                return _add_message(s, bot_id, key, message, seq)

            future2 = self.ctl.db.submit(add)
            future2.add_done_callback(lambda f: self._published_message(f, link.gateway_id, bot_id))

    def _published_session(self, future: asyncio.Future[BotSession], gateway_id: int, bot_id: int) -> None:
        if future.exception() is not None:
            log.error("storing a session change failed: %s", future.exception())
            return
        row = future.result()
        self.ctl.bus.publish(
            Kind.SESSION_CHANGED,
            {
                "key": row.key,
                "session_id": row.id,
                "message_count": row.message_count,
                "preview": row.preview,
                "status": row.status,
            },
            gateway_id=gateway_id,
            bot_id=bot_id,
        )

    def _published_message(
        self,
        future: asyncio.Future[tuple[BotSession, TranscriptMessage] | None],
        gateway_id: int,
        bot_id: int,
    ) -> None:
        if future.exception() is not None:
            log.error("storing a transcript message failed: %s", future.exception())
            return
        result = future.result()
        if result is None:
            return
        session_row, message = result
        self.ctl.bus.publish(
            Kind.SESSION_MESSAGE,
            {
                "key": session_row.key,
                "session_id": session_row.id,
                "seq": message.seq,
                "role": message.role,
                "text": message.text,
                "message_count": session_row.message_count,
            },
            gateway_id=gateway_id,
            bot_id=bot_id,
        )

    async def backfill(self, link: GatewayLink) -> int:
        """Catch up on sessions and messages missed while disconnected. Returns messages added."""
        try:
            listing = await link.client.call("sessions.list", {"limit": 500}, timeout=30)
        except GatewayError as exc:
            log.warning("gateway %s: sessions.list failed: %s", link.gateway_id, exc)
            return 0
        added = 0
        for row in listing.get("sessions") or []:
            bot_id = self._bot_id(link, str(row.get("agentId") or ""))
            key = str(row.get("key") or "")
            if bot_id is None or not key:
                continue
            stored = (
                await self.ctl.db.run(partial(_upsert_session, bot_id=bot_id, key=key, row=row, preview=None))
            ).message_count
            try:
                history = await link.client.call(
                    "chat.history", {"sessionKey": key, "limit": 500}, timeout=30
                )
            except GatewayError as exc:
                log.warning("gateway %s: chat.history %s failed: %s", link.gateway_id, key, exc)
                continue
            if int(history.get("totalMessages") or 0) <= stored:
                continue
            for message in history.get("messages") or []:
                seq = (message.get("__openclaw") or {}).get("seq")
                if not isinstance(seq, int):
                    continue
                result = await self.ctl.db.run(
                    partial(_add_message, bot_id=bot_id, key=key, message=message, seq=seq)
                )
                if result is not None:
                    added += 1
        return added


# --- Chat turns ------------------------------------------------------------------------------


class ChatError(Exception):
    """A message could not be sent to a bot; the message says why."""


@dataclass
class Turn:
    turn_id: int
    bot_id: int
    gateway_id: int
    session_key: str
    idempotency_key: str
    run_id: str = ""
    text: str = ""
    status: TurnStatus = TurnStatus.PENDING
    error: str = ""
    updates: asyncio.Queue[tuple[str, str]] = field(default_factory=asyncio.Queue)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def finished(self) -> bool:
        return self.status in (TurnStatus.DONE, TurnStatus.FAILED)

    async def stream(self) -> AsyncIterator[tuple[str, str]]:
        """("delta", reply so far) ... then ("final", reply) or ("failed", reason)."""
        while True:
            kind, value = await self.updates.get()
            yield kind, value
            if kind in ("final", "failed"):
                return

    async def result(self, timeout: float | None = None) -> str:
        """The final reply; raises ChatError if the turn failed."""
        await asyncio.wait_for(self.done.wait(), timeout)
        if self.status is TurnStatus.FAILED:
            raise ChatError(self.error)
        return self.text


class ChatRouter:
    def __init__(self, controller: FleetController, turn_timeout_s: float = 300.0) -> None:
        self.ctl = controller
        self.turn_timeout_s = turn_timeout_s
        self._by_key: dict[str, Turn] = {}  # idempotency key and run id -> turn

    async def send(
        self,
        bot_id: int,
        text: str,
        *,
        user_id: int | None,
        session_key: str | None = None,
        purpose: str = "chat",
        timeout_s: float | None = None,
    ) -> Turn:
        def load(s: Session) -> tuple[str, int | None, str]:
            bot = s.get(Bot, bot_id)
            if bot is None:
                raise ChatError("No such bot.")
            return bot.agent_id, bot.gateway_id, bot.desired_status

        agent_id, gateway_id, desired = await self.ctl.db.run(load)
        if desired != DesiredStatus.RUNNING.value or gateway_id is None:
            raise ChatError("The bot is stopped: start it to chat.")
        link = self.ctl.links.get(gateway_id)
        if link is not None and not link.client.is_connected:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(link.client.connected.wait(), 20)
        if link is None or not link.client.is_connected:
            raise ChatError("The bot's gateway is not running yet. Try again in a moment.")
        key = session_key or f"agent:{agent_id}:main"
        idempotency_key = str(uuid.uuid4())

        def create(s: Session) -> int:
            row = ChatTurn(
                bot_id=bot_id,
                user_id=user_id,
                session_key=key,
                idempotency_key=idempotency_key,
                message=text,
                purpose=purpose,
            )
            s.add(row)
            s.flush()
            assert row.id is not None
            return row.id

        turn = Turn(await self.ctl.db.run(create), bot_id, gateway_id, key, idempotency_key)
        self._by_key[idempotency_key] = turn
        for attempt in range(SEND_ATTEMPTS):
            try:
                answer = await link.client.call(
                    "chat.send",
                    {"sessionKey": key, "message": text, "idempotencyKey": idempotency_key},
                    timeout=30,
                )
                break
            except GatewayError as exc:
                # OpenClaw asks for a retry when the session changed under it (busy sessions).
                if "retry the request" in exc.message and attempt + 1 < SEND_ATTEMPTS:
                    await asyncio.sleep(0.2 * (attempt + 1))
                    continue
                self._finish(
                    turn, TurnStatus.FAILED, f"The gateway did not accept the message: {exc.message}"
                )
                raise ChatError(turn.error) from None
        turn.run_id = str((answer or {}).get("runId") or idempotency_key)
        self._by_key[turn.run_id] = turn
        if turn.status is TurnStatus.PENDING:
            turn.status = TurnStatus.STREAMING
            self.ctl.db.submit(lambda s: self._store(s, turn))
        self.ctl.spawn(
            self._watchdog(turn, timeout_s or self.turn_timeout_s), f"chat-watchdog-{turn.turn_id}"
        )
        return turn

    async def _watchdog(self, turn: Turn, timeout_s: float) -> None:
        try:
            await asyncio.wait_for(turn.done.wait(), timeout_s)
        except TimeoutError:
            link = self.ctl.links.get(turn.gateway_id)
            if link is not None:
                with contextlib.suppress(GatewayError):
                    await link.client.call(
                        "chat.abort", {"sessionKey": turn.session_key, "runId": turn.run_id}, timeout=10
                    )
            self._finish(turn, TurnStatus.FAILED, f"No answer within {timeout_s:.0f} s.")

    def on_chat_event(self, gateway_id: int, payload: dict[str, Any]) -> None:
        turn = self._by_key.get(str(payload.get("runId") or ""))
        if turn is None or turn.finished:
            return
        state = payload.get("state")
        message = payload.get("message") or {}
        if state == "delta":
            turn.text = message_text(message) or (turn.text + str(payload.get("deltaText") or ""))
            turn.status = TurnStatus.STREAMING
            turn.updates.put_nowait(("delta", turn.text))
            self.ctl.bus.publish(
                Kind.CHAT_DELTA,
                {
                    "turn_id": turn.turn_id,
                    "run_id": turn.run_id,
                    "text": turn.text,
                    "session_key": turn.session_key,
                },
                gateway_id=gateway_id,
                bot_id=turn.bot_id,
            )
        elif state == "final":
            turn.text = message_text(message) or turn.text
            self._finish(turn, TurnStatus.DONE, "")
        elif state in ("error", "aborted"):
            reason = str(payload.get("errorMessage") or payload.get("error") or f"the run was {state}")
            self._finish(turn, TurnStatus.FAILED, reason)

    def fail_gateway(self, gateway_id: int, reason: str) -> None:
        for turn in {id(t): t for t in self._by_key.values()}.values():
            if turn.gateway_id == gateway_id and not turn.finished:
                self._finish(turn, TurnStatus.FAILED, reason)

    def _finish(self, turn: Turn, status: TurnStatus, error: str) -> None:
        """End a turn: the stream and the bus hear at once; `done` is set once it is recorded,
        so whoever waits on it reads the final state from the database too."""
        if turn.finished:
            return
        turn.status, turn.error = status, error
        for key in (turn.idempotency_key, turn.run_id):
            self._by_key.pop(key, None)
        if status is TurnStatus.DONE:
            turn.updates.put_nowait(("final", turn.text))
            self.ctl.bus.publish(
                Kind.CHAT_FINAL,
                {
                    "turn_id": turn.turn_id,
                    "run_id": turn.run_id,
                    "text": turn.text,
                    "session_key": turn.session_key,
                },
                gateway_id=turn.gateway_id,
                bot_id=turn.bot_id,
            )
        else:
            turn.updates.put_nowait(("failed", error))
            self.ctl.bus.publish(
                Kind.CHAT_FAILED,
                {"turn_id": turn.turn_id, "error": error, "session_key": turn.session_key},
                gateway_id=turn.gateway_id,
                bot_id=turn.bot_id,
            )
        stored = self.ctl.db.submit(lambda s: self._store(s, turn))
        stored.add_done_callback(lambda _f: turn.done.set())

    @staticmethod
    def _store(s: Session, turn: Turn) -> None:
        row = s.get(ChatTurn, turn.turn_id)
        if row is None:
            return
        row.run_id, row.status, row.reply, row.error = (
            turn.run_id,
            turn.status.value,
            turn.text,
            turn.error[:2000],
        )
        if turn.finished:
            row.finished_at = utcnow()
        s.add(row)


def fail_unfinished_turns(s: Session) -> int:
    """At start-up: turns left pending or streaming by a previous run can never finish."""
    rows = s.exec(
        select(ChatTurn).where(
            col(ChatTurn.status).in_([TurnStatus.PENDING.value, TurnStatus.STREAMING.value])
        )
    ).all()
    for row in rows:
        row.status = TurnStatus.FAILED.value
        row.error = "ClawNet restarted before the answer arrived."
        row.finished_at = utcnow()
        s.add(row)
    return len(rows)
