"""Alerts: what went wrong for an owner (opened, acknowledged, resolved by itself when the
condition cleared), each owner's alert settings, and every delivery attempt made for an alert."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from clawnet.models.types import UTCDateTime, utcnow


class AlertSettings(SQLModel, table=True):
    """One owner's alert settings: rule overrides, where alerts go, quiet hours, cooldown."""

    __tablename__ = "alert_settings"

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="users.id", ondelete="CASCADE", unique=True, index=True)
    # rule name -> {"enabled": bool, "threshold": number}; a missing rule takes its default.
    rules: dict = Field(default_factory=dict, sa_type=sa.JSON)
    email_enabled: bool = Field(default=False)
    email_to: str = Field(default="", max_length=320)  # empty: the owner's account address
    webhook_url: str = Field(default="", max_length=500)
    webhook_secret_enc: str | None = Field(default=None)
    bot_message_enabled: bool = Field(default=False)  # opt-in
    bot_message_bot_id: int | None = Field(default=None, foreign_key="bots.id", ondelete="SET NULL")
    bot_message_channel: str = Field(default="", max_length=32)
    bot_message_to: str = Field(default="", max_length=200)  # the owner's chat id on that channel
    # Quiet hours in UTC minutes of the day (start == end: none); urgent alerts still go out.
    quiet_start_min: int = Field(default=0)
    quiet_end_min: int = Field(default=0)
    cooldown_s: int = Field(default=900)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Alert(SQLModel, table=True):
    """One alert: a rule's condition on one subject (a gateway, a channel, a budget...)."""

    __tablename__ = "alerts"
    __table_args__ = (
        sa.Index("ix_alerts_owner_state", "owner_id", "state"),
        sa.Index("ix_alerts_owner_opened", "owner_id", "opened_at"),
        # The monitor's pass over live alerts (by state) and its pruning of old resolved ones.
        sa.Index("ix_alerts_state_resolved", "state", "resolved_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="users.id", ondelete="CASCADE")
    rule: str = Field(max_length=32)
    subject: str = Field(max_length=200)  # what it is about, e.g. "gateway:3" (one open per rule+subject)
    title: str = Field(max_length=300)
    detail: str = Field(default="", max_length=2000)
    urgent: bool = Field(default=False)
    state: str = Field(default="open", max_length=16)  # open | acknowledged | resolved
    bot_id: int | None = Field(default=None, foreign_key="bots.id", ondelete="SET NULL")
    gateway_id: int | None = Field(default=None, foreign_key="gateways.id", ondelete="SET NULL")
    opened_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    acknowledged_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Out-of-app delivery: when it went out, or why not (held for quiet hours, cooldown).
    notified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    held: bool = Field(default=False)


class AlertDelivery(SQLModel, table=True):
    """One attempt to deliver an alert's news by email, webhook or bot message."""

    __tablename__ = "alert_deliveries"

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alerts.id", ondelete="CASCADE", index=True)
    route: str = Field(max_length=16)  # email | webhook | bot
    event: str = Field(max_length=16)  # opened | resolved
    attempt: int = Field(default=1)
    ok: bool = Field(default=False)
    outcome: str = Field(default="", max_length=500)  # "HTTP 200", an error, "cooldown", "held"
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
