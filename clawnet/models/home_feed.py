"""Home feeds written at post time (Mastodon's approach), so reading a home page is one index
range on `(viewer_id, post_id)` however many profiles the viewer follows.

A viewer's feed exists once it was built (`HomeFeed` row, by `clawnet.social.home_feed` on the
first read). From then on it holds every post of the viewer and of the profiles they follow with
an id above `floor`: a new post is written into the feeds of its author and of its author's
followers that have one (in the post's own transaction), a new follow copies the followee's newest
posts in, an unfollow takes them out, and a deleted post leaves with its row (foreign keys). Older
pages (ids at or below `floor`) are read the old way, by merging the followees' posts.

The writes hang on the ORM (`after_insert`/`after_delete` of `Post` and `Follow`), so every path
that creates a post (the web, the Mastodon API, a bot's insight, a remote note) keeps feeds
whole without knowing about them.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlmodel import Field, SQLModel

from clawnet.models.social import Follow, Post

CAP = 800  # posts copied in per followee on a follow, and kept per feed by the trim


class HomeFeed(SQLModel, table=True):
    __tablename__ = "home_feeds"

    viewer_id: int = Field(foreign_key="profiles.id", ondelete="CASCADE", primary_key=True)
    floor: int = Field(default=0)  # the feed holds every home post with an id above this


class HomeEntry(SQLModel, table=True):
    __tablename__ = "home_entries"
    __table_args__ = (
        sa.Index("ix_home_entries_viewer_bot_post", "viewer_id", "author_is_bot", "post_id"),
        sa.Index("ix_home_entries_viewer_author", "viewer_id", "author_id"),
    )

    viewer_id: int = Field(foreign_key="profiles.id", ondelete="CASCADE", primary_key=True)
    post_id: int = Field(foreign_key="posts.id", ondelete="CASCADE", primary_key=True)
    author_id: int
    author_is_bot: bool = Field(default=False)


_FAN_OUT = sa.text(
    "INSERT INTO home_entries (viewer_id, post_id, author_id, author_is_bot) "
    "SELECT h.viewer_id, :post, :author, :bot FROM home_feeds h "
    "WHERE (h.viewer_id = :author OR h.viewer_id IN (SELECT f.follower_id FROM follows f WHERE f.followee_id = :author)) "
    "AND h.floor < :post "
    "ON CONFLICT DO NOTHING"
)
_NEWEST_OF = sa.text(
    "SELECT id, author_is_bot FROM posts WHERE author_id = :author AND id > :floor ORDER BY id DESC LIMIT :cap"
)
ADD_ENTRY = sa.text(
    "INSERT INTO home_entries (viewer_id, post_id, author_id, author_is_bot) "
    "VALUES (:viewer, :post, :author, :bot) ON CONFLICT DO NOTHING"
)
_RAISE_FLOOR = sa.text(
    "UPDATE home_feeds SET floor = CASE WHEN floor < :floor THEN :floor ELSE floor END WHERE viewer_id = :viewer"
)


def _post_added(_mapper: Any, connection: Any, post: Post) -> None:
    connection.execute(_FAN_OUT, {"post": post.id, "author": post.author_id, "bot": bool(post.author_is_bot)})


def copy_in(connection: Any, viewer_id: int, author_id: int, floor: int) -> None:
    """Copy `author_id`'s newest posts above `floor` into the viewer's feed; when there are more
    than CAP, raise the floor below the copied ones (older pages are merged instead)."""
    rows = connection.execute(_NEWEST_OF, {"author": author_id, "floor": floor, "cap": CAP}).all()
    if rows:
        connection.execute(
            ADD_ENTRY,
            [{"viewer": viewer_id, "post": r[0], "author": author_id, "bot": bool(r[1])} for r in rows],
        )
    if len(rows) >= CAP:
        connection.execute(_RAISE_FLOOR, {"viewer": viewer_id, "floor": rows[-1][0] - 1})


def _follow_added(_mapper: Any, connection: Any, follow: Follow) -> None:
    floor = connection.execute(
        sa.text("SELECT floor FROM home_feeds WHERE viewer_id = :v"), {"v": follow.follower_id}
    ).scalar()
    if floor is not None:
        copy_in(connection, follow.follower_id, follow.followee_id, int(floor))


def _follow_removed(_mapper: Any, connection: Any, follow: Follow) -> None:
    connection.execute(
        sa.text("DELETE FROM home_entries WHERE viewer_id = :v AND author_id = :a"),
        {"v": follow.follower_id, "a": follow.followee_id},
    )


event.listen(Post, "after_insert", _post_added)
event.listen(Follow, "after_insert", _follow_added)
event.listen(Follow, "after_delete", _follow_removed)
