"""What the approvals inbox shows: exec and plugin approvals gateways wait on, and the latest
answered ones, as typed read models built in one database session with the caller's
permissions decided here (seeing needs the right to view the bot, answering to operate it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, and_, col, not_, or_, select

from clawnet.bots.access_views import stamp, until
from clawnet.enums import ApprovalDecision, ApprovalKind, ApprovalState
from clawnet.humanize import ago
from clawnet.models import ApprovalRequest, Bot
from clawnet.security.permissions import Action, Principal, accessible_bot_ids, can, role_allows

HISTORY = 20  # answered or expired approvals shown under the pending ones
DECISION_LABELS = {
    ApprovalDecision.ALLOW_ONCE: "Approve once",
    ApprovalDecision.ALLOW_ALWAYS: "Always allow",
    ApprovalDecision.DENY: "Deny",
}


@dataclass(frozen=True)
class ApprovalView:
    id: int
    bot_id: int  # 0 when no ClawNet bot owns the agent that asked
    bot_name: str
    kind: str  # exec | plugin
    what: str  # the command line, or the plugin's title
    detail: str  # "in /srv/bot" (exec) or the plugin's description and tool
    session_key: str
    requested: str  # "3 min ago"
    requested_at: str
    expires: str  # "in 29 min", "expired", "" when OpenClaw gave no expiry
    expires_at: str
    state: str  # pending | approved | denied | expired
    outcome: str  # "approved once by ada@example.com 2 min ago", "" while pending
    can_always: bool  # OpenClaw offers "allow always" for this one
    can_decide: bool


def _visible(session: Session, actor: Principal | None) -> set[int] | None:
    if actor is None or not actor.is_active or not role_allows(actor.role, Action.VIEW_FLEET):
        return set()
    return accessible_bot_ids(session, actor)


def _query(session: Session, actor: Principal | None, pending: bool, now: datetime) -> Any:
    allowed = _visible(session, actor)
    if allowed is not None and not allowed:
        return None
    query = select(ApprovalRequest, Bot.name).outerjoin(Bot, col(Bot.id) == col(ApprovalRequest.bot_id))
    live = and_(
        col(ApprovalRequest.state) == ApprovalState.PENDING,
        or_(col(ApprovalRequest.expires_at).is_(None), col(ApprovalRequest.expires_at) > now),
    )
    query = query.where(live) if pending else query.where(not_(live))
    if allowed is not None:  # approvals of agents no bot owns are for admins only
        query = query.where(col(ApprovalRequest.bot_id).in_(allowed))
    return query


def _outcome(row: ApprovalRequest, now: datetime) -> str:
    state = ApprovalState(row.state)
    if state is ApprovalState.PENDING:
        return "expired" if row.expires_at and row.expires_at <= now else ""
    if state is ApprovalState.EXPIRED:
        return f"expired {ago(row.resolved_at or row.expires_at, now)}"
    how = {"allow-once": "approved once", "allow-always": "always allowed", "deny": "denied"}.get(
        row.decision, state.value
    )
    by = f" by {row.resolved_by}" if row.resolved_by else ""
    return f"{how}{by} {ago(row.resolved_at, now)}"


def _view(
    session: Session,
    actor: Principal | None,
    row: ApprovalRequest,
    bot_name: str | None,
    now: datetime,
    deciders: dict[int, bool],
) -> ApprovalView:
    bot_id = row.bot_id or 0
    if bot_id not in deciders:
        deciders[bot_id] = (
            can(session, actor, Action.OPERATE_BOT, bot_id) if bot_id else bool(actor and actor.is_admin)
        )
    if row.kind == ApprovalKind.EXEC:
        what, detail = row.command or "(no command given)", f"in {row.cwd}" if row.cwd else ""
    else:
        what = row.title or row.tool_name or "A plugin asks"
        detail = " · ".join(
            p
            for p in (
                row.description,
                row.tool_name and f"tool {row.tool_name}",
                row.plugin_id and f"plugin {row.plugin_id}",
            )
            if p
        )
    pending = row.state == ApprovalState.PENDING and not (row.expires_at and row.expires_at <= now)
    return ApprovalView(
        id=row.id or 0,
        bot_id=bot_id,
        bot_name=bot_name or f"agent {row.agent_id or '?'}",
        kind=row.kind,
        what=what,
        detail=detail,
        session_key=row.session_key,
        requested=ago(row.requested_at, now),
        requested_at=stamp(row.requested_at),
        expires=until(row.expires_at, now) if row.expires_at else "",
        expires_at=stamp(row.expires_at) if row.expires_at else "",
        state=row.state
        if not (row.state == ApprovalState.PENDING and not pending)
        else ApprovalState.EXPIRED.value,
        outcome=_outcome(row, now),
        can_always=ApprovalDecision.ALLOW_ALWAYS.value in (row.decisions or []),
        can_decide=pending and deciders[bot_id],
    )


def pending_approvals(session: Session, actor: Principal | None) -> list[ApprovalView]:
    """Approvals gateways still wait on, of the bots `actor` may see, newest first."""
    now = datetime.now(UTC)
    query = _query(session, actor, True, now)
    if query is None:
        return []
    query = query.order_by(col(ApprovalRequest.requested_at).desc(), col(ApprovalRequest.id).desc())
    deciders: dict[int, bool] = {}
    return [_view(session, actor, row, name, now, deciders) for row, name in session.exec(query).all()]


def recent_approvals(session: Session, actor: Principal | None, limit: int = HISTORY) -> list[ApprovalView]:
    """The latest answered or expired approvals, newest first."""
    now = datetime.now(UTC)
    query = _query(session, actor, False, now)
    if query is None:
        return []
    query = query.order_by(col(ApprovalRequest.requested_at).desc(), col(ApprovalRequest.id).desc()).limit(
        limit
    )
    deciders: dict[int, bool] = {}
    return [_view(session, actor, row, name, now, deciders) for row, name in session.exec(query).all()]


def pending_count(session: Session, actor: Principal | None) -> int:
    query = _query(session, actor, True, datetime.now(UTC))
    return 0 if query is None else len(session.exec(query).all())
