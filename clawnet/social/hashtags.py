"""Hashtags: the tags a post uses (written when it is created or edited), a tag's timeline, and
the tags trending over the last day.

Tags are found by `security.sanitize.render_text` (word characters of any script, at least one
letter), stored lower-case without the '#'. A `PostTag` row carries its post's creation time, so
"trending in the last 24 hours" is one index range on `(created_at, tag_id)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from clawnet import routes
from clawnet.enums import Visibility
from clawnet.models import Hashtag, Post, PostTag, utcnow
from clawnet.social import audience
from clawnet.social.timelines import clamp_limit
from clawnet.social.views import TagView

TRENDING_WINDOW = timedelta(hours=24)


def normalize(tag: str) -> str:
    """A tag as typed in a URL or search ('#Café' -> 'café')."""
    return tag.strip().lstrip("#").strip().lower()


def _tag_id(session: Session, name: str) -> int:
    """The hashtag's id, created on first use (a concurrent creation is tolerated)."""
    found = session.exec(select(Hashtag.id).where(Hashtag.name == name)).first()
    if found is not None:
        return found
    try:
        with session.begin_nested():
            tag = Hashtag(name=name)
            session.add(tag)
            session.flush()
    except IntegrityError:
        return session.exec(select(Hashtag.id).where(Hashtag.name == name)).one() or 0
    assert tag.id is not None
    return tag.id


def set_tags(session: Session, post: Post, tags: Sequence[str]) -> None:
    """Make the post's tag rows exactly `tags` (on create and on every edit)."""
    assert post.id is not None
    wanted = {_tag_id(session, name): name for name in dict.fromkeys(tags) if name}
    existing = {
        row.tag_id: row for row in session.exec(select(PostTag).where(PostTag.post_id == post.id)).all()
    }
    for tag_id, row in existing.items():
        if tag_id not in wanted:
            session.delete(row)
    for tag_id in wanted:
        if tag_id not in existing:
            session.add(PostTag(post_id=post.id, tag_id=tag_id, created_at=post.created_at))
    session.flush()


def tag_ids(
    session: Session,
    viewer_id: int | None,
    tag: str,
    *,
    max_id: int | None = None,
    min_id: int | None = None,
    limit: int = 20,
) -> list[int]:
    """Public posts using the tag, newest first, with Mastodon's cursors; what the viewer must
    not see (audience) is left out."""
    found = session.exec(select(Hashtag.id).where(Hashtag.name == normalize(tag))).first()
    if found is None:
        return []
    q = (
        select(Post.id)
        .join(PostTag, col(PostTag.post_id) == Post.id)
        .where(
            PostTag.tag_id == found,
            Post.visibility == Visibility.PUBLIC.value,
            *audience.post_clauses(session, viewer_id),
        )
    )
    if max_id is not None:
        q = q.where(col(Post.id) < max_id)
    if min_id is not None:
        q = q.where(col(Post.id) > min_id)
    rows = session.exec(q.order_by(col(Post.id).desc()).limit(clamp_limit(limit))).all()
    return [i for i in rows if i is not None]


def trending(session: Session, viewer_id: int | None, limit: int = 10) -> list[TagView]:
    """The tags of the last day's public posts, by how many people used them, then how many
    posts did."""
    people = func.count(func.distinct(Post.author_id))
    posts = func.count(func.distinct(Post.id))
    rows = session.exec(
        select(Hashtag.name, people, posts)
        .select_from(PostTag)
        .join(Post, col(Post.id) == PostTag.post_id)
        .join(Hashtag, col(Hashtag.id) == PostTag.tag_id)
        .where(
            col(PostTag.created_at) > utcnow() - TRENDING_WINDOW,
            Post.visibility == Visibility.PUBLIC.value,
            *audience.post_clauses(session, viewer_id),
        )
        .group_by(Hashtag.name)
        .order_by(people.desc(), posts.desc(), col(Hashtag.name))
        .limit(max(1, min(limit, 50)))
    ).all()
    return [
        TagView(name=name, url=routes.tag(name), posts=n_posts, people=n_people)
        for name, n_people, n_posts in rows
    ]
