"""Rate limits an admin changed from their defaults (`security.rate_limit`): one row per action."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from clawnet.models.types import UTCDateTime, utcnow


class RateLimitSetting(SQLModel, table=True):
    """At most `max_count` of `action` per person (or API token) in any `window_s` seconds."""

    __tablename__ = "rate_limits"

    action: str = Field(primary_key=True, max_length=32)
    max_count: int
    window_s: int
    updated_by: int | None = Field(default=None)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
