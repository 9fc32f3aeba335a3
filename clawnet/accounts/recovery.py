"""One-time links sent by email: password resets and email verification.

A link carries 256 random bits; only their SHA-256 is stored, looked up by that hash (so no
comparison of secrets happens in Python), used once (a guarded UPDATE), and it expires. Asking
for a reset says the same thing whether or not the address has an account."""

from __future__ import annotations

import secrets
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from clawnet import audit
from clawnet.accounts.registration import email_problem, hash_secret, normalize_email
from clawnet.accounts.sign_in import revoke_all_sessions
from clawnet.accounts.two_factor import me
from clawnet.errors import UserError
from clawnet.models import AccountToken, LoginFailure, User, utcnow
from clawnet.security import passwords
from clawnet.security.permissions import Principal

RESET = "reset"
VERIFY = "verify"
RESET_TTL = timedelta(hours=1)
VERIFY_TTL = timedelta(days=3)
RESENDS_PER_HOUR = 3
EXPIRED_LINK = "This link has expired or was already used. Ask for a new one."


def issue_token(session: Session, user: User, purpose: str) -> str:
    """A new link token for `user`; earlier unused links of the same purpose stop working."""
    assert user.id is not None
    now = utcnow()
    session.exec(
        sa.update(AccountToken)
        .where(
            col(AccountToken.user_id) == user.id,
            col(AccountToken.purpose) == purpose,
            col(AccountToken.used_at).is_(None),
        )
        .values(used_at=now)
    )
    session.exec(sa.delete(AccountToken).where(col(AccountToken.expires_at) < now - timedelta(days=7)))
    token = secrets.token_urlsafe(32)
    ttl = RESET_TTL if purpose == RESET else VERIFY_TTL
    session.add(
        AccountToken(
            purpose=purpose,
            token_hash=hash_secret(token),
            user_id=user.id,
            email=user.email,
            expires_at=now + ttl,
        )
    )
    session.flush()
    return token


def _live_token(session: Session, purpose: str, token: str) -> AccountToken | None:
    if not token or len(token) > 200:
        return None
    row = session.exec(select(AccountToken).where(AccountToken.token_hash == hash_secret(token))).first()
    if row is None or row.purpose != purpose or row.used_at is not None or row.expires_at <= utcnow():
        return None
    return row


def _consume(session: Session, row: AccountToken) -> None:
    updated = session.exec(
        sa.update(AccountToken)
        .where(col(AccountToken.id) == row.id, col(AccountToken.used_at).is_(None))
        .values(used_at=utcnow())
    )
    if updated.rowcount != 1:
        raise UserError(EXPIRED_LINK)


# --- password reset ----------------------------------------------------------------------------


def request_reset(session: Session, email: str) -> tuple[str, str] | None:
    """(address, token) to mail when `email` belongs to an active account, else None. The caller
    answers the same either way."""
    user = session.exec(select(User).where(User.email == normalize_email(email))).first()
    if user is None or not user.is_active:
        return None
    return user.email, issue_token(session, user, RESET)


def reset_link_valid(session: Session, token: str) -> bool:
    return _live_token(session, RESET, token) is not None


def reset_password(session: Session, token: str, password: str, confirm: str | None = None) -> int:
    """Set a new password with a reset link (once), and sign the person out everywhere.
    Returns the user id. Raises UserError (by field for the password)."""
    row = _live_token(session, RESET, token)
    if row is None:
        raise UserError(EXPIRED_LINK)
    if problem := passwords.password_problem(password):
        raise UserError(field_errors={"password": problem})
    if confirm is not None and confirm != password:
        raise UserError(field_errors={"confirm": "The two passwords differ."})
    user = session.get(User, row.user_id)
    if user is None or not user.is_active or user.email != row.email:
        raise UserError(EXPIRED_LINK)
    _consume(session, row)
    user.password_hash = passwords.hash_password(password)
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()  # the link reached this address
    session.add(user)
    revoke_all_sessions(session, user.id or 0)
    session.exec(sa.delete(LoginFailure).where(col(LoginFailure.account_key) == user.email))
    audit.record(
        session,
        Principal.of(user),
        "user.password_reset",
        "user",
        user.id,
        f"{user.email} reset the password",
    )
    return user.id or 0


# --- email verification ------------------------------------------------------------------------


def needs_verification(session: Session, user_id: int) -> bool:
    user = session.get(User, user_id)
    return user is not None and user.email_verified_at is None


def issue_verification(session: Session, user_id: int, *, limit: bool = True) -> tuple[str, str] | None:
    """(address, token) for a verification mail, or None when already verified. Raises UserError
    after `RESENDS_PER_HOUR` links in the last hour."""
    user = session.get(User, user_id)
    if user is None or user.email_verified_at is not None:
        return None
    if limit:
        recent = session.exec(
            select(func.count())
            .select_from(AccountToken)
            .where(
                AccountToken.user_id == user_id,
                AccountToken.purpose == VERIFY,
                col(AccountToken.created_at) > utcnow() - timedelta(hours=1),
            )
        ).one()
        if recent >= RESENDS_PER_HOUR:
            raise UserError("A link was sent several times in the last hour. Check your inbox, or try later.")
    return user.email, issue_token(session, user, VERIFY)


def verify_email(session: Session, token: str) -> str:
    """Mark the address a verification link was sent to as verified. Returns it."""
    row = _live_token(session, VERIFY, token)
    user = session.get(User, row.user_id) if row is not None else None
    if row is None or user is None or user.email != row.email:
        raise UserError(EXPIRED_LINK)
    _consume(session, row)
    user.email_verified_at = utcnow()
    session.add(user)
    audit.record(
        session, Principal.of(user), "user.email_verified", "user", user.id, f"{user.email} verified"
    )
    return user.email


def change_email(session: Session, actor: Principal | None, new_email: str, password: str) -> int:
    """Change the actor's own address (password needed); the new one is unconfirmed until its
    verification link is opened. Returns the user id. Raises UserError by field."""
    user = me(session, actor)
    address = normalize_email(new_email)
    errors: dict[str, str] = {}
    if problem := email_problem(address):
        errors["email"] = problem
    elif address == user.email:
        errors["email"] = "That is already your address."
    elif session.exec(select(User.id).where(User.email == address)).first():
        errors["email"] = "Another account uses this address."
    if not passwords.verify_password(password, user.password_hash):
        errors["password"] = "Wrong password."  # noqa: S105 (a message, not a password)
    if errors:
        raise UserError(field_errors=errors)
    old = user.email
    user.email, user.email_verified_at = address, None
    session.add(user)
    session.exec(  # links sent to the old address stop working
        sa.update(AccountToken)
        .where(col(AccountToken.user_id) == user.id, col(AccountToken.used_at).is_(None))
        .values(used_at=utcnow())
    )
    audit.record(
        session,
        actor,
        "user.email",
        "user",
        user.id,
        f"{old} -> {address}",
        before={"email": old},
        after={"email": address},
    )
    return user.id or 0
