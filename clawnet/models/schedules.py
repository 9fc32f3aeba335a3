"""Schedules: a bot's cron jobs, as desired state.

A `Schedule` is what ClawNet wants a bot's gateway to run (OpenClaw's `cron.*` jobs). ClawNet
writes it to the gateway under a stable declaration key (`clawnet:<key>`), so the job is found
again after a restart, an adoption or a move (`controlplane.schedules`). `gateway_job_id` and
`applied_revision` remember what the gateway answered the last time ClawNet wrote the job: a
different revision on the gateway means someone changed it behind ClawNet's back (drift).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from clawnet.models.types import UTCDateTime, utcnow


class Schedule(SQLModel, table=True):
    __tablename__ = "schedules"

    id: int | None = Field(default=None, primary_key=True)
    bot_id: int = Field(foreign_key="bots.id", ondelete="CASCADE", index=True)
    key: str = Field(max_length=64, unique=True)  # stable: the gateway job's declaration key
    name: str = Field(max_length=120)
    kind: str = Field(max_length=16)  # "cron" or "every"
    cron_expr: str = Field(default="", max_length=120)
    timezone: str = Field(default="", max_length=64)  # IANA name; "" = the gateway host's
    every_seconds: int = Field(default=0)
    message: str = Field(max_length=4000)
    session: str = Field(default="isolated", max_length=200)  # OpenClaw's sessionTarget
    enabled: bool = Field(default=True)
    gateway_job_id: str = Field(default="", max_length=128)
    applied_revision: str = Field(default="", max_length=128)
    drift: str = Field(default="", max_length=500)  # what differs on the gateway; "" = in sync
    created_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
