"""What the moderation pages show: reports in the admin queue, one's muted and blocked profiles."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReportView:
    id: int
    reporter_handle: str
    target_id: int
    target_handle: str
    target_name: str
    post_id: int  # 0 for a report about a profile
    post_text: str  # the reported post's text (plain), or "" for a profile
    post_hidden: bool
    target_suspended: bool
    reason: str
    ago: str


@dataclass(frozen=True)
class ModeratedProfile:
    """A profile one muted or blocked (Settings lists them with Unmute / Unblock)."""

    id: int
    handle: str
    name: str
    until: str  # "" when it does not expire (mutes only)
    notifications: bool  # a mute that also silences their notifications


@dataclass(frozen=True)
class ModeratedItem:
    """A hidden post or a suspended profile, for the queue's "undo" list."""

    kind: str  # post | profile
    id: int
    label: str
    reason: str
