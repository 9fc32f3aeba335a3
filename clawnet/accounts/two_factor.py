"""TOTP two-factor sign-in: setting it up (secret sealed with the key ring, confirmed by a code),
ten recovery codes (hashed, each usable once), turning it off (password and code), the sign-in
challenge after the password, and the admin's switch that requires it for admins and operators."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from clawnet import audit
from clawnet.accounts import totp
from clawnet.accounts.registration import hash_secret
from clawnet.accounts.throttle import clear_failures, throttle_check
from clawnet.enums import Role
from clawnet.errors import PermissionDenied, UserError
from clawnet.models import LoginFailure, RecoveryCode, SystemFlag, TwoFactorChallenge, User, utcnow
from clawnet.security import passwords
from clawnet.security.permissions import REQUIRE_2FA_FLAG, Action, Principal, require
from clawnet.security.rate_limit import RateLimited
from clawnet.security.secret_fields import TOTP_SECRET
from clawnet.settings import Settings, get_settings

CHALLENGE_TTL = timedelta(minutes=5)
MAX_ATTEMPTS = 5
REQUIRE_FLAG = REQUIRE_2FA_FLAG
STAFF_ROLES = (Role.ADMIN.value, Role.OPERATOR.value)
EXPIRED_CHALLENGE = "This sign-in has expired. Enter your email and password again."


def me(session: Session, actor: Principal | None) -> User:
    """The actor's own account (active), or PermissionDenied."""
    if actor is None:
        raise PermissionDenied("Sign in to do that.")
    user = session.get(User, actor.user_id)
    if user is None or not user.is_active:
        raise PermissionDenied("This account is deactivated.")
    return user


@dataclass(frozen=True)
class TwoFactorStatus:
    enabled: bool
    recovery_codes_left: int
    must_set_up: bool  # required for this person and not on yet
    required_for_staff: bool  # the installation's setting


@dataclass(frozen=True)
class TotpSetup:
    secret: str
    uri: str


def required_for_staff(session: Session) -> bool:
    flag = session.get(SystemFlag, REQUIRE_FLAG)
    return flag is not None and flag.value == "1"


def must_set_up(session: Session, user: User) -> bool:
    return user.totp_enabled_at is None and user.role in STAFF_ROLES and required_for_staff(session)


def status(session: Session, actor: Principal | None) -> TwoFactorStatus:
    user = me(session, actor)
    left = session.exec(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, col(RecoveryCode.used_at).is_(None))
    ).one()
    return TwoFactorStatus(
        enabled=user.totp_enabled_at is not None,
        recovery_codes_left=left if user.totp_enabled_at is not None else 0,
        must_set_up=must_set_up(session, user),
        required_for_staff=required_for_staff(session),
    )


def set_required(session: Session, actor: Principal | None, value: bool) -> None:
    actor = require(session, actor, Action.MANAGE_USERS)
    flag = session.get(SystemFlag, REQUIRE_FLAG) or SystemFlag(name=REQUIRE_FLAG)
    before = flag.value == "1"
    flag.value, flag.set_at = ("1" if value else "0"), utcnow()
    session.add(flag)
    if before != value:
        audit.record(
            session,
            actor,
            "settings.require_2fa",
            "system",
            REQUIRE_FLAG,
            f"two-factor sign-in {'required' if value else 'optional'} for admins and operators",
            before={"required": before},
            after={"required": value},
        )


def begin_setup(session: Session, actor: Principal | None) -> TotpSetup:
    """A new pending secret (sealed at rest); shown once, to its owner, until confirmed."""
    user = me(session, actor)
    if user.totp_enabled_at is not None:
        raise UserError("Two-factor sign-in is already on. Turn it off first to set up a new key.")
    secret = totp.new_secret()
    user.totp_secret_enc = TOTP_SECRET.seal(secret)
    session.add(user)
    return TotpSetup(secret=secret, uri=totp.provisioning_uri(secret, user.email))


def _new_recovery_codes(session: Session, user: User) -> list[str]:
    assert user.id is not None
    session.exec(sa.delete(RecoveryCode).where(col(RecoveryCode.user_id) == user.id))
    codes = totp.new_recovery_codes()
    for code in codes:
        session.add(RecoveryCode(user_id=user.id, code_hash=totp.hash_recovery_code(user.id, code)))
    return codes


def enable(session: Session, actor: Principal | None, code: str) -> list[str]:
    """Turn two-factor sign-in on with a code from the app; returns the recovery codes (shown once)."""
    user = me(session, actor)
    if user.totp_enabled_at is not None:
        raise UserError("Two-factor sign-in is already on.")
    if not user.totp_secret_enc:
        raise UserError("Start the setup first.")
    step = totp.verify(TOTP_SECRET.unseal(user.totp_secret_enc), code)
    if step is None:
        raise UserError(
            field_errors={"code": "That code does not match. Check the app's clock and try again."}
        )
    user.totp_enabled_at, user.totp_last_step = utcnow(), step
    session.add(user)
    codes = _new_recovery_codes(session, user)
    audit.record(
        session, actor, "user.2fa_enabled", "user", user.id, f"{user.email} turned on two-factor sign-in"
    )
    return codes


