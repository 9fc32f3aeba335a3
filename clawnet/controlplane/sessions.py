"""Sessions and transcripts from gateway events into the database, and chat turns.

Gateways push `sessions.changed` and `session.message` to subscribed connections
(`sessions.subscribe`); each is written to the database (in arrival order, off the event loop)
and republished on the bus. After a (re)connect, `backfill` catches up on what happened while
ClawNet was not listening. Nothing polls.

Chat turns are in `chat`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from clawnet.controlplane.budget_rules import record_usage
from clawnet.controlplane.db_runner import DbRunner
from clawnet.controlplane.gateway_api import SessionRow, channel_and_peer
from clawnet.controlplane.gateway_sessions import GatewaySessions, message_seq
from clawnet.controlplane.links import GatewayLink
from clawnet.controlplane.protocol import GatewayError
from clawnet.controlplane.session_ops import GONE, STARTED_OVER, clear_transcript, forget_session, label_of
from clawnet.events import EventBus, Kind
from clawnet.models import Bot, BotSession, TranscriptMessage, utcnow

log = logging.getLogger(__name__)


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
        session_row.activity_at = session_row.created_at
    session_row.gateway_session_id = str(row.get("sessionId") or session_row.gateway_session_id)[:128]
    session_row.kind = str(row.get("chatType") or row.get("kind") or session_row.kind)[:32]
    session_row.status = str(row.get("status") or session_row.status)[:32]
    session_row.model = str(row.get("model") or session_row.model)[:200]
    session_row.label = label_of(row, session_row.label)
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
    record_usage(s, bot_id, at, row.cost_usd, row.input_tokens + row.output_tokens)
    session_row.message_count += 1
    session_row.input_tokens += row.input_tokens
    session_row.output_tokens += row.output_tokens
    session_row.total_tokens = session_row.input_tokens + session_row.output_tokens
    session_row.cost_usd += row.cost_usd
    if text:
        session_row.preview = text[:280]
    if session_row.last_message_at is None or at >= session_row.last_message_at:
        session_row.last_message_at = at
    session_row.activity_at = max(session_row.activity_at, at)
    s.add(session_row)
    bot = s.get(Bot, bot_id)
    if bot is not None:
        bot.last_activity_at = at
        s.add(bot)
    return session_row, row


RECENT = timedelta(days=7)
MAX_RECENT = 500


def _recent_keys(s: Session, bot_id: int) -> set[str]:
    """The keys of the bot's sessions active in the last week (at most MAX_RECENT)."""
    since = utcnow() - RECENT
    return set(
        s.exec(
            select(BotSession.key)
            .where(BotSession.bot_id == bot_id, col(BotSession.activity_at) >= since)
            .order_by(col(BotSession.activity_at).desc())
            .limit(MAX_RECENT)
        ).all()
    )


def _stored_session(s: Session, bot_id: int, key: str, row: dict[str, Any]) -> int:
    """Record a listed session; the seq of its last stored message (0: none)."""
    session_row = _upsert_session(s, bot_id, key, row, None)
    last = s.exec(
        select(func.max(TranscriptMessage.seq)).where(TranscriptMessage.session_id == session_row.id)
    ).one()
    return int(last or 0)


