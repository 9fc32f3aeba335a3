"""Replies a person sent into a bot's channel conversation as the operator.

OpenClaw delivers such a reply (its `send` method) and mirrors it into the session's transcript
as the bot's message; this row remembers who wrote it, so the transcript ClawNet shows marks it
"Operator · <name>" instead of the bot.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from clawnet.models.types import UTCDateTime, utcnow


class OperatorReply(SQLModel, table=True):
    __tablename__ = "operator_replies"

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="bot_sessions.id", ondelete="CASCADE", index=True)
    user_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    author: str = Field(default="", max_length=200)  # the person's name when they wrote it
    text: str = Field(default="")
    message_id: str = Field(default="", max_length=128)  # the channel's id for the sent message
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
