"""Exec and plugin approvals without a gateway: how OpenClaw's events are read, how they are
recorded and expire, who sees and who may answer, and what an answer sends and records."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import select

from clawnet.bots.service import BotsService
from clawnet.controlplane.approvals import catch_up, expire_due, record_asked, record_decided
from clawnet.controlplane.echo_llm import FakeLLM, plan_reply, tool_result
from clawnet.controlplane.gateway_api import GatewayApi
from clawnet.controlplane.gateway_approvals import ApprovalAsked, ApprovalDecided, parse_event
from clawnet.controlplane.protocol import GatewayError
from clawnet.enums import ApprovalKind, ApprovalState, Role
from clawnet.errors import NotFound, PermissionDenied, UserError
from clawnet.events import EventBus, Kind
from clawnet.models import ApprovalRequest, AuditEvent, Gateway
from clawnet.security.permissions import Principal
from clawnet.settings import get_settings
from tests.factories import assign, make_bot, make_user

NOW_MS = 1_800_000_000_000


def exec_event(
    approval_id: str = "ap1", agent: str = "helper", expires_in_ms: int = 1_800_000, **extra: Any
) -> dict[str, Any]:
    return {
        "approvalKind": "exec",
        "id": approval_id,
        "request": {
            "command": "touch /tmp/x",
            "cwd": "/srv/helper",
            "host": "gateway",
            "agentId": agent,
            "sessionKey": f"agent:{agent}:main",
            "security": "allowlist",
            **extra,
        },
        "createdAtMs": NOW_MS,
        "expiresAtMs": NOW_MS + expires_in_ms,
    }


def test_an_exec_request_is_read_with_command_session_and_expiry():
    asked = parse_event("exec.approval.requested", exec_event())
    assert isinstance(asked, ApprovalAsked)
    assert asked.kind is ApprovalKind.EXEC and asked.approval_id == "ap1"
    assert (asked.command, asked.cwd, asked.host) == ("touch /tmp/x", "/srv/helper", "gateway")
    assert (asked.agent_id, asked.session_key) == ("helper", "agent:helper:main")
    assert asked.expires_at is not None and asked.expires_at - asked.requested_at == timedelta(minutes=30)
    assert asked.decisions == ("allow-once", "allow-always", "deny")
    assert asked.details == {"security": "allowlist"}
    narrowed = parse_event("exec.approval.requested", exec_event(unavailableDecisions=["allow-always"]))
    assert isinstance(narrowed, ApprovalAsked) and narrowed.decisions == ("allow-once", "deny")


def test_a_plugin_request_and_answers_are_read():
    asked = parse_event(
        "plugin.approval.requested",
        {
            "id": "pl1",
            "request": {
                "title": "Publish page",
                "description": "Publishes the docs",
                "toolName": "publish_page",
                "pluginId": "docs",
                "severity": "warning",
                "allowedDecisions": ["deny", "allow-once"],
                "agentId": "helper",
            },
            "createdAtMs": NOW_MS,
            "expiresAtMs": NOW_MS + 60_000,
        },
    )
    assert isinstance(asked, ApprovalAsked) and asked.kind is ApprovalKind.PLUGIN
    assert (asked.title, asked.tool_name, asked.plugin_id) == ("Publish page", "publish_page", "docs")
    assert asked.decisions == ("allow-once", "deny")
    decided = parse_event(
        "exec.approval.resolved", {"id": "ap1", "decision": "deny", "resolvedBy": "cli", "ts": NOW_MS}
    )
    assert isinstance(decided, ApprovalDecided) and (decided.decision, decided.resolved_by) == ("deny", "cli")
    assert parse_event("exec.approval.requested", {"request": {}}) is None  # no id
    assert parse_event("chat", {"id": "x"}) is None


def test_rows_follow_requests_answers_and_expiry(session):
    gateway = Gateway(name="gw", token_enc="x")
    session.add(gateway)
    session.flush()
    asked = parse_event("exec.approval.requested", exec_event())
    assert isinstance(asked, ApprovalAsked)
    row = record_asked(session, gateway.id, None, asked)
    assert row.state == ApprovalState.PENDING and row.command == "touch /tmp/x"
    assert record_asked(session, gateway.id, None, asked).id == row.id  # the same request again
    decided = ApprovalDecided(ApprovalKind.EXEC, "ap1", "allow-once", "cli", datetime.now(UTC))
    assert record_decided(session, gateway.id, decided).state == ApprovalState.APPROVED
    later = ApprovalDecided(ApprovalKind.EXEC, "ap1", "deny", "other", datetime.now(UTC))
    assert record_decided(session, gateway.id, later) is None  # the first answer wins
    assert row.decision == "allow-once" and row.resolved_by == "cli"
    short = parse_event("exec.approval.requested", exec_event("ap2"))
    assert isinstance(short, ApprovalAsked)
    other = record_asked(session, gateway.id, None, short)
    assert expire_due(session, now=other.requested_at + timedelta(minutes=29)) == []
    assert [r.id for r in expire_due(session, now=other.requested_at + timedelta(minutes=31))] == [other.id]
    assert other.state == ApprovalState.EXPIRED


class FakeCaller:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.fail: GatewayError | None = None

    @property
    def is_connected(self) -> bool:
        return True

    async def call(self, method: str, params: dict[str, Any] | None = None, **_kw: Any) -> Any:
        self.calls.append((method, dict(params or {})))
        if self.fail is not None:
            raise self.fail
        return {"ok": True}


class FakeControl:
    def __init__(self, caller: FakeCaller) -> None:
        self.caller = caller

    @property
    def runs_here(self) -> bool:
        return True

    def kick(self) -> None:
        pass

    def gateway(self, gateway_id: int) -> GatewayApi:
        return GatewayApi(self.caller)


@pytest.fixture
def world(session):
    owner = make_user(session, Role.OPERATOR)
    viewer = make_user(session, Role.VIEWER)
    outsider = make_user(session, Role.OPERATOR)
    bot = make_bot(session, owner, "Helper")
    assign(session, viewer, bot)
    gateway = Gateway(name="gw", token_enc="x")
    session.add(gateway)
    session.flush()
    bot.gateway_id = gateway.id
    now = datetime.now(UTC)
    ids = []
    for approval_id, expires in (("ap1", now + timedelta(minutes=30)), ("old", now - timedelta(seconds=1))):
        row = ApprovalRequest(
            gateway_id=gateway.id,
            bot_id=bot.id,
            kind="exec",
            approval_id=approval_id,
            agent_id=bot.agent_id,
            command="touch /tmp/x",
            decisions=["allow-once", "deny"],
            requested_at=now - timedelta(minutes=1),
            expires_at=expires,
        )
        session.add(row)
        session.flush()
        ids.append(row.id)
    session.commit()
    caller = FakeCaller()
    bus = EventBus()
    service = BotsService(get_settings(), bus, FakeControl(caller))  # type: ignore[arg-type]
    return {
        "service": service,
        "bus": bus,
        "caller": caller,
        "owner": Principal.of(owner),
        "viewer": Principal.of(viewer),
        "outsider": Principal.of(outsider),
        "approval": ids[0],
        "expired": ids[1],
    }


async def test_who_sees_and_who_may_answer(world):
    service = world["service"]
    mine = await service.approvals(world["owner"])
    assert [a.id for a in mine] == [world["approval"]] and mine[0].can_decide  # the expired one left
    assert mine[0].expires.startswith("in ") and not mine[0].can_always
    seen = await service.approvals(world["viewer"])
    assert [a.id for a in seen] == [world["approval"]] and not seen[0].can_decide
    assert await service.approvals(world["outsider"]) == []
    assert await service.approvals_count(world["owner"]) == 1
    assert [h.state for h in await service.approval_history(world["owner"])] == ["expired"]
    with pytest.raises(PermissionDenied):
        await service.resolve_approval(world["viewer"], world["approval"], "allow-once")
    with pytest.raises(UserError):  # not offered by OpenClaw for this one
        await service.resolve_approval(world["owner"], world["approval"], "allow-always")
    with pytest.raises(NotFound):
        await service.resolve_approval(world["owner"], world["expired"], "allow-once")
    assert world["caller"].calls == []


async def test_an_answer_goes_to_the_gateway_and_is_recorded_and_audited(world, session):
    service = world["service"]
    with world["bus"].subscribe([Kind.APPROVALS]) as events:
        said = await service.resolve_approval(world["owner"], world["approval"], "deny")
        event = await events.get(timeout=2)
    assert said == "Denied: touch /tmp/x"
    assert world["caller"].calls == [("exec.approval.resolve", {"id": "ap1", "decision": "deny"})]
    assert event.payload["state"] == "denied"
    row = session.get(ApprovalRequest, world["approval"])
    session.refresh(row)
    assert (row.state, row.decision, row.resolved_by_id) == ("denied", "deny", world["owner"].user_id)
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "approval.deny")).first()
    with pytest.raises(NotFound):  # answered already
        await service.resolve_approval(world["owner"], world["approval"], "allow-once")


async def test_an_approval_gone_from_the_gateway_is_closed(world, session):
    world["caller"].fail = GatewayError("INVALID_REQUEST", "approval expired or not found")
    with pytest.raises(NotFound):
        await world["service"].resolve_approval(world["owner"], world["approval"], "allow-once")
    row = session.get(ApprovalRequest, world["approval"])
    session.refresh(row)
    assert row.state == ApprovalState.EXPIRED


def test_the_fake_model_asks_for_a_tool_and_answers_its_result():
    reply = plan_reply('TOOL CALL: exec {"command": "touch x"}')
    assert reply.tool_call == ("exec", '{"command": "touch x"}')
    follow_up = {
        "messages": [
            {"role": "user", "content": 'TOOL CALL: exec {"command": "touch x"}'},
            {"role": "assistant", "content": None, "tool_calls": [{"id": "c1"}]},
            {"role": "tool", "content": "(no output)", "tool_call_id": "c1"},
            {
                "role": "user",
                "content": "<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>x<<<END_OPENCLAW_INTERNAL_CONTEXT>>>",
            },
        ]
    }
    assert tool_result(follow_up) == "(no output)"
    assert tool_result({"messages": follow_up["messages"][:1]}) is None


async def test_the_tool_call_is_streamed_in_pieces():
    body = {
        "model": "echo-1",
        "stream": True,
        "messages": [{"role": "user", "content": 'TOOL CALL: exec {"command": "touch x"}'}],
    }
    async with (
        FakeLLM() as llm,
        httpx.AsyncClient() as http,
        http.stream("POST", f"{llm.base_url}/chat/completions", json=body) as resp,
    ):
        lines = [line async for line in resp.aiter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line[6:]) for line in lines[:-1]]
    calls = [
        c["choices"][0]["delta"]["tool_calls"][0]
        for c in chunks
        if c["choices"][0]["delta"].get("tool_calls")
    ]
    assert calls[0]["function"]["name"] == "exec" and calls[0]["id"]
    assert json.loads("".join(c["function"]["arguments"] for c in calls)) == {"command": "touch x"}
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_another_web_worker_may_ask_the_control_plane_to_answer():
    from clawnet.controlplane.remote import REMOTE_METHODS

    assert {"exec.approval.resolve", "plugin.approval.resolve"} <= REMOTE_METHODS


def test_a_reconnected_gateway_is_caught_up_with(session):
    gateway = Gateway(name="gw", token_enc="x")
    session.add(gateway)
    session.flush()
    lost = parse_event("exec.approval.requested", exec_event("lost"))
    missed = parse_event("exec.approval.requested", exec_event("missed"))
    assert isinstance(lost, ApprovalAsked) and isinstance(missed, ApprovalAsked)
    record_asked(session, gateway.id, None, lost)
    changed = catch_up(session, gateway.id, ApprovalKind.EXEC, [(missed, None)])
    assert {(r.approval_id, r.state) for r in changed} == {("missed", "pending"), ("lost", "expired")}
