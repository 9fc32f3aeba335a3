"""Uptime: every change of a bot's actual status (or of whether its owner wants it running), so
per-day uptime can be computed afterwards (`bots.uptime`)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, delete, func, select

from clawnet.models.types import UTCDateTime, utcnow


class BotStatusChange(SQLModel, table=True):
    """From `at` on, the bot was in `status`, wanted running or not (until its next row)."""

    __tablename__ = "bot_status_changes"
    __table_args__ = (sa.Index("ix_bot_status_changes_bot_at", "bot_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    bot_id: int = Field(foreign_key="bots.id", ondelete="CASCADE")
    status: str = Field(max_length=16)
    desired_running: bool = Field(default=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def record_bot_status(
    session: Session, bot_id: int, status: str, desired_running: bool, at: datetime | None = None
) -> bool:
    """Add a row unless the bot's last row already says the same; True when one was added."""
    last = session.exec(
        select(BotStatusChange)
        .where(BotStatusChange.bot_id == bot_id)
        .order_by(col(BotStatusChange.at).desc(), col(BotStatusChange.id).desc())
        .limit(1)
    ).first()
    if last is not None and last.status == status and last.desired_running == desired_running:
        return False
    session.add(
        BotStatusChange(bot_id=bot_id, status=status, desired_running=desired_running, at=at or utcnow())
    )
    return True


def prune_status_changes(session: Session, before: datetime) -> None:
    """Forget changes older than `before`, except each bot's last one before it (the state the
    bot was in when the kept history starts)."""
    kept = (
        select(func.max(BotStatusChange.id))
        .where(col(BotStatusChange.at) < before)
        .group_by(col(BotStatusChange.bot_id))
    )
    session.exec(
        delete(BotStatusChange).where(col(BotStatusChange.at) < before, col(BotStatusChange.id).not_in(kept))
    )
