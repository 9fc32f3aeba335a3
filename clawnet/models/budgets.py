"""Budgets: spending limits per bot and per owner, and whether a bot is paused.

A `Budget` caps what a bot (scope "bot") or all of an owner's bots (scope "owner") may use in a
UTC calendar day or month, in US dollars (metric "cost") or tokens (metric "tokens").
`last_threshold` remembers the last crossing announced (0, 80 or 100) and `period_start` the
period it belongs to, so each crossing is published once.

`UsageDay` rolls each bot's recorded usage up per UTC day as session sync stores messages, so
a check sums at most a month of small rows instead of the transcript (spend stays counted when
a transcript is cleared or deleted).

`BotPause` is the desired pause state of a bot (house rule 3: the config renderer points a
paused bot's agent at ClawNet's "paused" model, which answers with `reply`). `reason` is
"none", "budget" or "kill_switch"; `budget_id` names the budget that paused it, and
`kill_scope` whose kill switch paused it ("owner" or "fleet"; "" when not a kill switch): an
owner's resume lifts only an owner-level pause, an admin's fleet resume lifts both.

An owner budget has no bot (`bot_id` NULL), so the unique constraint (NULLs are distinct) does
not cover it: a partial unique index over (owner_id, period, metric) where scope = 'owner' does.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from clawnet.models.types import UTCDateTime, utcnow

DEFAULT_PAUSE_REPLY = "This bot is paused for now (its owner's limit was reached). Please try again later."


class Budget(SQLModel, table=True):
    __tablename__ = "budgets"
    __table_args__ = (
        sa.UniqueConstraint("scope", "bot_id", "owner_id", "period", "metric", name="uq_budgets_target"),
        sa.Index(
            "uq_budgets_owner_target",
            "owner_id",
            "period",
            "metric",
            unique=True,
            sqlite_where=sa.text("scope = 'owner'"),
            postgresql_where=sa.text("scope = 'owner'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=8)  # "bot" | "owner"
    bot_id: int | None = Field(default=None, foreign_key="bots.id", ondelete="CASCADE", index=True)
    owner_id: int = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    period: str = Field(max_length=8)  # "day" | "month" (UTC calendar)
    metric: str = Field(max_length=8)  # "cost" (USD) | "tokens"
    limit_amount: float = Field(default=0.0)  # USD or tokens
    last_threshold: int = Field(default=0)  # 0, 80 or 100: the last crossing published
    period_start: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class BotPause(SQLModel, table=True):
    __tablename__ = "bot_pauses"

    bot_id: int = Field(foreign_key="bots.id", ondelete="CASCADE", primary_key=True)
    reason: str = Field(default="none", max_length=16)  # none | budget | kill_switch
    since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    budget_id: int | None = Field(default=None, foreign_key="budgets.id", ondelete="SET NULL")
    kill_scope: str = Field(default="", max_length=8)  # "" | owner | fleet (reason kill_switch)
    reply: str = Field(default="", max_length=1000)  # "" = DEFAULT_PAUSE_REPLY
    # The gateway's own figures (`usage.cost`), refreshed on the slow pass: shown next to ClawNet's.
    gateway_cost_day: float = Field(default=0.0)
    gateway_cost_month: float = Field(default=0.0)
    gateway_tokens_day: int = Field(default=0)
    gateway_tokens_month: int = Field(default=0)
    gateway_usage_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class UsageDay(SQLModel, table=True):
    __tablename__ = "usage_days"

    bot_id: int = Field(foreign_key="bots.id", ondelete="CASCADE", primary_key=True)
    day: str = Field(max_length=10, primary_key=True)  # "YYYY-MM-DD", UTC
    cost_usd: float = Field(default=0.0)
    tokens: int = Field(default=0)
