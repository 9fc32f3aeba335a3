"""What a person can be told: one family of errors whose message, and whose per-field messages,
are safe to show. Services raise them; pages and API routes catch `UserError` once and show it.

    raise UserError(field_errors={"name": "Name the bot."})   # a form: each field says what is wrong
    raise NotFound("No such bot.")                             # a plain message
"""

from __future__ import annotations

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
