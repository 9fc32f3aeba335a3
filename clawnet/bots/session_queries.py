"""The session lists and transcripts, a page at a time, for the sessions the person may see.

Lists are keyset-paged on (activity_at, id), newest first, along the indexes
`ix_bot_sessions_activity` and `ix_bot_sessions_bot_activity`: a page costs the same at the
first row and the ten-thousandth, and rows arriving meanwhile never shift the next page.
Transcripts page backwards by `seq` along the (session_id, seq) unique index. Search is a
case-insensitive substring match (`ILIKE` on PostgreSQL, `LIKE` on SQLite) over the session's
own fields, its bot's name and, optionally, its messages; the same SQL runs on both databases.
Which bots a person may see is `queries.visible_bots`, the one rule.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from clawnet.bots.queries import visible_bots
from clawnet.bots.session_views import (
    ACTIVITY_WINDOWS,
    DASHBOARD_CHANNEL,
    FilterChoice,
    SessionFacets,
    SessionFilters,
    SessionListRow,
    SessionPage,
    TranscriptPage,
)
from clawnet.bots.views import TranscriptLine
from clawnet.controlplane.session_ops import operator_authors
from clawnet.humanize import ago
from clawnet.models import Bot, BotSession, TranscriptMessage, utcnow
from clawnet.security.permissions import Action, Principal, accessible_bot_ids, can, require

PAGE_SIZE = 50
MAX_PAGE = 200
TRANSCRIPT_PAGE = 100
MAX_TRANSCRIPT_PAGE = 1000


def encode_cursor(activity_at: datetime, session_id: int) -> str:
    """The position after a row: opaque to the browser, which only hands it back."""
    return f"{activity_at.astimezone(UTC).strftime('%Y%m%dT%H%M%S.%f')}~{session_id}"


def decode_cursor(cursor: str) -> tuple[datetime, int] | None:
    """The position a cursor names, or None for "" or anything malformed (the first page)."""
    at, _, sid = (cursor or "").partition("~")
    try:
        return datetime.strptime(at, "%Y%m%dT%H%M%S.%f").replace(tzinfo=UTC), int(sid)
    except ValueError:
        return None


def like_pattern(text: str) -> str:
    """`%text%` with LIKE's own wildcards in `text` taken literally (escape character `\\`)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _visible_bot_ids(session: Session, actor: Principal | None, filters: SessionFilters) -> dict[int, Bot]:
    """The bots whose sessions the list may show: the visible ones, narrowed to one by the
    bot filter (a bot the person may not see leaves nothing, as one that does not exist)."""
    bots = {b.id: b for b in visible_bots(session, actor) if b.id is not None}
    if filters.bot_id:
        return {filters.bot_id: bots[filters.bot_id]} if filters.bot_id in bots else {}
    return bots


def _filtered(query: Any, filters: SessionFilters, bot_ids: list[int] | None, *, in_messages: bool) -> Any:
    """`bot_ids` None: every bot (no bot condition, so the newest-first index is walked in order
    and a page stops at its last row instead of sorting every match)."""
    if bot_ids is not None:
        query = query.where(col(BotSession.bot_id).in_(bot_ids))
    if filters.channel:
        channel = "" if filters.channel == DASHBOARD_CHANNEL else filters.channel
        query = query.where(BotSession.channel == channel)
    if filters.kind:
        query = query.where(BotSession.kind == filters.kind)
    if filters.active in ACTIVITY_WINDOWS:  # anything else (sent by hand) means "any time"
        since = utcnow() - timedelta(seconds=ACTIVITY_WINDOWS[filters.active][1])
        query = query.where(col(BotSession.activity_at) >= since)
    if filters.search:
        needle = like_pattern(filters.search)
        matches: list[sa.ColumnElement[bool]] = [
            col(BotSession.key).ilike(needle, escape="\\"),
            col(BotSession.peer).ilike(needle, escape="\\"),
            col(BotSession.label).ilike(needle, escape="\\"),
            col(BotSession.preview).ilike(needle, escape="\\"),
            col(Bot.name).ilike(needle, escape="\\"),
        ]
        if in_messages:
            matches.append(
                select(TranscriptMessage.id)
                .where(
                    TranscriptMessage.session_id == BotSession.id,
                    col(TranscriptMessage.text).ilike(needle, escape="\\"),
                )
                .exists()
            )
        query = query.where(sa.or_(*matches))
    return query


