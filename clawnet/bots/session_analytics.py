"""Response times and throughput of a bot, from its synced transcripts (every conversation:
channels, the dashboard's chat, schedules).

A response time is the time from a person's message to the bot's next answer in the same
session (an operator's reply, mirrored into the transcript, is not the bot's answer); per day of
the answer the median (p50) and the 95th percentile (p95), next to the day's tokens and cost.
Throughput: per minute of the last hour, the transcript messages stored and the turns answered.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from clawnet.bots.session_views import MinuteCount, ResponseDay
from clawnet.models import BotSession, TranscriptMessage, utcnow
from clawnet.security.permissions import Action, Principal, require

MIRRORED = "delivery-mirror"  # OpenClaw's model name on a message sent for someone (`send`)


def percentile(values: Sequence[float], p: float) -> float:
    """The `p`-th percentile (0-100) of `values` by linear interpolation between closest
    ranks (numpy's default, "linear"); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = (len(ordered) - 1) * min(max(p, 0.0), 100.0) / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def day_labels(now: datetime, days: int) -> list[str]:
    start = (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return [(start + timedelta(days=d)).strftime("%m-%d") for d in range(days)]


def answered_turns(session: Session, bot_id: int, since: datetime) -> list[tuple[datetime, float]]:
    """(when the bot answered, seconds since the message it answered) for each turn answered
    since `since`."""
    pending: dict[int, datetime] = {}
    out: list[tuple[datetime, float]] = []
    for sid, role, model, at in session.exec(
        select(
            TranscriptMessage.session_id,
            TranscriptMessage.role,
            TranscriptMessage.model,
            TranscriptMessage.created_at,
        )
        .join(BotSession, col(BotSession.id) == TranscriptMessage.session_id)
        .where(BotSession.bot_id == bot_id, col(TranscriptMessage.created_at) >= since)
        .order_by(col(TranscriptMessage.session_id), col(TranscriptMessage.seq))
    ).all():
        if role == "user":
            pending.setdefault(sid, at)  # several messages in a row: from the first
        elif role == "assistant" and model != MIRRORED and sid in pending:
            asked = pending.pop(sid)
            if at >= asked:
                out.append((at, (at - asked).total_seconds()))
    return out


def response_days(
    session: Session, actor: Principal | None, bot_id: int, *, days: int = 14, now: datetime | None = None
) -> list[ResponseDay]:
    """Per day of the last `days`: turns answered, p50 and p95 response time (seconds, to the
    millisecond), tokens and cost."""
    require(session, actor, Action.VIEW_BOT, bot_id)
    now = now or utcnow()
    labels = day_labels(now, days)
    start = (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    durations: dict[str, list[float]] = defaultdict(list)
    for at, seconds in answered_turns(session, bot_id, start):
        durations[at.strftime("%m-%d")].append(seconds)
    tokens: dict[str, int] = defaultdict(int)
    cost: dict[str, float] = defaultdict(float)
    for at, tin, tout, usd in session.exec(
        select(
            TranscriptMessage.created_at,
            TranscriptMessage.input_tokens,
            TranscriptMessage.output_tokens,
            TranscriptMessage.cost_usd,
        )
        .join(BotSession, col(BotSession.id) == TranscriptMessage.session_id)
        .where(BotSession.bot_id == bot_id, col(TranscriptMessage.created_at) >= start)
    ).all():
        day = at.strftime("%m-%d")
        tokens[day] += tin + tout
        cost[day] += usd
    return [
        ResponseDay(
            day=d,
            turns=len(durations[d]),
            p50=round(percentile(durations[d], 50), 3),
            p95=round(percentile(durations[d], 95), 3),
            tokens=tokens[d],
            cost=round(cost[d], 6),
        )
        for d in labels
    ]


def throughput(
    session: Session, actor: Principal | None, bot_id: int, *, minutes: int = 60, now: datetime | None = None
) -> list[MinuteCount]:
    """Per minute of the last `minutes` (oldest first, the current minute last): messages stored
    in the bot's transcripts and turns answered."""
    require(session, actor, Action.VIEW_BOT, bot_id)
    now = (now or utcnow()).replace(second=0, microsecond=0)
    start = now - timedelta(minutes=minutes - 1)
    labels = [(start + timedelta(minutes=m)).strftime("%H:%M") for m in range(minutes)]
    messages: dict[str, int] = defaultdict(int)
    turns: dict[str, int] = defaultdict(int)
    for at in session.exec(
        select(TranscriptMessage.created_at)
        .join(BotSession, col(BotSession.id) == TranscriptMessage.session_id)
        .where(BotSession.bot_id == bot_id, col(TranscriptMessage.created_at) >= start)
    ).all():
        messages[at.strftime("%H:%M")] += 1
    for at, _ in answered_turns(session, bot_id, start):
        turns[at.strftime("%H:%M")] += 1
    return [MinuteCount(m, messages[m], turns[m]) for m in labels]
