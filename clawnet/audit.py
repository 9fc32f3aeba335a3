"""The audit log: one call records who did what to which object and what changed; admins read\nit back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from clawnet.models import AuditEvent
from clawnet.security.permissions import Action, Principal, require


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: str
    actor: str
    action: str
    object: str
    summary: str
    change: str


def record(
    session: Session,
    actor: Principal | None,
    action: str,
    object_type: str,
    object_id: object = "",
    summary: str = "",
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to the caller's transaction (it commits or rolls back with it).

    `before`/`after` must never hold secrets: callers pass summaries, not credentials.
    """
    event = AuditEvent(
        actor_id=actor.user_id if actor else None,
        actor_label=actor.label if actor else "system",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        summary=summary[:500],
        before=before,
        after=after,
    )
    session.add(event)
    return event


def recent_events(
    session: Session, actor: Principal | None, *, limit: int = 100, search: str = ""
) -> list[AuditRow]:
    """The newest events (admins only), optionally only those mentioning `search`."""
    require(session, actor, Action.VIEW_AUDIT)
    query = select(AuditEvent).order_by(col(AuditEvent.id).desc()).limit(limit)
    if search.strip():
        needle = f"%{search.strip().lower()}%"
        query = query.where(
            sa.or_(
                func.lower(AuditEvent.summary).like(needle),
                func.lower(AuditEvent.action).like(needle),
                func.lower(AuditEvent.actor_label).like(needle),
            )
        )
    return [
        AuditRow(
            id=e.id or 0,
            at=e.at.strftime("%Y-%m-%d %H:%M:%S"),
            actor=e.actor_label,
            action=e.action,
            object=f"{e.object_type} {e.object_id}".strip(),
            summary=e.summary,
            change=_change_text(e.before, e.after),
        )
        for e in session.exec(query).all()
    ]


def _change_text(before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    if not before and not after:
        return ""
    keys = sorted(set(before or {}) | set(after or {}))
    parts = []
    for key in keys:
        old, new = (before or {}).get(key), (after or {}).get(key)
        if old != new:
            parts.append(f"{key}: {old if old is not None else '—'} → {new if new is not None else '—'}")
    return "; ".join(parts)
