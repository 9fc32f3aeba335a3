"""Registration: new accounts and their profiles; the first account of an installation becomes
the administrator."""

from __future__ import annotations

import hashlib
import re

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from clawnet import audit
from clawnet.enums import Role
from clawnet.errors import UserError
from clawnet.models import SystemFlag, User
from clawnet.security import passwords
from clawnet.security.permissions import Principal
from clawnet.social import profiles

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
FIRST_ADMIN_FLAG = "first_admin_claimed"


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
    later ones are members until an admin gives them a role. Raises UserError (by field)."""
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
        raise UserError(field_errors=errors)
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
        raise UserError(
            field_errors={"email": "An account with this email already exists. Sign in instead."}
        ) from None
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
