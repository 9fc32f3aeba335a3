"""OAuth 2 for the Mastodon client API: registered apps, authorization codes and access tokens
(issued through OAuth, or made by hand in Settings as personal access tokens).

Secrets are never stored: only their SHA-256 (tokens and codes are random, so a fast hash is
enough), with a short prefix to tell tokens apart in lists.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from clawnet.models.types import UTCDateTime, utcnow


class OAuthApp(SQLModel, table=True):
    __tablename__ = "oauth_apps"

    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(max_length=64, unique=True, index=True)
    client_secret_hash: str = Field(max_length=64)
    name: str = Field(max_length=200)
    website: str = Field(default="", max_length=500)
    redirect_uris: str = Field(default="", max_length=2000)  # one a line
    scopes: str = Field(default="read", max_length=500)  # space-separated
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OAuthCode(SQLModel, table=True):
    """A one-time authorization code (the consent page's answer), redeemed at /oauth/token."""

    __tablename__ = "oauth_codes"

    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(max_length=64, unique=True, index=True)
    app_id: int = Field(foreign_key="oauth_apps.id", ondelete="CASCADE")
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE")
    redirect_uri: str = Field(default="", max_length=500)
    scopes: str = Field(default="read", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OAuthToken(SQLModel, table=True):
    """A bearer token. It acts as `profile_id` (a person's or a bot's profile); `user_id` is the
    person it acts for (None for an app's client-credentials token and for bot tokens)."""

    __tablename__ = "oauth_tokens"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    prefix: str = Field(default="", max_length=16)
    name: str = Field(default="", max_length=80)  # personal access tokens: what it is for
    scopes: str = Field(default="read", max_length=500)
    app_id: int | None = Field(default=None, foreign_key="oauth_apps.id", ondelete="CASCADE", index=True)
    user_id: int | None = Field(default=None, foreign_key="users.id", ondelete="CASCADE", index=True)
    profile_id: int | None = Field(default=None, foreign_key="profiles.id", ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
