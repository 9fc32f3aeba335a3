"""OpenClaw's exec and plugin approvals, typed: the events a gateway raises when a bot wants to
run something that needs a person's yes, and the methods that answer it. Nothing else in ClawNet
spells these names (OpenClaw 2026.9.6: docs/gateway/protocol/operator-methods.md,
rpc-devices-nodes-and-approvals.md, rpc-bootstrap-and-events.md).

- `exec.approval.requested` / `plugin.approval.requested`: `{id, request, createdAtMs,
  expiresAtMs}`; `request` holds what the bot wants (exec: `command`, `cwd`, `host`, `agentId`,
  `sessionKey`, `unavailableDecisions`; plugin: `title`, `description`, `toolName`, `pluginId`,
  `severity`, `allowedDecisions`, `agentId`, `sessionKey`).
- `exec.approval.resolved` / `plugin.approval.resolved`: `{id, decision, resolvedBy, ts, request}`.
- No event says an approval expired: OpenClaw drops it from its pending list at `expiresAtMs`.
- `exec.approval.resolve` / `plugin.approval.resolve` `{id, decision}` with a decision of
  `allow-once | allow-always | deny` (scope `operator.approvals`, which `operator.admin` covers).
  Only connections that declare the `approvals` client capability receive the requests; without
  one a gateway expires the request at once ("no-approval-route").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from clawnet.controlplane.gateway_api import GatewayApi, GatewayCaller
from clawnet.controlplane.protocol import GatewayError
from clawnet.enums import ApprovalDecision, ApprovalKind

# The client capability that makes a gateway deliver approval requests to a connection.
APPROVALS_CAP = "approvals"
REQUESTED_EVENTS = {
    "exec.approval.requested": ApprovalKind.EXEC,
    "plugin.approval.requested": ApprovalKind.PLUGIN,
}
RESOLVED_EVENTS = {
    "exec.approval.resolved": ApprovalKind.EXEC,
    "plugin.approval.resolved": ApprovalKind.PLUGIN,
}
EVENTS = frozenset(REQUESTED_EVENTS) | frozenset(RESOLVED_EVENTS)
RESOLVE_METHODS = {ApprovalKind.EXEC: "exec.approval.resolve", ApprovalKind.PLUGIN: "plugin.approval.resolve"}
LIST_METHODS = {ApprovalKind.EXEC: "exec.approval.list", ApprovalKind.PLUGIN: "plugin.approval.list"}
# A web worker may ask the control plane to call these for it.
APPROVAL_METHODS = frozenset(RESOLVE_METHODS.values())
ALL_DECISIONS = (ApprovalDecision.ALLOW_ONCE, ApprovalDecision.ALLOW_ALWAYS, ApprovalDecision.DENY)
_KEPT_DETAILS = ("resolvedPath", "warningText", "security", "ask", "nodeId", "detail", "turnSourceChannel")


@dataclass(frozen=True)
class ApprovalAsked:
    """A gateway waits for a person's decision."""

    kind: ApprovalKind
    approval_id: str
    agent_id: str
    session_key: str
    command: str
    cwd: str
    host: str
    title: str
    description: str
    tool_name: str
    plugin_id: str
    severity: str
    decisions: tuple[str, ...]
    requested_at: datetime
    expires_at: datetime | None
    details: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class ApprovalDecided:
    """A pending approval was answered (by ClawNet or any other client of the gateway)."""

    kind: ApprovalKind
    approval_id: str
    decision: str  # allow-once | allow-always | deny
    resolved_by: str
    at: datetime


def _text(value: Any, limit: int) -> str:
    return str(value)[:limit] if isinstance(value, str | int | float) and value != "" else ""


def _moment(ms: Any) -> datetime | None:
    if isinstance(ms, int | float) and not isinstance(ms, bool) and ms > 0:
        return datetime.fromtimestamp(ms / 1000, UTC)
    return None


