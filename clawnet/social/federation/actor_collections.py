"""An actor's outbox (its public posts as `Create` activities), followers and following, as
ActivityPub `OrderedCollection`s paged newest first: `?page=true` is the first page, `?page=<id>`
the items older than that row id."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from clawnet.enums import Visibility
from clawnet.models import Follow, Post, Profile
from clawnet.settings import Settings
from clawnet.social.federation import urls
from clawnet.social.federation.documents import (
    AS_CONTEXT,
    actor_uri,
    create,
    note,
)

PAGE_SIZE = 20


def _collection(collection_id: str, total: int) -> dict[str, Any]:
    return {
        "@context": AS_CONTEXT,
        "id": collection_id,
        "type": "OrderedCollection",
        "totalItems": total,
        "first": f"{collection_id}?page=true",
    }


def _page(collection_id: str, page: str, items: list[Any], next_cursor: int | None) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": AS_CONTEXT,
        "id": f"{collection_id}?page={page}",
        "type": "OrderedCollectionPage",
        "partOf": collection_id,
        "orderedItems": items,
    }
    if next_cursor is not None:
        document["next"] = f"{collection_id}?page={next_cursor}"
    return document


def _cursor(page: str) -> int | None:
    """`?page=true` is the first page; `?page=<id>` the items older than that id."""
    return int(page) if page.isdigit() else None


def _outbox_clauses(profile: Profile) -> list[Any]:
    return [
        Post.author_id == profile.id,
        Post.visibility == Visibility.PUBLIC.value,
        col(Post.reblog_of_id).is_(None),
        col(Post.hidden_at).is_(None),
    ]


def outbox(session: Session, settings: Settings, profile: Profile, page: str | None = None) -> dict[str, Any]:
    """The profile's public posts as `Create` activities, newest first, `PAGE_SIZE` a page."""
    collection_id = urls.outbox(settings, profile.handle)
    if not page:
        total = session.exec(select(func.count()).select_from(Post).where(*_outbox_clauses(profile))).one()
        return _collection(collection_id, total)
    q = select(Post).where(*_outbox_clauses(profile))
    if (before := _cursor(page)) is not None:
        q = q.where(col(Post.id) < before)
    posts = session.exec(q.order_by(col(Post.id).desc()).limit(PAGE_SIZE)).all()
    items = [create(note(session, settings, p)) for p in posts]
    more = len(posts) == PAGE_SIZE
    return _page(collection_id, page, items, posts[-1].id if more else None)


def _federating() -> Any:
    """Profiles listed in collections: remote ones, and local ones that are published."""
    return sa.or_(
        col(Profile.domain).is_not(None),
        sa.and_(col(Profile.federated).is_(True), col(Profile.suspended_at).is_(None)),
    )


def _follow_collection(
    session: Session, settings: Settings, profile: Profile, page: str | None, *, followers: bool
) -> dict[str, Any]:
    collection_id = (urls.followers if followers else urls.following)(settings, profile.handle)
    mine, theirs = (
        (Follow.followee_id, Follow.follower_id) if followers else (Follow.follower_id, Follow.followee_id)
    )
    clauses = [mine == profile.id, _federating()]
    joined = select(Follow, Profile).join(Profile, col(Profile.id) == theirs)
    if not page:
        total = session.exec(
            select(func.count()).select_from(Follow).join(Profile, col(Profile.id) == theirs).where(*clauses)
        ).one()
        return _collection(collection_id, total)
    q = joined.where(*clauses)
    if (before := _cursor(page)) is not None:
        q = q.where(col(Follow.id) < before)
    rows = session.exec(q.order_by(col(Follow.id).desc()).limit(PAGE_SIZE)).all()
    items = [uri for _, other in rows if (uri := actor_uri(session, settings, other))]
    more = len(rows) == PAGE_SIZE
    return _page(collection_id, page, items, rows[-1][0].id if more else None)


def followers(
    session: Session, settings: Settings, profile: Profile, page: str | None = None
) -> dict[str, Any]:
    """Who follows the profile (actor ids), newest first."""
    return _follow_collection(session, settings, profile, page, followers=True)


def following(
    session: Session, settings: Settings, profile: Profile, page: str | None = None
) -> dict[str, Any]:
    """Whom the profile follows (actor ids), newest first."""
    return _follow_collection(session, settings, profile, page, followers=False)
