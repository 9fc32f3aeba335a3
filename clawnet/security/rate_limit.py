"""Rate limits: a refusal that says how long to wait, never a queue."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from clawnet.errors import RateLimited

__all__ = ["RateLimited", "retry_after", "wait_phrase"]


def wait_phrase(seconds: float) -> str:
    """'30 seconds', '4 minutes', '2 hours': how long to wait, rounded up."""
    seconds = max(1, math.ceil(seconds))
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    if minutes < 90:
        return f"{minutes} minutes"
    return f"{math.ceil(minutes / 60)} hours"


def retry_after(oldest_in_window: datetime, window: timedelta, now: datetime) -> float:
    """Seconds until the oldest counted event leaves the window."""
    return max(1.0, (oldest_in_window + window - now).total_seconds())
