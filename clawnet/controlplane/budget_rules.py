"""Budget maths: periods, thresholds and usage, in plain functions (no bus, no gateway).

Periods are UTC calendar days and months (OpenClaw's `usage.cost` is asked for the same UTC
days). Usage of a period is the larger of ClawNet's own per-message records and the gateway's
figure, per metric (a gateway figure fetched before the period started does not count). A budget's level is 0 (under 80%), 80 (warned) or 100 (spent: pause).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum

from sqlmodel import Session, col, func, select

from clawnet.models import Bot, BotPause, Budget, UsageDay


class Scope(StrEnum):
    BOT = "bot"
    OWNER = "owner"


class Period(StrEnum):
    DAY = "day"
    MONTH = "month"


class Metric(StrEnum):
    COST = "cost"
    TOKENS = "tokens"


class KillScope(StrEnum):
    """Whose kill switch paused a bot: its owner's, or an admin's for the whole fleet."""

    OWNER = "owner"
    FLEET = "fleet"


class PauseReason(StrEnum):
    NONE = "none"
    BUDGET = "budget"
    KILL_SWITCH = "kill_switch"


WARN_AT = 80
SPENT_AT = 100


def period_start(period: Period | str, now: datetime) -> datetime:
    """The UTC start of the calendar day or month `now` falls in."""
    now = now.astimezone(UTC)
    if Period(period) is Period.DAY:
        return datetime(now.year, now.month, now.day, tzinfo=UTC)
    return datetime(now.year, now.month, 1, tzinfo=UTC)


def period_end(period: Period | str, now: datetime) -> datetime:
    """The UTC start of the next period (when a spent budget resumes by itself)."""
    start = period_start(period, now)
    if Period(period) is Period.DAY:
        return datetime.fromordinal(start.toordinal() + 1).replace(tzinfo=UTC)
    year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
    return datetime(year, month, 1, tzinfo=UTC)


def period_days(period: Period | str, now: datetime) -> tuple[date, date]:
    """The first and last UTC day of the period so far (for `usage.cost`)."""
    return period_start(period, now).date(), now.astimezone(UTC).date()


def level(used: float, limit: float) -> int:
    """0, 80 or 100: the highest threshold `used` has reached (a limit of 0 or less: none)."""
    if limit <= 0:
        return 0
    share = used / limit * 100
    if share >= SPENT_AT:
        return SPENT_AT
    if share >= WARN_AT:
        return WARN_AT
    return 0


@dataclass(frozen=True)
class Usage:
    """One period's usage: ClawNet's records, the gateway's figure, and the one that counts."""

    cost_usd: float = 0.0
    tokens: int = 0
    gateway_cost_usd: float = 0.0
    gateway_tokens: int = 0

    @property
    def counted_cost(self) -> float:
        return max(self.cost_usd, self.gateway_cost_usd)

    @property
    def counted_tokens(self) -> int:
        return max(self.tokens, self.gateway_tokens)

    def of(self, metric: Metric | str) -> float:
        return self.counted_cost if Metric(metric) is Metric.COST else float(self.counted_tokens)


def day_key(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d")


def record_usage(s: Session, bot_id: int, at: datetime, cost_usd: float, tokens: int) -> None:
    """Add one message's usage to its bot's UTC day (called as session sync stores it)."""
    if not cost_usd and not tokens:
        return
    key = day_key(at)
    row = s.get(UsageDay, (bot_id, key))
    if row is None:
        row = UsageDay(bot_id=bot_id, day=key)
    row.cost_usd += cost_usd
    row.tokens += tokens
    s.add(row)


def recorded_usage(s: Session, bot_ids: Iterable[int], since: datetime) -> tuple[float, int]:
    """Cost and tokens ClawNet recorded for the bots since the UTC day of `since`."""
    ids = list(bot_ids)
    if not ids:
        return 0.0, 0
    row = s.exec(
        select(
            func.coalesce(func.sum(UsageDay.cost_usd), 0.0),
            func.coalesce(func.sum(UsageDay.tokens), 0),
        ).where(col(UsageDay.bot_id).in_(ids), col(UsageDay.day) >= day_key(since))
    ).one()
    return float(row[0] or 0), int(row[1] or 0)


def gateway_usage(pauses: Iterable[BotPause], period: Period | str, now: datetime) -> tuple[float, int]:
    """The gateway figures last fetched for these bots, summed: only those fetched in the
    current period (a figure from before its start belongs to the period that ended)."""
    start = period_start(period, now)
    cost, tokens = 0.0, 0
    for p in pauses:
        if p.gateway_usage_at is None or p.gateway_usage_at < start:
            continue
        if Period(period) is Period.DAY:
            cost, tokens = cost + p.gateway_cost_day, tokens + p.gateway_tokens_day
        else:
            cost, tokens = cost + p.gateway_cost_month, tokens + p.gateway_tokens_month
    return cost, tokens


def budget_bot_ids(s: Session, budget: Budget) -> list[int]:
    if budget.scope == Scope.BOT.value:
        return [budget.bot_id] if budget.bot_id is not None else []
    return [i for i in s.exec(select(Bot.id).where(Bot.owner_id == budget.owner_id)).all() if i is not None]


def usage_for(s: Session, bot_ids: list[int], period: Period | str, now: datetime) -> Usage:
    cost, tokens = recorded_usage(s, bot_ids, period_start(period, now))
    pauses = s.exec(select(BotPause).where(col(BotPause.bot_id).in_(bot_ids))).all() if bot_ids else []
    gw_cost, gw_tokens = gateway_usage(pauses, period, now)
    return Usage(cost, tokens, gw_cost, gw_tokens)


def budgets_for_bot(s: Session, bot: Bot) -> list[Budget]:
    """The bot's own budgets and its owner's."""
    return list(
        s.exec(
            select(Budget).where(
                ((Budget.scope == Scope.BOT.value) & (Budget.bot_id == bot.id))
                | ((Budget.scope == Scope.OWNER.value) & (Budget.owner_id == bot.owner_id))
            )
        ).all()
    )
