"""Password hashing with passlib's argon2 scheme (argon2-cffi underneath)."""

from __future__ import annotations

from passlib.context import CryptContext

MIN_LENGTH = 10
MAX_LENGTH = 256

_context = CryptContext(schemes=["argon2"], deprecated="auto")


def password_problem(password: str) -> str | None:
    """What is wrong with `password` as a new password, or None if it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    if password.strip() == "":
        return "A password cannot be only spaces."
    return None


def hash_password(password: str) -> str:
    return _context.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    """True if `password` matches. A malformed hash counts as a mismatch, never an error."""
    if not password_hash or len(password) > MAX_LENGTH:
        return False
    try:
        return bool(_context.verify(password, password_hash))
    except (ValueError, TypeError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash uses outdated parameters and should be replaced at the next login."""
    return bool(_context.needs_update(password_hash))


# A hash of a random password: verifying against it when an account does not exist costs the
# same time as a real check, so response time does not reveal which emails have accounts.
DUMMY_HASH = _context.hash("clawnet-no-such-account-0123456789")
