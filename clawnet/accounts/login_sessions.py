"""A person's own login sessions: listed (device, when made, last seen, this one marked) and
revoked one by one or all but the current one."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col, select

from clawnet import audit
from clawnet.accounts.registration import hash_secret
from clawnet.accounts.two_factor import me
from clawnet.errors import NotFound
from clawnet.humanize import ago
from clawnet.models import LoginSession, utcnow
from clawnet.security.permissions import Principal


@dataclass(frozen=True)
class SessionRow:
    id: int
    device: str
    user_agent: str
    client_ip: str
    created: str
    last_seen: str
    current: bool


def describe_device(user_agent: str) -> str:
    """'Firefox on Linux' from a User-Agent header (a rough guess; the header is shown too)."""
    ua = user_agent or ""
    browser = next(
        (
            name
            for token, name in (
                ("Edg/", "Edge"),
                ("OPR/", "Opera"),
                ("Firefox/", "Firefox"),
                ("HeadlessChrome", "Headless Chrome"),
                ("Chrome/", "Chrome"),
                ("Chromium/", "Chromium"),
                ("Safari/", "Safari"),
                ("curl/", "curl"),
            )
            if token in ua
        ),
        "Unknown browser",
    )
    system = next(
        (
            name
            for token, name in (
                ("Android", "Android"),
                ("iPhone", "iPhone"),
                ("iPad", "iPad"),
                ("Windows", "Windows"),
                ("Mac OS X", "macOS"),
                ("CrOS", "ChromeOS"),
                ("Linux", "Linux"),
            )
            if token in ua
        ),
        "",
    )
    return f"{browser} on {system}" if system else browser


def _is_current(row: LoginSession, current_hash: str) -> bool:
    return bool(current_hash) and hmac.compare_digest(row.token_hash, current_hash)


def list_sessions(session: Session, actor: Principal | None, current_token: str | None) -> list[SessionRow]:
    user = me(session, actor)
    now = utcnow()
    current_hash = hash_secret(current_token) if current_token else ""
    rows = session.exec(
        select(LoginSession)
        .where(
            LoginSession.user_id == user.id,
            col(LoginSession.revoked_at).is_(None),
            col(LoginSession.expires_at) > now,
        )
        .order_by(col(LoginSession.last_seen_at).desc())
    ).all()
    out = [
        SessionRow(
            id=r.id or 0,
            device=describe_device(r.user_agent),
            user_agent=r.user_agent,
            client_ip=r.client_ip,
            created=r.created_at.strftime("%Y-%m-%d %H:%M UTC"),
            last_seen=ago(r.last_seen_at),
            current=_is_current(r, current_hash),
        )
        for r in rows
    ]
    return sorted(out, key=lambda r: not r.current)  # this browser first


def revoke(session: Session, actor: Principal | None, session_id: int) -> None:
    """Sign one of the actor's own sessions out (anyone else's is "not found")."""
    user = me(session, actor)
    updated = session.exec(
        sa.update(LoginSession)
        .where(
            col(LoginSession.id) == session_id,
            col(LoginSession.user_id) == user.id,
            col(LoginSession.revoked_at).is_(None),
        )
        .values(revoked_at=utcnow())
    )
    if updated.rowcount != 1:
        raise NotFound("No such session (it may have ended already).")
    audit.record(
        session, actor, "user.session_revoked", "login_session", session_id, f"{user.email} ended a session"
    )


def revoke_others(session: Session, actor: Principal | None, current_token: str | None) -> int:
    """Sign out everywhere but this browser; returns how many sessions ended."""
    user = me(session, actor)
    keep = hash_secret(current_token) if current_token else ""
    updated = session.exec(
        sa.update(LoginSession)
        .where(
            col(LoginSession.user_id) == user.id,
            col(LoginSession.revoked_at).is_(None),
            col(LoginSession.token_hash) != keep,
        )
        .values(revoked_at=utcnow())
    )
    count = int(updated.rowcount or 0)
    audit.record(
        session,
        actor,
        "user.sessions_revoked",
        "user",
        user.id,
        f"{user.email} signed out {count} other sessions",
    )
    return count
