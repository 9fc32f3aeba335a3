"""Signing in, in two steps because Reflex talks over a WebSocket, which cannot set an HttpOnly
cookie: `sign_in` checks the password (throttled) and returns a one-time ticket (60 s); the
browser posts it to `/auth/session`, where `redeem_login_ticket` creates the login session and
the route sets the cookie. Only SHA-256 hashes of tickets and tokens are stored."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.cookies import CookieError, SimpleCookie

import sqlalchemy as sa
from sqlmodel import Session, col, delete, select

from clawnet import routes
from clawnet.accounts import two_factor
from clawnet.accounts.registration import hash_secret, normalize_email
from clawnet.accounts.throttle import clear_failures, throttle_check
from clawnet.errors import UserError
from clawnet.models import LoginFailure, LoginSession, LoginTicket, OAuthToken, Profile, User, utcnow
from clawnet.security import passwords
from clawnet.security.permissions import Principal
from clawnet.security.rate_limit import RateLimited
from clawnet.settings import Settings, get_settings

TICKET_TTL = timedelta(seconds=60)
SESSION_TOUCH_INTERVAL = timedelta(minutes=5)


def token_from_cookie_header(header: str) -> str | None:
    """The login session token in a request's Cookie header, if any."""
    if not header:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return None
    morsel = jar.get(routes.SESSION_COOKIE)
    return morsel.value if morsel else None


@dataclass(frozen=True)
class SignInOutcome:
    """The result of a sign-in attempt: a one-time ticket, or a message saying what failed."""

    ticket: str | None = None
    error: str = ""
    retry_after_s: float = 0.0
    challenge: str | None = None  # the password was right; a two-factor code is due (see two_factor)


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
        throttle_check(session, account_key, client_key, s)
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
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    if user.totp_enabled_at is not None:
        # The failures are cleared only once the second factor is right (complete_challenge):
        # a known password must not reset the throttle on guessing codes.
        return SignInOutcome(challenge=two_factor.start_challenge(session, user))
    clear_failures(session, account_key)
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
    so a token planted before sign-in is useless after it). Raises UserError."""
    s = settings or get_settings()
    now = utcnow()
    row = session.exec(select(LoginTicket).where(LoginTicket.ticket_hash == hash_secret(ticket))).first()
    if row is None or row.used_at is not None or row.expires_at < now:
        raise UserError("This sign-in link has expired. Sign in again.")
    # Mark used with a guarded UPDATE: two concurrent redemptions cannot both succeed.
    updated = session.exec(
        sa.update(LoginTicket)
        .where(col(LoginTicket.id) == row.id, col(LoginTicket.used_at).is_(None))
        .values(used_at=now)
    )
    if updated.rowcount != 1:
        raise UserError("This sign-in link has expired. Sign in again.")
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise UserError("This account is deactivated. Ask an admin to reactivate it.")
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
    """Sign a person out everywhere: their login sessions and their API tokens (OAuth and
    personal access tokens), so a password reset also shuts out whoever held a stolen token."""
    now = utcnow()
    session.exec(
        sa.update(LoginSession)
        .where(col(LoginSession.user_id) == user_id, col(LoginSession.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    person_profiles = select(Profile.id).where(
        col(Profile.user_id) == user_id,
        col(Profile.is_bot).is_(False),
    )
    session.exec(
        sa.update(OAuthToken)
        .where(
            sa.or_(col(OAuthToken.user_id) == user_id, col(OAuthToken.profile_id).in_(person_profiles)),
            col(OAuthToken.revoked_at).is_(None),
        )
        .values(revoked_at=now)
    )
