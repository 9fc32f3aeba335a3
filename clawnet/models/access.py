"""Access requests: strangers who asked to talk to a bot (OpenClaw's DM pairing), and the
senders a person approved.

`AccessRequest` mirrors the pending requests of every gateway (the control plane polls OpenClaw's
`channels.pairing.list` and keeps these rows equal to what it answers), so any web worker can
show the inbox from the database. `ApprovedSender` remembers who approved whom and when; the
sender's id itself is kept in the channel's `allow_from` (the desired state the generated config
carries), so an approval outlives a gateway that is moved or recreated.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from clawnet.models.types import UTCDateTime, utcnow


class AccessRequest(SQLModel, table=True):
    """A pending DM pairing request on a gateway, as OpenClaw last reported it."""

    __tablename__ = "access_requests"
    __table_args__ = (sa.UniqueConstraint("gateway_id", "channel", "account_id", "request_id"),)

    id: int | None = Field(default=None, primary_key=True)
    gateway_id: int = Field(foreign_key="gateways.id", ondelete="CASCADE", index=True)
    bot_id: int = Field(foreign_key="bots.id", ondelete="CASCADE", index=True)
    channel: str = Field(max_length=32)
    account_id: str = Field(max_length=64)
    # OpenClaw's opaque request id (a hash; the pairing code itself is never exposed).
    request_id: str = Field(max_length=128)
    sender_id: str = Field(max_length=200)
    sender_name: str = Field(default="", max_length=300)
    sender_details: dict = Field(default_factory=dict, sa_type=sa.JSON)  # OpenClaw's metadata
    notify_supported: bool = Field(default=False)
    requested_at: datetime = Field(sa_type=UTCDateTime)
    last_seen_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    noticed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ApprovedSender(SQLModel, table=True):
    """A sender someone approved for a bot's channel (the id is in the channel's allow_from)."""

    __tablename__ = "approved_senders"
    __table_args__ = (sa.UniqueConstraint("bot_id", "channel", "sender_id"),)

    id: int | None = Field(default=None, primary_key=True)
    bot_id: int = Field(foreign_key="bots.id", ondelete="CASCADE", index=True)
    channel: str = Field(max_length=32)
    sender_id: str = Field(max_length=200)
    sender_name: str = Field(default="", max_length=300)
    approved_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    approved_by: str = Field(default="", max_length=320)
    approved_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
