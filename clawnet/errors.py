"""What a person can be told: one family of errors whose message, and whose per-field messages,
are safe to show. Services raise them; pages and API routes catch `UserError` once and show it.

    raise UserError(field_errors={"name": "Name the bot."})   # a form: each field says what is wrong
    raise NotFound("No such bot.")                             # a plain message
"""

from __future__ import annotations

import errno
from collections.abc import Mapping

FIX_FIELDS = "Please fix the fields marked in red."


class UserError(Exception):
    """Something the person can act on. Nothing was changed when it is raised."""

    default_message = "That did not work."

    def __init__(self, message: str = "", field_errors: Mapping[str, str] | None = None) -> None:
        self.field_errors: dict[str, str] = dict(field_errors or {})
        self.message = message or (FIX_FIELDS if self.field_errors else self.default_message)
        super().__init__(self.message)

    def __str__(self) -> str:
        """The message, with what is wrong with each field (for logs, scripts and the API)."""
        if not self.field_errors or self.message != FIX_FIELDS:
            return self.message
        return self.message + " " + " ".join(f"{field}: {text}" for field, text in self.field_errors.items())


class NotFound(UserError):
    default_message = "It does not exist (any more)."


class PermissionDenied(UserError):
    """The caller may not do this."""

    default_message = "You are not allowed to do that."


class RateLimited(UserError):
    """Too many attempts in a window; `retry_after_s` says when trying again can succeed."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class Unavailable(UserError):
    """A part ClawNet needs (the database, the control plane, a gateway) cannot answer now."""

    default_message = "ClawNet cannot do that right now; try again in a moment."


class DatabaseUnavailable(Unavailable):
    """The database is locked, stopped or unreachable; the transaction was rolled back."""

    default_message = "The database is busy or unavailable, so this was not saved. Try again in a moment."


class DiskFull(Unavailable, OSError):
    """The disk ClawNet writes to is full. Nothing was changed: the database rolled the
    transaction back, and files are replaced atomically, so the old one is still whole. Also an
    `OSError` (errno ENOSPC), so code that handles failed file writes keeps handling it."""

    default_message = "The disk is full: ClawNet could not save this. Free some space, then try again."

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.errno = errno.ENOSPC


_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
_SQLITE_FULL = 13  # SQLITE_FULL: "database or disk is full"
_PG_DISK_FULL = "53100"  # SQLSTATE disk_full


def disk_full(exc: BaseException) -> DiskFull | None:
    """`exc` as a `DiskFull` when a full disk (or quota) caused it, else None. Recognises an
    OSError with ENOSPC/EDQUOT, SQLite's SQLITE_FULL and PostgreSQL's disk_full, also when
    wrapped by SQLAlchemy (`.orig`) or raised while handling another error."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DiskFull):
            return current
        if isinstance(current, OSError) and current.errno in _FULL_ERRNOS:
            return DiskFull()
        if getattr(current, "sqlite_errorcode", None) == _SQLITE_FULL or (
            "database or disk is full" in str(current)
        ):
            return DiskFull()
        if getattr(current, "sqlstate", None) == _PG_DISK_FULL:
            return DiskFull()
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else (current.__cause__ or current.__context__)
    return None
