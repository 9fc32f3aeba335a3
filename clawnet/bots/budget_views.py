"""What the budget pages show: typed read models (no tables, no secrets)."""

from __future__ import annotations

from dataclasses import dataclass, field

from clawnet.controlplane.budget_rules import Metric, PauseReason, Usage, level
from clawnet.models import Budget

# The form's fields: one limit per (period, metric); "" means no limit.
FIELDS: tuple[tuple[str, str, str], ...] = (
    ("day_cost", "day", "cost"),
    ("month_cost", "month", "cost"),
    ("day_tokens", "day", "tokens"),
    ("month_tokens", "month", "tokens"),
)
PAUSE_LABELS = {
    PauseReason.BUDGET.value: "Paused: budget",
    PauseReason.KILL_SWITCH.value: "Paused: kill switch",
}


def amount(metric: str, value: float) -> str:
    return f"${value:.4f}" if metric == Metric.COST.value else f"{int(value):,} tokens"


@dataclass(frozen=True)
class BudgetRow:
    field: str  # day_cost, month_tokens...
    period: str
    metric: str
    limit: str  # "" = none
    used: str  # what counts (the larger of ClawNet's records and the gateway's)
    recorded: str  # ClawNet's own records
    gateway: str  # the gateway's usage.cost
    percent: int
    level: int  # 0, 80, 100
    scope: str = "bot"


@dataclass(frozen=True)
class BudgetsView:
    bot_id: int  # 0: an owner's budgets
    rows: list[BudgetRow]
    owner_rows: list[BudgetRow] = field(default_factory=list)  # the owner's, over this bot too
    paused: str = ""  # "Paused: budget" / "Paused: kill switch" / ""
    reply: str = ""
    can_edit: bool = False


def budget_row(
    name: str, period: str, metric: str, budget: Budget | None, usage: Usage, scope: str
) -> BudgetRow:
    limit = budget.limit_amount if budget is not None else 0.0
    used = usage.of(metric)
    recorded = usage.cost_usd if metric == Metric.COST.value else float(usage.tokens)
    gateway = usage.gateway_cost_usd if metric == Metric.COST.value else float(usage.gateway_tokens)
    return BudgetRow(
        field=name,
        period=period,
        metric=metric,
        limit=(f"{limit:g}" if budget is not None else ""),
        used=amount(metric, used),
        recorded=amount(metric, recorded),
        gateway=amount(metric, gateway),
        percent=min(100, int(used / limit * 100)) if limit > 0 else 0,
        level=level(used, limit),
        scope=scope,
    )


def short_usage(rows: list[BudgetRow]) -> str:
    """One line for a card: the budget closest to its limit, e.g. "$0.0123 of 1 a day (45%)"."""
    limited = [r for r in rows if r.limit]
    if not limited:
        return ""
    top = max(limited, key=lambda r: r.percent)
    return f"{top.used} of {top.limit} per {top.period} ({top.percent}%)"
