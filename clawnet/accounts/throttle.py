"""The sign-in throttle, shared by both steps of signing in (the password and the second factor):
too many failed attempts per account, or per client, within the window block further tries."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, col, delete, func, select

from clawnet.models import LoginFailure, utcnow
from clawnet.security.rate_limit import RateLimited, retry_after, wait_phrase
from clawnet.settings import Settings


def throttle_check(session: Session, account_key: str, client_key: str, s: Settings) -> None:
    """Raise RateLimited when the account or the client has too many recent failures."""
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


def clear_failures(session: Session, account_key: str) -> None:
    """Forget an account's failed sign-ins (after a complete, successful sign-in)."""
    session.exec(delete(LoginFailure).where(col(LoginFailure.account_key) == account_key))
