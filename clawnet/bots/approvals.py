"""The approvals inbox: exec and plugin approvals the bots' gateways wait on (recorded by the
control plane from OpenClaw's `*.approval.requested` events), answered from the browser.

Whoever may see a bot sees its approvals; answering needs the right to operate it
(`Action.OPERATE_BOT`: an operator assigned to it, its owner, or an admin), checked here for
every call. The answer goes to the gateway through `controlplane.gateway_approvals` (from another
web worker over the control plane's allowlisted remote calls), is recorded with who gave it, and
is audited. The first answer wins: one given elsewhere first is reported, not overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session

from clawnet import audit
from clawnet.bots import approval_views
from clawnet.bots.approval_views import DECISION_LABELS, ApprovalView
from clawnet.bots.base import BotsBase
from clawnet.controlplane.gateway_approvals import ApprovalsApi, is_approval_gone
from clawnet.controlplane.protocol import GatewayError
from clawnet.enums import ApprovalDecision, ApprovalKind, ApprovalState
from clawnet.errors import NotFound, PermissionDenied, Unavailable, UserError
from clawnet.events import Kind
from clawnet.models import ApprovalRequest, Bot, utcnow
from clawnet.security.permissions import Action, Principal, require

GONE = "This approval was already answered, or it expired."


class ApprovalDecisionError(UserError):
    """The gateway could not take the answer; nothing was changed in ClawNet."""


@dataclass(frozen=True)
class _Asked:
    id: int
    gateway_id: int
    bot_id: int | None
    bot_name: str
    kind: ApprovalKind
    approval_id: str
    what: str


def _check(session: Session, actor: Principal | None, row: ApprovalRequest) -> Principal:
    if row.bot_id is not None:
        return require(session, actor, Action.OPERATE_BOT, row.bot_id)
    who = require(session, actor, Action.VIEW_FLEET)
    if not who.is_admin:  # an agent no ClawNet bot owns: admins only
        raise PermissionDenied("Only admins can answer approvals of agents no bot owns.")
    return who


class Approvals(BotsBase):
    async def approvals(self, actor: Principal | None) -> list[ApprovalView]:
        """Approvals waiting on the bots `actor` may see, newest first."""
        return await self._db(lambda s: approval_views.pending_approvals(s, actor))

    async def approval_history(self, actor: Principal | None) -> list[ApprovalView]:
        return await self._db(lambda s: approval_views.recent_approvals(s, actor))

    async def approvals_count(self, actor: Principal | None) -> int:
        return await self._db(lambda s: approval_views.pending_count(s, actor))

    async def inbox_count(self, actor: Principal | None) -> int:
        """Everything waiting on `actor`: approvals and DM access requests (the navigation's count)."""
        return await self.approvals_count(actor) + await self.access_count(actor)  # type: ignore[attr-defined]

    async def resolve_approval(self, actor: Principal | None, approval: int, decision: str) -> str:
        """Answer a pending approval: `allow-once`, `allow-always` (when OpenClaw offers it) or `deny`."""
        try:
            choice = ApprovalDecision(str(decision))
        except ValueError:
            raise UserError("Choose approve once, always allow or deny.") from None

        def load(session: Session) -> _Asked:
            row = session.get(ApprovalRequest, int(approval))
            if row is None:
                raise NotFound(GONE)
            _check(session, actor, row)
            expired = row.expires_at is not None and row.expires_at <= datetime.now(UTC)
            if row.state != ApprovalState.PENDING or expired:
                raise NotFound(GONE)
            if choice is ApprovalDecision.ALLOW_ALWAYS and choice.value not in (row.decisions or []):
                raise UserError('OpenClaw does not offer "always allow" for this one.')
            bot = session.get(Bot, row.bot_id) if row.bot_id else None
            what = row.command if row.kind == ApprovalKind.EXEC else (row.title or row.tool_name)
            return _Asked(
                row.id or 0,
                row.gateway_id,
                row.bot_id,
                bot.name if bot else row.agent_id,
                ApprovalKind(row.kind),
                row.approval_id,
                what,
            )

        asked = await self._db(load)
        api = self.control.gateway(asked.gateway_id)
        if api is None:
            raise Unavailable("The bot's gateway cannot be reached right now; try again when it runs.")
        try:
            await ApprovalsApi(api).resolve(asked.kind, asked.approval_id, choice)
        except GatewayError as exc:
            if is_approval_gone(exc):
                await self._db(lambda s: _close(s, asked.id))
                self._publish(asked, ApprovalState.EXPIRED)
                raise NotFound(GONE) from None
            raise ApprovalDecisionError(f"The gateway did not take the answer: {exc.message}") from None

        def record(session: Session) -> str:
            row = session.get(ApprovalRequest, asked.id)
            if row is None:
                raise NotFound(GONE)
            who = _check(session, actor, row)
            state = ApprovalState.DENIED if choice is ApprovalDecision.DENY else ApprovalState.APPROVED
            # The gateway's own "resolved" event may have been recorded first (without a person).
            if row.state == ApprovalState.PENDING or (
                row.decision == choice.value and row.resolved_by_id is None
            ):
                row.state, row.decision = state.value, choice.value
                row.resolved_by, row.resolved_by_id = who.label, who.user_id
                row.resolved_at = row.resolved_at or utcnow()
                session.add(row)
            audit.record(
                session,
                who,
                f"approval.{'deny' if state is ApprovalState.DENIED else 'approve'}",
                "bot" if asked.bot_id else "gateway",
                asked.bot_id or asked.gateway_id,
                f"{DECISION_LABELS[choice].lower()}: {asked.kind.value} {asked.what[:200]!r} for {asked.bot_name}",
                after={"kind": asked.kind.value, "approval_id": asked.approval_id, "decision": choice.value},
            )
            return state.value

        state = await self._db(record)
        self._publish(asked, ApprovalState(state))
        verb = {"allow-once": "Approved once", "allow-always": "Always allowed", "deny": "Denied"}[
            choice.value
        ]
        return f"{verb}: {asked.what[:120]}"

    def _publish(self, asked: _Asked, state: ApprovalState) -> None:
        self.bus.publish(
            Kind.APPROVALS,
            {"approval": asked.id, "state": state.value, "kind": asked.kind.value},
            bot_id=asked.bot_id,
            gateway_id=asked.gateway_id,
        )


def _close(session: Session, approval: int) -> None:
    row = session.get(ApprovalRequest, approval)
    if row is not None and row.state == ApprovalState.PENDING:
        row.state, row.resolved_at = ApprovalState.EXPIRED.value, utcnow()
        session.add(row)
