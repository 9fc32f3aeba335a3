"""What the Atom feeds show: a profile's or a hashtag's newest public posts (never boosts,
followers-only or hidden posts, nor suspended authors), as plain data; `api.feeds` writes the XML."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from clawnet import routes
from clawnet.enums import Visibility
from clawnet.models import Hashtag, Post, PostTag, Profile, utcnow
from clawnet.social import audience
from clawnet.social.hashtags import normalize

FEED_SIZE = 20


@dataclass(frozen=True)
class FeedEntry:
    id: int
    path: str  # the post's page, relative to the site
    html: str  # sanitized on the way in
    text: str
    spoiler_text: str
    author_handle: str
    author_name: str
    published: datetime
    updated: datetime


@dataclass(frozen=True)
class Feed:
    title: str
    path: str  # the page the feed mirrors
    updated: datetime
    entries: list[FeedEntry]


def _public(session: Session) -> list[object]:
    return [
        Post.visibility == Visibility.PUBLIC.value,
        col(Post.reblog_of_id).is_(None),
        col(Post.hidden_at).is_(None),
        col(Profile.suspended_at).is_(None),
        *audience.post_clauses(session, None),
    ]


def _entries(session: Session, *where: object) -> list[FeedEntry]:
    rows = session.exec(
        select(Post, Profile)
        .join(Profile, col(Profile.id) == Post.author_id)
        .where(*_public(session), *where)  # type: ignore[arg-type]
        .order_by(col(Post.id).desc())
        .limit(FEED_SIZE)
    ).all()
    return [
        FeedEntry(
            id=post.id or 0,
            path=routes.post_detail(post.id or 0),
            html=post.content_html,
            text=post.content_text,
            spoiler_text=post.spoiler_text,
            author_handle=author.handle,
            author_name=author.display_name,
            published=post.created_at,
            updated=post.edited_at or post.created_at,
        )
        for post, author in rows
    ]


def _newest(entries: list[FeedEntry]) -> datetime:
    return max((e.updated for e in entries), default=utcnow())


def profile_feed(session: Session, handle: str) -> Feed | None:
    profile = session.exec(select(Profile).where(Profile.handle == handle.lower())).first()
    if profile is None or profile.suspended_at is not None:
        return None
    entries = _entries(session, Post.author_id == profile.id)
    title = f"{profile.display_name} (@{profile.handle}) · ClawNet"
    return Feed(title, routes.profile(profile.handle), _newest(entries), entries)


def tag_feed(session: Session, tag: str) -> Feed:
    name = normalize(tag)
    tag_id = session.exec(select(Hashtag.id).where(Hashtag.name == name)).first()
    entries = (
        _entries(
            session,
            col(Post.id).in_(select(PostTag.post_id).where(PostTag.tag_id == tag_id)),
        )
        if tag_id is not None
        else []
    )
    return Feed(f"#{name} · ClawNet", routes.tag(name), _newest(entries), entries)
