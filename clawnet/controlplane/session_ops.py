"""What session operations change in ClawNet's copy of a gateway's sessions.

Both the bots service (right after the gateway accepted an operation) and session sync (when the
gateway's `sessions.changed` says so, whoever asked: ClawNet, OpenClaw's daily reset, a `/reset`
typed in a channel) use these, so the database follows the gateway either way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from clawnet.controlplane.gateway_api import channel_and_peer
from clawnet.models import BotSession, OperatorReply, TranscriptMessage, utcnow

# `sessions.changed` reasons: the session is gone / it starts over under the same key.
GONE = frozenset({"delete", "deleted"})
STARTED_OVER = frozenset({"reset", "new"})

# The model OpenClaw names on a transcript entry that mirrors a message delivered by `send`.
DELIVERY_MIRROR = "delivery-mirror"


def find_session(s: Session, bot_id: int, key: str) -> BotSession | None:
    return s.exec(select(BotSession).where(BotSession.bot_id == bot_id, BotSession.key == key)).first()


def clear_transcript(s: Session, row: BotSession, *, before: datetime | None = None) -> None:
    """Forget the stored transcript of a session that started over (OpenClaw numbers the new
    generation's messages from 1 again). `before`: only messages older than that."""
    assert row.id is not None
    query = sa.delete(TranscriptMessage).where(col(TranscriptMessage.session_id) == row.id)
    if before is not None:
        query = query.where(col(TranscriptMessage.created_at) < before)
    s.execute(query)
    left = s.exec(
        select(TranscriptMessage)
        .where(TranscriptMessage.session_id == row.id)
        .order_by(col(TranscriptMessage.seq))
    ).all()
    row.message_count = len(left)
    row.input_tokens = sum(m.input_tokens for m in left)
    row.output_tokens = sum(m.output_tokens for m in left)
    row.total_tokens = row.input_tokens + row.output_tokens
    row.cost_usd = sum(m.cost_usd for m in left)
    row.preview = left[-1].text[:280] if left else ""
    row.last_message_at = left[-1].created_at if left else None
    row.updated_at = utcnow()
    s.add(row)


def forget_session(s: Session, bot_id: int, key: str) -> int | None:
    """Drop a deleted session (its transcript and operator replies go with it); its id, if any."""
    row = find_session(s, bot_id, key)
    if row is None or row.id is None:
        return None
    session_id = row.id
    s.execute(sa.delete(OperatorReply).where(col(OperatorReply.session_id) == session_id))
    s.execute(sa.delete(TranscriptMessage).where(col(TranscriptMessage.session_id) == session_id))
    # A statement, not the ORM: sync and the service may both forget it, whoever comes second
    # finds nothing to do.
    s.expunge(row)
    s.execute(sa.delete(BotSession).where(col(BotSession.id) == session_id))
    return session_id


def record_created(s: Session, bot_id: int, key: str, label: str, gateway_session_id: str) -> BotSession:
    """A session ClawNet just created on the gateway (sync may already have stored it)."""
    row = find_session(s, bot_id, key)
    if row is None:
        channel, peer = channel_and_peer(key)
        row = BotSession(bot_id=bot_id, key=key[:255], channel=channel, peer=peer[:255])
    row.label = label or row.label
    row.gateway_session_id = gateway_session_id[:128] or row.gateway_session_id
    row.updated_at = utcnow()
    s.add(row)
    s.flush()
    return row


def label_of(row: dict[str, Any], current: str) -> str:
    """The label a `sessions.changed`/`sessions.list` row gives (it omits the key when unset)."""
    if "label" not in row:
        return current
    return str(row.get("label") or "")[:512]


def operator_authors(s: Session, session_id: int, messages: list[TranscriptMessage]) -> dict[int, str]:
    """seq -> "Operator · <name>" for the transcript messages that mirror an operator's reply
    (OpenClaw stores a delivered message as the bot's, from the "delivery-mirror" model)."""
    mirrored = [m for m in messages if m.model == DELIVERY_MIRROR and m.role == "assistant"]
    if not mirrored:
        return {}
    replies = list(
        s.exec(
            select(OperatorReply)
            .where(OperatorReply.session_id == session_id)
            .order_by(col(OperatorReply.id))
        ).all()
    )
    authors: dict[int, str] = {}
    for m in sorted(mirrored, key=lambda m: m.seq):
        match = next((r for r in replies if r.text.strip() == m.text.strip()), None)
        if match is not None:
            replies.remove(match)
            authors[m.seq] = f"Operator · {match.author}"
    return authors
