"""Notifications grouped for reading: consecutive likes or boosts of the same post, and
consecutive follows, become one row ("@a and 3 others liked your post")."""

from __future__ import annotations

import dataclasses

from clawnet.enums import NotificationKind
from clawnet.social.views import NotificationView

GROUPED = {NotificationKind.LIKE.value, NotificationKind.REBLOG.value, NotificationKind.FOLLOW.value}
# The page's filter chips: (key, label, kinds); "all" shows every kind.
FILTERS: list[tuple[str, str, list[str]]] = [
    ("all", "All", []),
    ("mention", "Mentions", [NotificationKind.MENTION.value]),
    ("reply", "Replies", [NotificationKind.REPLY.value]),
    ("like", "Likes", [NotificationKind.LIKE.value]),
    ("reblog", "Boosts", [NotificationKind.REBLOG.value]),
    ("follow", "Follows", [NotificationKind.FOLLOW.value]),
]


def kinds_for(key: str) -> list[str] | None:
    """The kinds a filter chip shows (None: all)."""
    for k, _label, kinds in FILTERS:
        if k == key:
            return kinds or None
    return None


def _key(n: NotificationView) -> tuple[str, str] | None:
    if n.kind not in GROUPED:
        return None
    return (n.kind, "" if n.kind == NotificationKind.FOLLOW.value else n.link)


def group(items: list[NotificationView]) -> list[NotificationView]:
    """Newest first in, newest first out; a group shows its newest actor with `others` set to
    how many other people did the same, and is unread when any of it is."""
    out: list[NotificationView] = []
    actors: list[set[str]] = []
    for n in items:
        key = _key(n)
        if out and key is not None and _key(out[-1]) == key:
            if n.actor_handle not in actors[-1]:
                actors[-1].add(n.actor_handle)
                out[-1] = dataclasses.replace(
                    out[-1], others=len(actors[-1]) - 1, unread=out[-1].unread or n.unread
                )
            continue
        out.append(n)
        actors.append({n.actor_handle})
    return out
