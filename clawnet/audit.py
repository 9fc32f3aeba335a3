"""The audit log: one call records who did what to which object and what changed."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from clawnet.models import AuditEvent
from clawnet.security.permissions import Principal


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
