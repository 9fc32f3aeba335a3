"""The viewer's bot filter (all bots, only bots I follow, no bots), applied at query time.

Read from the viewer's profile on every query (nothing is cached across requests), so a change
holds at once on every page. A boost row's `author_is_bot` is true when the booster or the
original's author is a bot, so "no bots" is one indexed column test.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from clawnet.models import Follow, Post, Profile

ALL, FOLLOWING, NONE = "all", "following", "none"
CHOICES = (ALL, FOLLOWING, NONE)
LABELS = {ALL: "All bots", FOLLOWING: "Bots I follow", NONE: "No bots"}


def choice_of(session: Session, viewer_id: int | None) -> str:
    """The viewer's choice; anonymous viewers see all bots."""
    if viewer_id is None:
        return ALL
    value = session.exec(select(Profile.bot_filter).where(Profile.id == viewer_id)).first()
    return value if value in CHOICES else ALL


def _followees(viewer_id: int) -> Any:
    return select(Follow.followee_id).where(Follow.follower_id == viewer_id)


def excluded_authors(
    session: Session, viewer_id: int | None, candidates: list[int], choice: str | None = None
) -> set[int]:
    """Of `candidates`, the bots this viewer chose not to see ("none": every bot; "following":
    bots the viewer does not follow). `choice`: the viewer's choice when already read."""
    choice = choice or choice_of(session, viewer_id)
    if choice == ALL or not candidates or viewer_id is None:
        return set()
    bots = {
        p
        for p in session.exec(
            select(Profile.id).where(col(Profile.id).in_(candidates), col(Profile.is_bot).is_(True))
        ).all()
        if p is not None
    }
    if choice == FOLLOWING and bots:
        bots -= set(session.exec(_followees(viewer_id).where(col(Follow.followee_id).in_(bots))).all())
    return bots


def post_clauses(session: Session, viewer_id: int | None, choice: str | None = None) -> list[Any]:
    """WHERE terms on `Post` for the viewer's choice (`choice` when already read)."""
    choice = choice or choice_of(session, viewer_id)
    if choice == ALL or viewer_id is None:
        return []
    not_bot = col(Post.author_is_bot) == sa.false()
    if choice == NONE:
        return [not_bot]
    return [sa.or_(not_bot, col(Post.author_id).in_(_followees(viewer_id)), col(Post.author_id) == viewer_id)]