def _decisions(kind: ApprovalKind, request: dict[str, Any]) -> tuple[str, ...]:
    if kind == ApprovalKind.PLUGIN and isinstance(request.get("allowedDecisions"), list):
        offered = {str(d) for d in request["allowedDecisions"]}
        return tuple(d.value for d in ALL_DECISIONS if d.value in offered)
    unavailable = request.get("unavailableDecisions")
    missing = {str(d) for d in unavailable} if isinstance(unavailable, list) else set()
    return tuple(d.value for d in ALL_DECISIONS if d.value not in missing)


def _command(request: dict[str, Any]) -> str:
    command = request.get("command")
    if isinstance(command, str) and command:
        return command
    plan = request.get("systemRunPlan")
    if isinstance(plan, dict) and isinstance(plan.get("commandText"), str):
        return str(plan["commandText"])
    argv = request.get("commandArgv")
    return " ".join(str(a) for a in argv) if isinstance(argv, list) else ""


def parse_event(
    name: str, payload: dict[str, Any], now: datetime | None = None
) -> ApprovalAsked | ApprovalDecided | None:
    """What an approval event says, or None for other events and payloads without an id."""
    approval_id = _text(payload.get("id"), 200)
    if not approval_id:
        return None
    raw = payload.get("request")
    request: dict[str, Any] = raw if isinstance(raw, dict) else {}
    if name in RESOLVED_EVENTS:
        return ApprovalDecided(
            kind=RESOLVED_EVENTS[name],
            approval_id=approval_id,
            decision=_text(payload.get("decision"), 16),
            resolved_by=_text(payload.get("resolvedBy"), 320),
            at=_moment(payload.get("ts")) or now or datetime.now(UTC),
        )
    if name not in REQUESTED_EVENTS:
        return None
    kind = REQUESTED_EVENTS[name]
    cwd = request.get("cwd")
    plan = request.get("systemRunPlan")
    if not cwd and isinstance(plan, dict):
        cwd = plan.get("cwd")
    return ApprovalAsked(
        kind=kind,
        approval_id=approval_id,
        agent_id=_text(request.get("agentId"), 64),
        session_key=_text(request.get("sessionKey"), 512),
        command=_command(request)[:4000],
        cwd=_text(cwd, 1000),
        host=_text(request.get("host"), 32),
        title=_text(request.get("title"), 300),
        description=_text(request.get("description"), 2000),
        tool_name=_text(request.get("toolName"), 200),
        plugin_id=_text(request.get("pluginId"), 200),
        severity=_text(request.get("severity"), 16),
        decisions=_decisions(kind, request),
        requested_at=_moment(payload.get("createdAtMs")) or now or datetime.now(UTC),
        expires_at=_moment(payload.get("expiresAtMs")),
        details={k: _text(request[k], 2000) for k in _KEPT_DETAILS if _text(request.get(k), 2000)},
    )


def is_approval_gone(exc: GatewayError) -> bool:
    """The approval was already answered elsewhere, or it expired."""
    text = exc.message.lower()
    return "expired or not found" in text or "already resolved" in text or "unknown" in text


class ApprovalsApi:
    """Answering approvals on one gateway, over the same caller as `GatewayApi`."""

    def __init__(self, api: GatewayApi | GatewayCaller) -> None:
        self.caller: GatewayCaller = api.caller if isinstance(api, GatewayApi) else api

    async def resolve(self, kind: ApprovalKind, approval_id: str, decision: ApprovalDecision) -> None:
        await self.caller.call(
            RESOLVE_METHODS[ApprovalKind(kind)], {"id": approval_id, "decision": decision.value}, timeout=30
        )

    async def pending(self, kind: ApprovalKind) -> list[ApprovalAsked] | None:
        """What the gateway still waits on (`<kind>.approval.list` answers the same records the
        requested events carry), or None when the answer has an unknown shape."""
        kind = ApprovalKind(kind)
        answer = await self.caller.call(LIST_METHODS[kind], {}, timeout=30)
        if not isinstance(answer, list):
            return None
        event = f"{kind.value}.approval.requested"
        found = [parse_event(event, row) for row in answer if isinstance(row, dict)]
        return [a for a in found if isinstance(a, ApprovalAsked)]
