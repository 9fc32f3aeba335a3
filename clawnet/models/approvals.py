"""Approvals: exec and plugin approval requests raised by gateways (OpenClaw's
`exec.approval.requested` / `plugin.approval.requested` events), as the control plane recorded
them, and how each ended.

A row is written when the gateway asks and updated when it is resolved (here or elsewhere) or when
its expiry time (OpenClaw's `expiresAtMs`) passes: OpenClaw sends no event for an expiry, and
drops the request from its pending list then.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from clawnet.models.types import UTCDateTime, utcnow


class ApprovalRequest(SQLModel, table=True):
    """One approval a gateway waits for (or waited for)."""

    __tablename__ = "approval_requests"
    __table_args__ = (sa.UniqueConstraint("gateway_id", "approval_id"),)

    id: int | None = Field(default=None, primary_key=True)
    gateway_id: int = Field(foreign_key="gateways.id", ondelete="CASCADE", index=True)
    bot_id: int | None = Field(default=None, foreign_key="bots.id", ondelete="CASCADE", index=True)
    kind: str = Field(max_length=16)  # ApprovalKind: exec | plugin
    approval_id: str = Field(max_length=200)  # OpenClaw's id
    agent_id: str = Field(default="", max_length=64)
    session_key: str = Field(default="", max_length=512)
    # exec: the command line, its folder and host; plugin: title, description, tool
    command: str = Field(default="", max_length=4000)
    cwd: str = Field(default="", max_length=1000)
    host: str = Field(default="", max_length=32)
    title: str = Field(default="", max_length=300)
    description: str = Field(default="", max_length=2000)
    tool_name: str = Field(default="", max_length=200)
    plugin_id: str = Field(default="", max_length=200)
    severity: str = Field(default="", max_length=16)
    decisions: list[str] = Field(default_factory=list, sa_type=sa.JSON)  # what OpenClaw offers
    details: dict = Field(default_factory=dict, sa_type=sa.JSON)  # the rest of the request, trimmed
    requested_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    state: str = Field(default="pending", max_length=16, index=True)  # ApprovalState
    decision: str = Field(default="", max_length=16)  # allow-once | allow-always | deny
    resolved_by: str = Field(default="", max_length=320)  # a ClawNet person, or OpenClaw's client
    resolved_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    noticed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
