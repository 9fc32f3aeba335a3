"""Accounts: register, sign in (throttled), login sessions, roles and bot assignments.

Sign-in happens in two steps because Reflex talks over a WebSocket, which cannot set an
HttpOnly cookie: `authenticate` checks the password and `issue_login_ticket` returns a one-time
ticket (60 s); the browser posts it to `/auth/session`, where `redeem_login_ticket` creates the
login session and the route sets the cookie. Only SHA-256 hashes of tickets and tokens are stored.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, func, select

from clawnet import audit
from clawnet.models import (
    Bot,
    BotAssignment,
    LoginFailure,
    LoginSession,
    LoginTicket,
    SystemFlag,
    User,
    utcnow,
)
from clawnet.models.enums import Role
from clawnet.security import passwords
from clawnet.security.permissions import Action, Principal, require
from clawnet.security.rate_limit import RateLimited, retry_after, wait_phrase
from clawnet.settings import Settings, get_settings
from clawnet.social import profiles

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
TICKET_TTL = timedelta(seconds=60)
SESSION_TOUCH_INTERVAL = timedelta(minutes=5)
FIRST_ADMIN_FLAG = "first_admin_claimed"


@dataclass
class FormErrors(Exception):
    """Problems with submitted fields: {field name: message}. Nothing was saved."""

    errors: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return "; ".join(f"{k}: {v}" for k, v in self.errors.items())


class AccountError(Exception):
    """An account operation was refused; the message is safe to show."""


def hash_secret(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def normalize_email(email: str) -> str:
    return email.strip().lower()


def email_problem(email: str) -> str | None:
    email = normalize_email(email)
    if not email:
        return "Enter your email address."
    if len(email) > 254 or not EMAIL_RE.fullmatch(email):
        return "Enter an email address like name@example.com."
    return None


def display_name_problem(name: str) -> str | None:
    name = name.strip()
    if not name:
        return "Enter a display name."
    if len(name) > 80:
        return "Use at most 80 characters."
    return None


# --- Registration ---------------------------------------------------------------------------


def _claim_first_admin(session: Session) -> bool:
    """True exactly once per installation: the caller's new account becomes the admin."""
    try:
        with session.begin_nested():
            session.add(SystemFlag(name=FIRST_ADMIN_FLAG, value="1"))
            session.flush()
    except IntegrityError:
        return False
    return True