def session_page(
    session: Session,
    actor: Principal | None,
    filters: SessionFilters,
    *,
    cursor: str = "",
    limit: int = PAGE_SIZE,
    in_messages: bool = True,
) -> SessionPage:
    """One page of the sessions `actor` may see that match `filters`, newest activity first,
    after `cursor` (from the previous page; "" for the first)."""
    bots = _visible_bot_ids(session, actor, filters)
    if not bots:
        return SessionPage([], "")
    limit = max(1, min(limit, MAX_PAGE))
    every_bot = not filters.bot_id and accessible_bot_ids(session, actor) is None
    query = _filtered(
        select(BotSession).join(Bot, col(Bot.id) == BotSession.bot_id),
        filters,
        None if every_bot else sorted(bots),
        in_messages=in_messages,
    )
    after = decode_cursor(cursor)
    if after is not None:
        query = query.where(sa.tuple_(col(BotSession.activity_at), col(BotSession.id)) < sa.tuple_(*after))
    query = query.order_by(col(BotSession.activity_at).desc(), col(BotSession.id).desc()).limit(limit + 1)
    found = list(session.exec(query).all())
    more, found = len(found) > limit, found[:limit]
    operable = {b: can(session, actor, Action.OPERATE_BOT, b) for b in {s.bot_id for s in found}}
    rows = [
        SessionListRow(
            id=s.id or 0,
            bot_id=s.bot_id,
            bot=bots[s.bot_id].name,
            key=s.key,
            channel=s.channel or DASHBOARD_CHANNEL,
            peer=s.peer or "—",
            kind=s.kind or "—",
            status=s.status,
            messages=s.message_count,
            tokens=s.total_tokens,
            cost=f"${s.cost_usd:.4f}",
            last=ago(s.last_message_at),
            at=s.activity_at.strftime("%Y-%m-%d %H:%M"),
            preview=s.preview[:120],
            can_operate=operable[s.bot_id],
            label=s.label,
        )
        for s in found
        if s.bot_id in bots  # a bot made since `bots` was read shows on the next page load
    ]
    last = found[-1] if found else None
    next_cursor = encode_cursor(last.activity_at, last.id or 0) if more and last is not None else ""
    return SessionPage(rows, next_cursor)


def session_facets(session: Session, actor: Principal | None, bot_id: int = 0) -> SessionFacets:
    """The bots, channels and kinds the filters offer (of the sessions `actor` may see)."""
    bots = _visible_bot_ids(session, actor, SessionFilters(bot_id=bot_id))
    if not bots:
        return SessionFacets()
    where = col(BotSession.bot_id).in_(sorted(bots))
    channels = session.exec(select(BotSession.channel).where(where).distinct()).all()
    kinds = session.exec(select(BotSession.kind).where(where).distinct()).all()
    shown = sorted({c or DASHBOARD_CHANNEL for c in channels})
    return SessionFacets(
        bots=[FilterChoice(str(b.id), b.name) for b in sorted(bots.values(), key=lambda b: b.name)],
        channels=[FilterChoice(c, c) for c in shown],
        kinds=[FilterChoice(k, k) for k in sorted({k for k in kinds if k})],
    )


def transcript_page(
    session: Session,
    actor: Principal | None,
    session_id: int,
    *,
    before_seq: int | None = None,
    limit: int = TRANSCRIPT_PAGE,
) -> TranscriptPage:
    """The last `limit` lines of a transcript before line `before_seq` (None: the newest),
    oldest first."""
    row = session.get(BotSession, session_id)
    if row is None:
        return TranscriptPage([], False, 0)
    require(session, actor, Action.VIEW_BOT, row.bot_id)
    limit = max(1, min(limit, MAX_TRANSCRIPT_PAGE))
    query = select(TranscriptMessage).where(TranscriptMessage.session_id == session_id)
    if before_seq is not None:
        query = query.where(col(TranscriptMessage.seq) < before_seq)
    found = list(session.exec(query.order_by(col(TranscriptMessage.seq).desc()).limit(limit + 1)).all())
    more, found = len(found) > limit, found[:limit]
    authors = operator_authors(session, session_id, found)
    lines = [
        TranscriptLine(
            seq=m.seq,
            role=m.role,
            text=m.text,
            at=m.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            tokens=str(m.input_tokens + m.output_tokens) if m.role == "assistant" else "",
            author=authors.get(m.seq, ""),
        )
        for m in reversed(found)
    ]
    return TranscriptPage(lines, more, row.message_count)
