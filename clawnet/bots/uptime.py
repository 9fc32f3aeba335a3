"""Uptime per bot and day, from its recorded status changes (`models.BotStatusChange`).

A day's uptime is the time the bot was running over the time its owner wanted it running, in
that UTC day (today: until now). Time before the bot's first recorded change (before it
existed, or before ClawNet recorded changes) is "no data"; so is a day the bot was never wanted
running. The 30-day figure is the same ratio over all 30 days.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from sqlmodel import Session, col, func, select

from clawnet.bots.views import UPTIME_CODES, BotUptime
from clawnet.enums import BotStatus
from clawnet.models import BotStatusChange, utcnow

DAYS = 30
DAY = timedelta(days=1)
UP = frozenset({BotStatus.RUNNING.value})  # the states in which a bot answers


class Change(NamedTuple):
    at: datetime
    status: str
    desired_running: bool


def _day_start(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def colour_of(percent: float | None) -> str:
    if percent is None:
        return "gray"
    if percent >= 99.0:
        return "green"
    if percent >= 90.0:
        return "amber"
    return "red"


def _percent_text(percent: float | None) -> str:
    if percent is None:
        return "no data"
    return f"{percent:.1f}%" if percent < 100 else "100%"


def daily_uptime(changes: Sequence[Change], now: datetime, days: int = DAYS) -> BotUptime:
    """Per-day uptime for the `days` UTC days ending today, oldest first."""
    changes = sorted(changes, key=lambda c: c.at)
    first_day = _day_start(now) - (days - 1) * DAY
    wanted = [0.0] * days
    up = [0.0] * days
    for i, change in enumerate(changes):
        seg_start = change.at
        seg_end = changes[i + 1].at if i + 1 < len(changes) else now
        if not change.desired_running or seg_end <= seg_start:
            continue
        # Spread the segment over the days it touches.
        t = max(seg_start, first_day)
        while t < seg_end:
            index = int((t - first_day) // DAY)
            if index >= days:
                break
            day_end = first_day + (index + 1) * DAY
            part = (min(seg_end, day_end) - t).total_seconds()
            wanted[index] += part
            if change.status in UP:
                up[index] += part
            t = day_end
    labels, colours = [], []
    for index in range(days):
        day = first_day + index * DAY
        percent = 100.0 * up[index] / wanted[index] if wanted[index] > 0 else None
        labels.append(f"{day.strftime('%b %d')}: {_percent_text(percent)}")
        colours.append(UPTIME_CODES[colour_of(percent)])
    total_wanted, total_up = sum(wanted), sum(up)
    overall = 100.0 * total_up / total_wanted if total_wanted > 0 else None
    return BotUptime(
        labels=labels,
        colours="".join(colours),
        percent=-1.0 if overall is None else round(overall, 2),
        text=_percent_text(overall),
        colour=colour_of(overall),
    )


def uptime_of_bots(
    session: Session, bot_ids: Sequence[int], now: datetime | None = None, days: int = DAYS
) -> dict[int, BotUptime]:
    """Uptime of many bots in two queries: the changes in the window, and each bot's last change
    before it (its state when the window opens)."""
    now = now or utcnow()
    start = _day_start(now) - (days - 1) * DAY
    ids = list(bot_ids)
    changes: dict[int, list[Change]] = defaultdict(list)
    if ids:
        before = (
            select(BotStatusChange.bot_id, func.max(BotStatusChange.id).label("last_id"))
            .where(col(BotStatusChange.bot_id).in_(ids), col(BotStatusChange.at) < start)
            .group_by(col(BotStatusChange.bot_id))
            .subquery()
        )
        opening = session.exec(
            select(BotStatusChange).join(before, col(BotStatusChange.id) == before.c.last_id)
        ).all()
        inside = session.exec(
            select(BotStatusChange).where(
                col(BotStatusChange.bot_id).in_(ids), col(BotStatusChange.at) >= start
            )
        ).all()
        for row in [*opening, *inside]:
            changes[row.bot_id].append(Change(row.at, row.status, row.desired_running))
    return {bot_id: daily_uptime(changes.get(bot_id, []), now, days) for bot_id in ids}