def _use_totp(session: Session, user: User, code: str) -> bool:
    if user.totp_enabled_at is None or not user.totp_secret_enc:
        return False
    step = totp.verify(TOTP_SECRET.unseal(user.totp_secret_enc), code, after_step=user.totp_last_step)
    if step is None:
        return False
    updated = session.exec(  # a code is accepted once, even by two requests at the same moment
        sa.update(User)
        .where(col(User.id) == user.id, col(User.totp_last_step) < step)
        .values(totp_last_step=step)
    )
    return updated.rowcount == 1


def _use_recovery_code(session: Session, user: User, code: str) -> bool:
    assert user.id is not None
    wanted = totp.hash_recovery_code(user.id, code)
    found: RecoveryCode | None = None
    for row in session.exec(
        select(RecoveryCode).where(RecoveryCode.user_id == user.id, col(RecoveryCode.used_at).is_(None))
    ).all():
        if hmac.compare_digest(row.code_hash, wanted):
            found = row
    if found is None:
        return False
    updated = session.exec(
        sa.update(RecoveryCode)
        .where(col(RecoveryCode.id) == found.id, col(RecoveryCode.used_at).is_(None))
        .values(used_at=utcnow())
    )
    return updated.rowcount == 1


def check_second_factor(session: Session, user: User, code: str) -> bool:
    """A current TOTP code (not used before) or an unused recovery code (consumed)."""
    code = code.strip()
    if not code or len(code) > 40:
        return False
    digits = "".join(code.split())
    if digits.isdigit() and len(digits) == totp.DIGITS:
        return _use_totp(session, user, digits)
    return _use_recovery_code(session, user, code)


def disable(session: Session, actor: Principal | None, password: str, code: str) -> None:
    user = me(session, actor)
    if user.totp_enabled_at is None:
        raise UserError("Two-factor sign-in is off.")
    errors: dict[str, str] = {}
    if not passwords.verify_password(password, user.password_hash):
        errors["password"] = "Wrong password."  # noqa: S105 (a message, not a password)
    elif not check_second_factor(session, user, code):
        errors["code"] = "Wrong code."
    if errors:
        raise UserError(field_errors=errors)
    if must_set_up_after_disable(session, user):
        raise UserError("Two-factor sign-in is required for your role: it cannot be turned off.")
    user.totp_enabled_at, user.totp_secret_enc, user.totp_last_step = None, "", 0
    session.add(user)
    session.exec(sa.delete(RecoveryCode).where(col(RecoveryCode.user_id) == user.id))
    audit.record(
        session, actor, "user.2fa_disabled", "user", user.id, f"{user.email} turned off two-factor sign-in"
    )


def must_set_up_after_disable(session: Session, user: User) -> bool:
    return user.role in STAFF_ROLES and required_for_staff(session)


# --- the sign-in challenge ---------------------------------------------------------------------


def start_challenge(session: Session, user: User) -> str:
    """A new sign-in challenge for `user`; any older one of theirs dies (one live challenge per
    person, so signing in again with the password does not buy fresh tries at the code)."""
    assert user.id is not None
    challenge = secrets.token_urlsafe(32)
    now = utcnow()
    session.exec(
        sa.delete(TwoFactorChallenge).where(
            sa.or_(
                col(TwoFactorChallenge.expires_at) < now - CHALLENGE_TTL,
                col(TwoFactorChallenge.user_id) == user.id,
            )
        )
    )
    session.add(
        TwoFactorChallenge(
            challenge_hash=hash_secret(challenge), user_id=user.id, expires_at=now + CHALLENGE_TTL
        )
    )
    return challenge


def complete_challenge(
    session: Session, challenge: str, code: str, client_ip: str = "", settings: Settings | None = None
) -> User | str:
    """The user whose challenge `code` answers, or a message saying why not. Never raises for a
    wrong code: the attempt is recorded in the caller's transaction (which must commit), and it
    counts towards the password throttle too. The throttle is checked first, as for passwords;
    the account's failures are cleared only when the code is right."""
    if not challenge or len(challenge) > 200:
        return EXPIRED_CHALLENGE
    row = session.exec(
        select(TwoFactorChallenge).where(TwoFactorChallenge.challenge_hash == hash_secret(challenge))
    ).first()
    if row is None or row.used_at is not None or row.expires_at <= utcnow() or row.attempts >= MAX_ATTEMPTS:
        return EXPIRED_CHALLENGE
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return "This account is deactivated. Ask an admin to reactivate it."
    client_key = (client_ip or "")[:64]
    try:
        throttle_check(session, user.email, client_key, settings or get_settings())
    except RateLimited as exc:
        return str(exc)
    if not check_second_factor(session, user, code):
        row.attempts += 1
        session.add(row)
        session.add(LoginFailure(account_key=user.email[:254], client_key=client_key))
        left = MAX_ATTEMPTS - row.attempts
        return "Wrong code." + (f" {left} tries left." if left else " Sign in again.")
    updated = session.exec(
        sa.update(TwoFactorChallenge)
        .where(col(TwoFactorChallenge.id) == row.id, col(TwoFactorChallenge.used_at).is_(None))
        .values(used_at=utcnow())
    )
    if updated.rowcount != 1:
        return EXPIRED_CHALLENGE
    clear_failures(session, user.email)
    return user
