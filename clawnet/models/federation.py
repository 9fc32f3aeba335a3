"""Federation (ActivityPub): local actors' keys, remote actors, the objects exchanged, the
persistent delivery queue, the hosts it talks to, and the inbox's record of activities seen.

A remote account is a `Profile` like any other (its `domain` set, its handle `user@domain`), so
timelines, follows, likes, notifications, mutes and blocks work on it unchanged; `RemoteActor`
holds what ActivityPub needs to talk to it. Remote notes become `Post`s (or `Comment`s when they
answer one), mapped by `ApObject` from their ActivityPub id.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from clawnet.models.types import UTCDateTime, utcnow


class ActorKey(SQLModel, table=True):
    """A local profile's RSA key pair for HTTP Signatures; the private half encrypted like every
    other secret (`clawnet.security.crypto`)."""

    __tablename__ = "ap_actor_keys"

    id: int | None = Field(default=None, primary_key=True)
    profile_id: int = Field(foreign_key="profiles.id", ondelete="CASCADE", unique=True)
    public_key_pem: str = Field(sa_type=sa.Text)
    private_key_enc: str = Field(sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class InstanceKey(SQLModel, table=True):
    """The instance actor's RSA key pair (one row, id 1), for signing fetches ("authorized
    fetch"); the private half encrypted like every other secret."""

    __tablename__ = "ap_instance_keys"

    id: int | None = Field(default=None, primary_key=True)
    public_key_pem: str = Field(sa_type=sa.Text)
    private_key_enc: str = Field(sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RemoteActor(SQLModel, table=True):
    """An account on another server, as last fetched; its local stand-in is `profile_id`."""

    __tablename__ = "ap_remote_actors"

    id: int | None = Field(default=None, primary_key=True)
    profile_id: int = Field(foreign_key="profiles.id", ondelete="CASCADE", unique=True)
    actor_uri: str = Field(max_length=2000, unique=True, index=True)
    domain: str = Field(max_length=255, index=True)
    username: str = Field(max_length=255)
    actor_type: str = Field(default="Person", max_length=32)  # Person, Service, Application, ...
    inbox_url: str = Field(max_length=2000)
    shared_inbox_url: str = Field(default="", max_length=2000)
    outbox_url: str = Field(default="", max_length=2000)
    followers_url: str = Field(default="", max_length=2000)
    url: str = Field(default="", max_length=2000)  # the profile's page for people
    key_id: str = Field(default="", max_length=2000, index=True)
    public_key_pem: str = Field(default="", sa_type=sa.Text)
    fetched_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ApObject(SQLModel, table=True):
    """An ActivityPub id and the local row it became (a post, a boost post, or a comment)."""

    __tablename__ = "ap_objects"

    id: int | None = Field(default=None, primary_key=True)
    ap_id: str = Field(max_length=2000, unique=True, index=True)
    post_id: int | None = Field(default=None, foreign_key="posts.id", ondelete="CASCADE", index=True)
    comment_id: int | None = Field(default=None, foreign_key="comments.id", ondelete="CASCADE", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Delivery(SQLModel, table=True):
    """One activity to POST to one inbox, signed as `sender_profile_id`. Kept until delivered or
    given up on; retried with backoff (`next_attempt_at`)."""

    __tablename__ = "ap_deliveries"
    __table_args__ = (sa.Index("ix_ap_deliveries_due", "state", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    activity_id: str = Field(max_length=2000)
    inbox_url: str = Field(max_length=2000)
    host: str = Field(max_length=255, index=True)
    sender_profile_id: int = Field(foreign_key="profiles.id", ondelete="CASCADE")
    body: str = Field(sa_type=sa.Text)  # the activity's JSON, exactly as signed and sent
    state: str = Field(default="pending", max_length=16)  # pending | done | dead
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_error: str = Field(default="", max_length=1000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class FederationHost(SQLModel, table=True):
    """A server ClawNet talks to: its health as deliveries see it, and an admin's block."""

    __tablename__ = "ap_hosts"

    id: int | None = Field(default=None, primary_key=True)
    host: str = Field(max_length=255, unique=True, index=True)
    blocked: bool = Field(default=False)
    block_reason: str = Field(default="", max_length=500)
    failures: int = Field(default=0)  # consecutive failed deliveries
    first_failure_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str = Field(default="", max_length=1000)
    last_success_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    dead_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # given up on
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class InboxSeen(SQLModel, table=True):
    """Activity ids the inbox has applied: a repeat is acknowledged and ignored."""

    __tablename__ = "ap_inbox_seen"

    id: int | None = Field(default=None, primary_key=True)
    activity_id: str = Field(max_length=2000, unique=True, index=True)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
