"""Approval requests from gateways, recorded: every exec or plugin approval a gateway raises
becomes an `ApprovalRequest` row (with the bot whose agent asked), its answer is recorded when the
gateway says it was resolved, and it turns "expired" when OpenClaw's expiry time passes (OpenClaw
sends no event then) or when a reconnected gateway no longer waits on it. Each change is
published as `Kind.APPROVALS` so open inboxes update live on every web worker.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from clawnet.controlplane.db_runner import DbRunner
from clawnet.controlplane.gateway_approvals import (
    ApprovalAsked,
    ApprovalDecided,
    ApprovalsApi,
    parse_event,
)
from clawnet.controlplane.links import GatewayLink
from clawnet.controlplane.protocol import GatewayError
from clawnet.controlplane.tasks import TaskSet, stop_loops
from clawnet.enums import ApprovalDecision, ApprovalKind, ApprovalState
from clawnet.events import EventBus, Kind
from clawnet.models import ApprovalRequest, utcnow

log = logging.getLogger(__name__)

SWEEP_EVERY_S = 5.0


def state_of(decision: str) -> ApprovalState:
    if decision in (ApprovalDecision.ALLOW_ONCE, ApprovalDecision.ALLOW_ALWAYS):
        return ApprovalState.APPROVED
    if decision == ApprovalDecision.DENY:
        return ApprovalState.DENIED
    return ApprovalState.EXPIRED  # OpenClaw's null decision: timed out


def record_asked(
    session: Session, gateway_id: int, bot_id: int | None, asked: ApprovalAsked
) -> ApprovalRequest:
    row = session.exec(
        select(ApprovalRequest).where(
            ApprovalRequest.gateway_id == gateway_id, ApprovalRequest.approval_id == asked.approval_id
        )
    ).first() or ApprovalRequest(
        gateway_id=gateway_id,
        approval_id=asked.approval_id,
        kind=asked.kind.value,
        requested_at=asked.requested_at,
    )
    row.bot_id = bot_id
    row.kind = asked.kind.value
    row.agent_id, row.session_key = asked.agent_id, asked.session_key
    row.command, row.cwd, row.host = asked.command, asked.cwd, asked.host
    row.title, row.description = asked.title, asked.description
    row.tool_name, row.plugin_id, row.severity = asked.tool_name, asked.plugin_id, asked.severity
    row.decisions, row.details = list(asked.decisions), dict(asked.details)
    row.requested_at, row.expires_at = asked.requested_at, asked.expires_at
    session.add(row)
    session.flush()
    return row


def record_decided(
    session: Session,
    gateway_id: int,
    decided: ApprovalDecided,
    *,
    user_id: int | None = None,
    who: str = "",
) -> ApprovalRequest | None:
    """Record an answer; a row already answered keeps its first answer (first answer wins)."""
    row = session.exec(
        select(ApprovalRequest).where(
            ApprovalRequest.gateway_id == gateway_id, ApprovalRequest.approval_id == decided.approval_id
        )
    ).first()
    if row is None or row.state != ApprovalState.PENDING:
        return None
    row.state = state_of(decided.decision).value
    row.decision = decided.decision
    row.resolved_at = decided.at
    row.resolved_by = who or decided.resolved_by
    row.resolved_by_id = user_id
    session.add(row)
    session.flush()
    return row


def expire_due(
    session: Session, now: datetime | None = None, gateway_id: int | None = None
) -> list[ApprovalRequest]:
    """Mark pending rows whose expiry time passed as expired; return them."""
    moment = now or datetime.now(UTC)
    query = select(ApprovalRequest).where(
        ApprovalRequest.state == ApprovalState.PENDING,
        col(ApprovalRequest.expires_at).is_not(None),
        col(ApprovalRequest.expires_at) <= moment,
    )
    if gateway_id is not None:
        query = query.where(ApprovalRequest.gateway_id == gateway_id)
    rows = list(session.exec(query))
    for row in rows:
        _expire(session, row, moment)
    return rows


def catch_up(
    session: Session, gateway_id: int, kind: ApprovalKind, asked: list[tuple[ApprovalAsked, int | None]]
) -> list[ApprovalRequest]:
    """Record what a gateway still waits on (of one kind) and expire the pending rows it does not."""
    changed = [record_asked(session, gateway_id, bot_id, a) for a, bot_id in asked]
    ids = {a.approval_id for a, _ in asked}
    rows = session.exec(
        select(ApprovalRequest).where(
            ApprovalRequest.gateway_id == gateway_id,
            ApprovalRequest.kind == kind.value,
            ApprovalRequest.state == ApprovalState.PENDING,
        )
    ).all()
    for row in rows:
        if row.approval_id not in ids:
            _expire(session, row, utcnow())
            changed.append(row)
    return changed


def _catch_up_of(
    gateway_id: int, kind: ApprovalKind, asked: list[tuple[ApprovalAsked, int | None]], session: Session
) -> list[ApprovalRequest]:
    return catch_up(session, gateway_id, kind, asked)


def _expire(session: Session, row: ApprovalRequest, moment: datetime) -> None:
    row.state = ApprovalState.EXPIRED.value
    row.resolved_at = moment
    session.add(row)


class ApprovalSync:
    """Keeps `ApprovalRequest` rows equal to what the gateways ask and answer."""

    def __init__(self, db: DbRunner, bus: EventBus, tasks: TaskSet) -> None:
        self.db = db
        self.bus = bus
        self.tasks = tasks
        self._sweeper: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        self._stopping = False
        self._sweeper = asyncio.create_task(self._sweep_loop(), name="approval-expiry")

    async def stop(self) -> None:
        self._stopping = True
        await stop_loops([self._sweeper])
        self._sweeper = None

    def _publish(self, row: ApprovalRequest) -> None:
        self.bus.publish(
            Kind.APPROVALS,
            {"approval": row.id, "state": row.state, "kind": row.kind},
            bot_id=row.bot_id,
            gateway_id=row.gateway_id,
        )

    def on_event(self, link: GatewayLink, name: str, payload: dict[str, object]) -> None:
        parsed = parse_event(name, dict(payload))
        gateway_id = link.gateway_id
        if isinstance(parsed, ApprovalAsked):
            asked = parsed
            bot_id = link.bot_of(asked.agent_id) if asked.agent_id else None

            def write(s: Session) -> ApprovalRequest | None:
                return record_asked(s, gateway_id, bot_id, asked)

        elif isinstance(parsed, ApprovalDecided):
            decided = parsed

            def write(s: Session) -> ApprovalRequest | None:
                return record_decided(s, gateway_id, decided)

        else:
            return
        self.tasks.spawn(self._after(self.db.submit(write)), f"approval-{gateway_id}")

    async def _after(self, future: asyncio.Future[ApprovalRequest | None]) -> None:
        row = await future
        if row is not None:
            self._publish(row)

    async def on_connected(self, link: GatewayLink) -> None:
        """Catch up with a (re)connected gateway: requests raised while ClawNet was away are
        recorded, and pending rows it no longer waits on (answered or lost meanwhile, or its
        process restarted) are closed as expired."""
        gateway_id = link.gateway_id
        for kind in ApprovalKind:
            try:
                waiting = await ApprovalsApi(link.api).pending(kind)
            except GatewayError as exc:
                log.info("gateway %s: %s approvals not listed: %s", gateway_id, kind.value, exc)
                continue
            if waiting is None:
                continue
            asked = [(a, link.bot_of(a.agent_id) if a.agent_id else None) for a in waiting]
            rows = await self.db.run(functools.partial(_catch_up_of, gateway_id, kind, asked))
            for row in rows:
                self._publish(row)

    async def sweep(self) -> int:
        rows = await self.db.run(expire_due)
        for row in rows:
            self._publish(row)
        return len(rows)

    async def _sweep_loop(self) -> None:
        while not self._stopping:
            await asyncio.sleep(SWEEP_EVERY_S)
            try:
                await self.sweep()
            except Exception:
                log.exception("approval expiry sweep failed")
