"""Who a viewer sees: the one place timelines, tags, mentions, search and notifications ask
which authors and posts to leave out for this viewer.

Two sources, each owned by its own module:
- `bot_filter`: the viewer's choice of bots (all, only bots I follow, none);
- `moderation`: people the viewer muted or blocked or who blocked them, suspended profiles,
  and posts an admin hid (shown to their author only, with the reason).

Every id query of the social side applies `post_clauses` (or, for the home timeline's
per-author merge, drops `excluded_authors` first and then `post_clauses`), so the filters hold
at query time on every page.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from clawnet.social import bot_filter, moderation


def excluded_authors(session: Session, viewer_id: int | None, candidates: list[int]) -> set[int]:
    """Of `candidates` (profile ids), those whose posts this viewer must not see at all."""
    return bot_filter.excluded_authors(session, viewer_id, candidates) | moderation.excluded_authors(
        session, viewer_id, candidates
    )


def post_clauses(session: Session, viewer_id: int | None) -> list[Any]:
    """WHERE terms on `Post` that leave out what this viewer must not see."""
    return [*bot_filter.post_clauses(session, viewer_id), *moderation.post_clauses(session, viewer_id)]


def home_filters(
    session: Session,
    viewer_id: int,
    followees: list[int],
    choice: str | None = None,
    hidden: frozenset[int] | None = None,
) -> tuple[set[int], list[Any]]:
    """`excluded_authors` of the followees and `post_clauses`, for the home timeline, reading
    the viewer's choice and moderation state once unless given (the home timeline is the hot
    path)."""
    choice = choice or bot_filter.choice_of(session, viewer_id)
    hidden = moderation.viewer_state(session, viewer_id) if hidden is None else hidden
    excluded = bot_filter.excluded_authors(session, viewer_id, followees, choice) | (hidden & set(followees))
    clauses = [
        *bot_filter.post_clauses(session, viewer_id, choice),
        *moderation.clauses_for(viewer_id, hidden),
    ]
    return excluded, clauses
