"""Accounts: users, their bot assignments, login sessions, login throttling, audit events."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from clawnet.enums import Role
from clawnet.models.types import UTCDateTime, utcnow


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)  # stored lower-cased
    display_name: str = Field(max_length=80)
    password_hash: str = Field(max_length=255)
    role: str = Field(default=Role.MEMBER.value, max_length=16)
    is_active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Account security (issue 14): verified email, TOTP two-factor sign-in.
    email_verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    totp_secret_enc: str = Field(default="", max_length=255)  # sealed; pending until enabled
    totp_enabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    totp_last_step: int = Field(default=0)  # the last accepted time step: a code works once


class BotAssignment(SQLModel, table=True):
    """Gives an operator (act) or a viewer (read) access to one bot."""

    __tablename__ = "bot_assignments"
    __table_args__ = (sa.UniqueConstraint("user_id", "bot_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    bot_id: int = Field(foreign_key="bots.id", ondelete="CASCADE", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LoginSession(SQLModel, table=True):
    """A signed-in browser. Only a SHA-256 of the random token is stored."""

    __tablename__ = "login_sessions"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    user_agent: str = Field(default="", max_length=255)
    client_ip: str = Field(default="", max_length=64)


class LoginTicket(SQLModel, table=True):
    """A one-time, short-lived proof of a successful password check.

    The login form is checked over Reflex's WebSocket, which cannot set an HttpOnly cookie;
    the browser then posts this ticket to an HTTP route that sets the cookie.
    """

    __tablename__ = "login_tickets"

    id: int | None = Field(default=None, primary_key=True)
    ticket_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoginFailure(SQLModel, table=True):
    """One failed password check, kept for the throttle window."""

    __tablename__ = "login_failures"
    __table_args__ = (
        sa.Index("ix_login_failures_account_at", "account_key", "at"),
        sa.Index("ix_login_failures_client_at", "client_key", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_key: str = Field(max_length=254)
    client_key: str = Field(max_length=64)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AuditEvent(SQLModel, table=True):
    """Who did what to which object, when, and what changed."""

    __tablename__ = "audit_events"
    __table_args__ = (sa.Index("ix_audit_events_object", "object_type", "object_id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    actor_label: str = Field(default="system", max_length=254)
    action: str = Field(max_length=64, index=True)
    object_type: str = Field(max_length=32)
    object_id: str = Field(default="", max_length=64)
    summary: str = Field(default="", max_length=500)
    before: dict | None = Field(default=None, sa_type=sa.JSON)
    after: dict | None = Field(default=None, sa_type=sa.JSON)


class SystemFlag(SQLModel, table=True):
    """Once-only facts about the installation, e.g. that the first admin was claimed.

    Inserting a flag is atomic on every database (primary key), which settles races such as
    two people registering first at the same moment.
    """

    __tablename__ = "system_flags"

    name: str = Field(primary_key=True, max_length=64)
    value: str = Field(default="", max_length=255)
    set_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AccountToken(SQLModel, table=True):
    """A one-time, expiring link sent by email: a password reset or an email verification.
    Only a SHA-256 of the random token is stored."""

    __tablename__ = "account_tokens"

    id: int | None = Field(default=None, primary_key=True)
    purpose: str = Field(max_length=16)  # reset | verify
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    email: str = Field(default="", max_length=254)  # the address it was sent to
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RecoveryCode(SQLModel, table=True):
    """A two-factor recovery code (a SHA-256 of it), usable once."""

    __tablename__ = "recovery_codes"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    code_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class TwoFactorChallenge(SQLModel, table=True):
    """The password was right; the second factor is still due (short-lived, few attempts)."""

    __tablename__ = "two_factor_challenges"

    id: int | None = Field(default=None, primary_key=True)
    challenge_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    attempts: int = Field(default=0)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
