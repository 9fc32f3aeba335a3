"""The social network: profiles (people and bots), posts, threaded comments, likes, follows,
notifications and media.

Post, comment and bio HTML is stored already sanitized (see `clawnet.security.sanitize`).
Counters (followers, likes, replies) are kept on the rows so timelines never count.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from clawnet.enums import Visibility
from clawnet.models.types import UTCDateTime, utcnow


class Profile(SQLModel, table=True):
    """A person's or a bot's public face. A bot profile names its owning account."""

    __tablename__ = "profiles"

    id: int | None = Field(default=None, primary_key=True)
    handle: str = Field(max_length=30, unique=True, index=True)  # lower-case, [a-z0-9_]
    display_name: str = Field(max_length=80)
    bio_html: str = Field(default="", max_length=4000)
    avatar_path: str = Field(default="", max_length=500)
    is_bot: bool = Field(default=False)
    # A person's profile: their account. A bot's profile: the bot's owner.
    user_id: int | None = Field(default=None, foreign_key="users.id", ondelete="CASCADE", index=True)
    bot_id: int | None = Field(default=None, foreign_key="bots.id", ondelete="CASCADE", unique=True)
    followers_count: int = Field(default=0)
    following_count: int = Field(default=0)
    posts_count: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Post(SQLModel, table=True):
    __tablename__ = "posts"
    __table_args__ = (
        sa.Index("ix_posts_author_id_id", "author_id", "id"),
        sa.Index("ix_posts_visibility_id", "visibility", "id"),
        sa.Index("ix_posts_author_created", "author_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    author_id: int = Field(foreign_key="profiles.id", ondelete="CASCADE")
    content_html: str = Field(max_length=20000)
    content_text: str = Field(default="", max_length=10000)
    visibility: str = Field(default=Visibility.PUBLIC.value, max_length=16)
    like_count: int = Field(default=0)
    reply_count: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    edited_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Comment(SQLModel, table=True):
    """A reply to a post, or to another comment of the same post (threaded)."""

    __tablename__ = "comments"
    __table_args__ = (sa.Index("ix_comments_post_id_id", "post_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="posts.id", ondelete="CASCADE")
    author_id: int = Field(foreign_key="profiles.id", ondelete="CASCADE", index=True)
    parent_id: int | None = Field(default=None, foreign_key="comments.id", ondelete="CASCADE")
    content_html: str = Field(max_length=20000)
    content_text: str = Field(default="", max_length=10000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    edited_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Like(SQLModel, table=True):
    __tablename__ = "likes"
    __table_args__ = (sa.UniqueConstraint("profile_id", "post_id"),)

    id: int | None = Field(default=None, primary_key=True)
    profile_id: int = Field(foreign_key="profiles.id", ondelete="CASCADE")
    post_id: int = Field(foreign_key="posts.id", ondelete="CASCADE", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Follow(SQLModel, table=True):
    __tablename__ = "follows"
    __table_args__ = (
        sa.UniqueConstraint("follower_id", "followee_id"),
        sa.Index("ix_follows_followee", "followee_id", "follower_id"),
        sa.Index("ix_follows_follower_created", "follower_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    follower_id: int = Field(foreign_key="profiles.id", ondelete="CASCADE")
    followee_id: int = Field(foreign_key="profiles.id", ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Notification(SQLModel, table=True):
    """Tells a profile that someone liked, replied to, followed or mentioned it."""

    __tablename__ = "notifications"
    __table_args__ = (
        sa.Index("ix_notifications_recipient_id", "recipient_id", "id"),
        sa.Index("ix_notifications_recipient_unread", "recipient_id", "read_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    recipient_id: int = Field(foreign_key="profiles.id", ondelete="CASCADE")
    kind: str = Field(max_length=16)
    actor_id: int = Field(foreign_key="profiles.id", ondelete="CASCADE")
    post_id: int | None = Field(default=None, foreign_key="posts.id", ondelete="CASCADE")
    comment_id: int | None = Field(default=None, foreign_key="comments.id", ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Media(SQLModel, table=True):
    """An uploaded image (post attachment or avatar), stored under the data folder."""

    __tablename__ = "media"

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="profiles.id", ondelete="CASCADE", index=True)
    post_id: int | None = Field(default=None, foreign_key="posts.id", ondelete="CASCADE", index=True)
    path: str = Field(max_length=500)
    mime_type: str = Field(max_length=64)
    size_bytes: int = Field()
    width: int = Field(default=0)
    height: int = Field(default=0)
    alt_text: str = Field(default="", max_length=1000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PostMention(SQLModel, table=True):
    """A profile mentioned in a post: notified, and able to see it even if followers-only."""

    __tablename__ = "post_mentions"
    __table_args__ = (sa.UniqueConstraint("post_id", "profile_id"),)

    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="posts.id", ondelete="CASCADE")
    profile_id: int = Field(foreign_key="profiles.id", ondelete="CASCADE", index=True)


class BotApiToken(SQLModel, table=True):
    """Lets a script post as a bot through the HTTP API. Only a SHA-256 of the token is kept."""

    __tablename__ = "bot_api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    bot_id: int = Field(foreign_key="bots.id", ondelete="CASCADE", index=True)
    name: str = Field(max_length=80)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    prefix: str = Field(max_length=16)
    created_by: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
