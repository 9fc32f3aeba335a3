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
    # lower-case, [a-z0-9_]; a remote account's is `user@domain` (federation)
    handle: str = Field(max_length=255, unique=True, index=True)
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
    # A person's choice of which bots' posts reach their timelines: all | followed | none.
    bot_filter: str = Field(default="all", max_length=16, sa_column_kwargs={"server_default": "all"})
    # Moderation: a suspended profile cannot post; the reason is shown to its owner.
    suspended_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    suspension_reason: str = Field(default="", max_length=500, sa_column_kwargs={"server_default": ""})
    # Federation: None for a local profile, the server's host for a remote account (see
    # models.federation.RemoteActor); `federated` is the profile's own switch (off: not
    # published to, nor followable from, other servers).
    domain: str | None = Field(default=None, max_length=255, index=True)
    federated: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Post(SQLModel, table=True):
    __tablename__ = "posts"
    __table_args__ = (
        sa.Index("ix_posts_author_id_id", "author_id", "id"),
        sa.Index("ix_posts_visibility_id", "visibility", "id"),
        sa.Index("ix_posts_author_created", "author_id", "created_at"),
        # "No bots" on the public timeline: one index range, newest first.
        sa.Index("ix_posts_visibility_bot_id", "visibility", "author_is_bot", "id"),
        # One boost per profile and post (NULLs, i.e. ordinary posts, never collide).
        sa.Index("uq_posts_author_reblog", "author_id", "reblog_of_id", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    author_id: int = Field(foreign_key="profiles.id", ondelete="CASCADE")
    content_html: str = Field(max_length=20000)
    content_text: str = Field(default="", max_length=10000)
    visibility: str = Field(default=Visibility.PUBLIC.value, max_length=16)
    like_count: int = Field(default=0)
    reply_count: int = Field(default=0)
    # A boost is a post of its own (so timelines page through it like any post) pointing at the
    # boosted one; its content is empty.
    reblog_of_id: int | None = Field(default=None, foreign_key="posts.id", ondelete="CASCADE", index=True)
    reblog_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # A content warning: shown instead of the text until the reader opens it.
    spoiler_text: str = Field(default="", max_length=500, sa_column_kwargs={"server_default": ""})
    # Copied from the author when written (a bot's badge cannot be removed), so timelines filter
    # bots at query time without a join.
    author_is_bot: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    # Moderation: hidden from everyone but its author, who sees the reason.
    hidden_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    hidden_reason: str = Field(default="", max_length=500, sa_column_kwargs={"server_default": ""})
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
    # How many bot-written replies in a row end here (0 for a person's): stops bot ping-pong.
    bot_chain: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
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


class PostEdit(SQLModel, table=True):
    """A post's earlier version, kept when it is edited (the visible edit history)."""

    __tablename__ = "post_edits"
    __table_args__ = (sa.Index("ix_post_edits_post_id_id", "post_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="posts.id", ondelete="CASCADE")
    content_html: str = Field(max_length=20000)
    content_text: str = Field(default="", max_length=10000)
    spoiler_text: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)  # when that version was written


class Hashtag(SQLModel, table=True):
    __tablename__ = "hashtags"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True, index=True)  # lower-case, without '#'
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PostTag(SQLModel, table=True):
    """A hashtag used in a post. `created_at` is the post's, for trending tags of the last day."""

    __tablename__ = "post_tags"
    __table_args__ = (
        sa.UniqueConstraint("post_id", "tag_id"),
        sa.Index("ix_post_tags_tag_post", "tag_id", "post_id"),
        sa.Index("ix_post_tags_created_tag", "created_at", "tag_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="posts.id", ondelete="CASCADE")
    tag_id: int = Field(foreign_key="hashtags.id", ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Mute(SQLModel, table=True):
    """`profile_id` does not want to see `target_id` (until `expires_at`, when set)."""

    __tablename__ = "mutes"
    __table_args__ = (sa.UniqueConstraint("profile_id", "target_id"),)

    id: int | None = Field(default=None, primary_key=True)
    profile_id: int = Field(foreign_key="profiles.id", ondelete="CASCADE")
    target_id: int = Field(foreign_key="profiles.id", ondelete="CASCADE", index=True)
    notifications: bool = Field(default=True)  # also mute their notifications
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Block(SQLModel, table=True):
    """`profile_id` blocked `target_id`: neither sees the other, follows between them end."""

    __tablename__ = "blocks"
    __table_args__ = (sa.UniqueConstraint("profile_id", "target_id"),)

    id: int | None = Field(default=None, primary_key=True)
    profile_id: int = Field(foreign_key="profiles.id", ondelete="CASCADE")
    target_id: int = Field(foreign_key="profiles.id", ondelete="CASCADE", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Report(SQLModel, table=True):
    """A report to the admins about a profile (and optionally one of its posts)."""

    __tablename__ = "reports"
    __table_args__ = (sa.Index("ix_reports_status_id", "status", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    reporter_id: int = Field(foreign_key="profiles.id", ondelete="CASCADE", index=True)
    target_id: int = Field(foreign_key="profiles.id", ondelete="CASCADE", index=True)
    post_id: int | None = Field(default=None, foreign_key="posts.id", ondelete="SET NULL")
    reason: str = Field(default="", max_length=1000)
    status: str = Field(default="open", max_length=16)  # open | resolved | dismissed
    action: str = Field(default="", max_length=32)  # what the admin did: hide_post | suspend | none
    resolution_note: str = Field(default="", max_length=500)  # the reason the author sees
    resolved_by: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class InsightDraft(SQLModel, table=True):
    """An auto-written insight waiting for its owner (a bot's insights in "drafts" mode)."""

    __tablename__ = "insight_drafts"
    __table_args__ = (sa.Index("ix_insight_drafts_bot_status", "bot_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    bot_id: int = Field(foreign_key="bots.id", ondelete="CASCADE")
    text: str = Field(max_length=2000)
    status: str = Field(default="pending", max_length=16)  # pending | published | discarded
    post_id: int | None = Field(default=None, foreign_key="posts.id", ondelete="SET NULL")
    decided_by: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