class SessionSync:
    def __init__(
        self, db: DbRunner, bus: EventBus, after_assistant: Callable[[int], None] | None = None
    ) -> None:
        self.db = db
        self.bus = bus
        self.after_assistant = after_assistant  # the budget check, per stored assistant message

    def _bot_id(self, link: GatewayLink, agent_id: str) -> int | None:
        return link.bot_of(agent_id)

    def on_event(self, link: GatewayLink, name: str, payload: dict[str, Any]) -> None:
        agent_id = str(payload.get("agentId") or "")
        key = str(payload.get("sessionKey") or "")
        bot_id = self._bot_id(link, agent_id)
        if bot_id is None or not key:
            return
        if name == "sessions.changed" and payload.get("reason") in GONE:
            gone = self.db.submit(lambda s: forget_session(s, bot_id, key))
            gone.add_done_callback(lambda f: self._published_gone(f, link.gateway_id, bot_id, key))
        elif name == "sessions.changed":
            row = payload.get("session") or {}
            preview = row.get("lastMessagePreview") or payload.get("lastMessagePreview")
            started_over = payload.get("reason") in STARTED_OVER

            def upsert(s: Session) -> BotSession:
                stored = _upsert_session(s, bot_id, key, row, preview)
                if started_over:  # OpenClaw numbers the new generation's messages from 1 again
                    clear_transcript(s, stored)
                return stored

            future = self.db.submit(upsert)
            future.add_done_callback(lambda f: self._published_session(f, link.gateway_id, bot_id))
        elif name == "session.message":
            message = payload.get("message") or {}
            seq = payload.get("messageSeq") or (message.get("__openclaw") or {}).get("seq")
            if not isinstance(seq, int):
                return

            def add(s: Session) -> tuple[BotSession, TranscriptMessage] | None:
                return _add_message(s, bot_id, key, message, seq)

            future2 = self.db.submit(add)
            future2.add_done_callback(lambda f: self._published_message(f, link.gateway_id, bot_id))

    def _published_session(self, future: asyncio.Future[BotSession], gateway_id: int, bot_id: int) -> None:
        if future.exception() is not None:
            log.error("storing a session change failed: %s", future.exception())
            return
        row = future.result()
        self.bus.publish(
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

    def _published_gone(
        self, future: asyncio.Future[int | None], gateway_id: int, bot_id: int, key: str
    ) -> None:
        if future.exception() is not None:
            log.error("forgetting a deleted session failed: %s", future.exception())
        elif (session_id := future.result()) is not None:
            payload = {"key": key, "session_id": session_id, "deleted": True}
            self.bus.publish(Kind.SESSION_CHANGED, payload, gateway_id=gateway_id, bot_id=bot_id)

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
        if message.role == "assistant" and self.after_assistant is not None:
            self.after_assistant(bot_id)
        self.bus.publish(
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
        """Catch up on sessions and messages missed while disconnected, a page at a time (every
        session of the gateway, and of each transcript the messages after the last one stored).
        Returns messages added."""
        api = GatewaySessions(link.client)
        added = 0
        for agent_id, bot_id in list(link.agent_bots.items()):
            try:
                added += await self._backfill_agent(link, api, agent_id, bot_id)
            except GatewayError as exc:
                log.warning("gateway %s: sessions.list %s failed: %s", link.gateway_id, agent_id, exc)
        return added

    async def _backfill_agent(
        self, link: GatewayLink, api: GatewaySessions, agent_id: str, bot_id: int
    ) -> int:
        """One agent's sessions (the gateway lists them per agent), and the messages missed."""
        added = 0
        listed = [row async for row in api.all_sessions(agent_id) if row.key]
        # The gateway may list fewer sessions than it holds (after a crash it listed none while
        # their transcripts answered): the ones ClawNet knows from the last week are read too.
        known = await self.db.run(partial(_recent_keys, bot_id=bot_id))
        extra = [
            SessionRow(key, agent_id, "", "", "", "", "", None) for key in known - {r.key for r in listed}
        ]
        for row in listed + extra:
            last_seq = await self.db.run(partial(_stored_session, bot_id=bot_id, key=row.key, row=row.raw))
            try:
                _total, messages = await api.history_since(row.key, last_seq)
            except GatewayError as exc:
                log.warning("gateway %s: chat.history %s failed: %s", link.gateway_id, row.key, exc)
                continue
            for message in messages:
                seq = message_seq(message)
                if seq is None:
                    continue
                result = await self.db.run(
                    partial(_add_message, bot_id=bot_id, key=row.key, message=message, seq=seq)
                )
                if result is not None:
                    added += 1
        return added