def register(
    session: Session,
    *,
    email: str,
    display_name: str,
    password: str,
    handle: str,
    role: Role | None = None,
) -> User:
    """Create an account and its profile. The first account of an installation becomes admin;
    later ones are members until an admin gives them a role. Raises FormErrors."""
    errors: dict[str, str] = {}
    if problem := email_problem(email):
        errors["email"] = problem
    elif session.exec(select(User.id).where(User.email == normalize_email(email))).first():
        errors["email"] = "An account with this email already exists. Sign in instead."
    if problem := display_name_problem(display_name):
        errors["display_name"] = problem
    if problem := passwords.password_problem(password):
        errors["password"] = problem
    if problem := profiles.handle_problem(session, handle):
        errors["handle"] = problem
    if errors:
        raise FormErrors(errors)
    user = User(
        email=normalize_email(email),
        display_name=display_name.strip(),
        password_hash=passwords.hash_password(password),
        role=(role or Role.MEMBER).value,
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        raise FormErrors({"email": "An account with this email already exists. Sign in instead."}) from None
    if _claim_first_admin(session) or role is Role.ADMIN:
        user.role = Role.ADMIN.value
    profiles.create_person_profile(session, user, handle)
    audit.record(
        session,
        Principal.of(user),
        "user.register",
        "user",
        user.id,
        f"{user.email} registered as {user.role}",
        after={"role": user.role},
    )
    return user


def has_any_user(session: Session) -> bool:
    return session.exec(select(User.id).limit(1)).first() is not None


# --- Sign-in --------------------------------------------------------------------------------


def _throttle_check(session: Session, account_key: str, client_key: str, s: Settings) -> None:
    now = utcnow()
    window = timedelta(seconds=s.login_failure_window_s)
    since = now - window
    for column, key in ((LoginFailure.account_key, account_key), (LoginFailure.client_key, client_key)):
        if not key:
            continue
        count, oldest = session.exec(
            select(func.count(), func.min(LoginFailure.at)).where(column == key, LoginFailure.at > since)
        ).one()
        if count >= s.login_max_failures:
            wait = retry_after(oldest, window, now)
            raise RateLimited(f"Too many failed sign-in attempts. Try again in {wait_phrase(wait)}.", wait)


@dataclass(frozen=True)
class SignInOutcome:
    """The result of a sign-in attempt: a one-time ticket, or a message saying what failed."""

    ticket: str | None = None
    error: str = ""
    retry_after_s: float = 0.0


def sign_in(
    session: Session, email: str, password: str, client_ip: str, settings: Settings | None = None
) -> SignInOutcome:
    """Check a password and return a login ticket. Never raises for a failed attempt: the
    failure is recorded in the caller's transaction, which must commit.

    After too many failures (per account and per client, whichever comes first) the password
    is not even checked until the window passes. A wrong email and a wrong password get the same
    message, and take the same time."""
    s = settings or get_settings()
    account_key = normalize_email(email)
    client_key = (client_ip or "")[:64]
    try:
        _throttle_check(session, account_key, client_key, s)
    except RateLimited as exc:
        return SignInOutcome(error=str(exc), retry_after_s=exc.retry_after_s)
    user = session.exec(select(User).where(User.email == account_key)).first()
    ok = passwords.verify_password(password, user.password_hash if user else passwords.DUMMY_HASH)
    if not user or not ok:
        session.add(LoginFailure(account_key=account_key[:254], client_key=client_key))
        cutoff = utcnow() - timedelta(seconds=s.login_failure_window_s)
        session.exec(delete(LoginFailure).where(col(LoginFailure.at) < cutoff))
        return SignInOutcome(error="Wrong email or password.")
    if not user.is_active:
        return SignInOutcome(error="This account is deactivated. Ask an admin to reactivate it.")
    session.exec(delete(LoginFailure).where(col(LoginFailure.account_key) == account_key))
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    return SignInOutcome(ticket=issue_login_ticket(session, user))


def issue_login_ticket(session: Session, user: User) -> str:
    ticket = secrets.token_urlsafe(32)
    assert user.id is not None
    session.add(
        LoginTicket(ticket_hash=hash_secret(ticket), user_id=user.id, expires_at=utcnow() + TICKET_TTL)
    )
    return ticket


@dataclass(frozen=True)
class IssuedSession:
    token: str
    expires_at: datetime
    user_id: int


def redeem_login_ticket(
    session: Session,
    ticket: str,
    *,
    previous_token: str | None = None,
    user_agent: str = "",
    client_ip: str = "",
    settings: Settings | None = None,
) -> IssuedSession:
    """Turn a fresh ticket into a new login session (any session the browser had is revoked,
    so a token planted before sign-in is useless after it). Raises AccountError."""
    s = settings or get_settings()
    now = utcnow()
    row = session.exec(select(LoginTicket).where(LoginTicket.ticket_hash == hash_secret(ticket))).first()
    if row is None or row.used_at is not None or row.expires_at < now:
        raise AccountError("This sign-in link has expired. Sign in again.")
    # Mark used with a guarded UPDATE: two concurrent redemptions cannot both succeed.
    updated = session.exec(
        sa.update(LoginTicket)
        .where(col(LoginTicket.id) == row.id, col(LoginTicket.used_at).is_(None))
        .values(used_at=now)
    )
    if updated.rowcount != 1:
        raise AccountError("This sign-in link has expired. Sign in again.")
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise AccountError("This account is deactivated. Ask an admin to reactivate it.")
    if previous_token:
        revoke_session(session, previous_token)
    token = secrets.token_urlsafe(32)  # 256 random bits
    expires = now + timedelta(days=s.login_session_days)
    session.add(
        LoginSession(
            token_hash=hash_secret(token),
            user_id=row.user_id,
            expires_at=expires,
            user_agent=user_agent[:255],
            client_ip=client_ip[:64],
        )
    )
    user.last_login_at = now
    session.exec(delete(LoginTicket).where(col(LoginTicket.expires_at) < now - TICKET_TTL))
    return IssuedSession(token=token, expires_at=expires, user_id=row.user_id)


def principal_for_token(
    session: Session, token: str | None, settings: Settings | None = None
) -> Principal | None:
    """The principal of a valid, unexpired, unrevoked login session of an active user."""
    if not token or len(token) > 200:
        return None
    now = utcnow()
    row = session.exec(
        select(LoginSession, User)
        .join(User, col(User.id) == LoginSession.user_id)
        .where(LoginSession.token_hash == hash_secret(token))
    ).first()
    if row is None:
        return None
    login, user = row
    if login.revoked_at is not None or login.expires_at <= now or not user.is_active:
        return None
    if now - login.last_seen_at > SESSION_TOUCH_INTERVAL:
        s = settings or get_settings()
        ttl = timedelta(days=s.login_session_days)
        login.last_seen_at = now
        if login.expires_at - now < ttl / 2:  # sliding expiry for people who keep using it
            login.expires_at = now + ttl
        session.add(login)
    return Principal.of(user)


def revoke_session(session: Session, token: str) -> None:
    session.exec(
        sa.update(LoginSession)
        .where(col(LoginSession.token_hash) == hash_secret(token), col(LoginSession.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )


def revoke_all_sessions(session: Session, user_id: int) -> None:
    session.exec(
        sa.update(LoginSession)
        .where(col(LoginSession.user_id) == user_id, col(LoginSession.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )


# --- Administration -------------------------------------------------------------------------


@dataclass(frozen=True)
class UserSummary:
    id: int
    email: str
    display_name: str
    role: str
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None
    bot_ids: tuple[int, ...]


def list_users(session: Session, actor: Principal | None) -> list[UserSummary]:
    require(session, actor, Action.MANAGE_USERS)
    users = session.exec(select(User).order_by(col(User.created_at))).all()
    assignments: dict[int, list[int]] = {}
    for a in session.exec(select(BotAssignment)).all():
        assignments.setdefault(a.user_id, []).append(a.bot_id)
    return [
        UserSummary(
            u.id or 0,
            u.email,
            u.display_name,
            u.role,
            u.is_active,
            u.created_at,
            u.last_login_at,
            tuple(sorted(assignments.get(u.id or 0, []))),
        )
        for u in users
    ]


def _active_admin_count(session: Session) -> int:
    return session.exec(
        select(func.count()).select_from(User).where(User.role == Role.ADMIN.value, User.is_active == True)  # noqa: E712
    ).one()


def set_role(session: Session, actor: Principal | None, user_id: int, role: str) -> User:
    actor = require(session, actor, Action.MANAGE_USERS)
    try:
        new_role = Role(role)
    except ValueError:
        raise AccountError(f"Unknown role {role!r}: choose admin, operator, viewer or member.") from None
    user = session.get(User, user_id)
    if user is None:
        raise AccountError("No such user.")
    old_role = user.role
    if old_role == new_role.value:
        return user
    if old_role == Role.ADMIN.value and user.is_active and _active_admin_count(session) <= 1:
        raise AccountError("This is the last admin: make someone else admin first.")
    user.role = new_role.value
    session.add(user)
    audit.record(
        session,
        actor,
        "user.role",
        "user",
        user.id,
        f"{user.email}: {old_role} -> {new_role.value}",
        before={"role": old_role},
        after={"role": new_role.value},
    )
    return user


def set_active(session: Session, actor: Principal | None, user_id: int, active: bool) -> User:
    actor = require(session, actor, Action.MANAGE_USERS)
    user = session.get(User, user_id)
    if user is None:
        raise AccountError("No such user.")
    if user.id == actor.user_id and not active:
        raise AccountError("You cannot deactivate your own account.")
    if not active and user.role == Role.ADMIN.value and user.is_active and _active_admin_count(session) <= 1:
        raise AccountError("This is the last admin: make someone else admin first.")
    before = user.is_active
    user.is_active = active
    session.add(user)
    if not active:
        revoke_all_sessions(session, user_id)
    audit.record(
        session,
        actor,
        "user.active",
        "user",
        user.id,
        f"{user.email}: {'reactivated' if active else 'deactivated'}",
        before={"active": before},
        after={"active": active},
    )
    return user


def set_bot_assignments(
    session: Session, actor: Principal | None, user_id: int, bot_ids: list[int]
) -> list[int]:
    """Replace the set of bots assigned to a user."""
    actor = require(session, actor, Action.MANAGE_USERS)
    user = session.get(User, user_id)
    if user is None:
        raise AccountError("No such user.")
    wanted = set(bot_ids)
    existing_bots = (
        set(session.exec(select(Bot.id).where(col(Bot.id).in_(wanted))).all()) if wanted else set()
    )
    if missing := wanted - existing_bots:
        raise AccountError(f"No bot with id {', '.join(map(str, sorted(missing)))}.")
    current = {
        a.bot_id: a for a in session.exec(select(BotAssignment).where(BotAssignment.user_id == user_id)).all()
    }
    for bot_id in wanted - current.keys():
        session.add(BotAssignment(user_id=user_id, bot_id=bot_id))
    for bot_id in current.keys() - wanted:
        session.delete(current[bot_id])
    if wanted != set(current):
        audit.record(
            session,
            actor,
            "user.assignments",
            "user",
            user_id,
            f"{user.email}: bots {sorted(wanted)}",
            before={"bots": sorted(current)},
            after={"bots": sorted(wanted)},
        )
    return sorted(wanted)
