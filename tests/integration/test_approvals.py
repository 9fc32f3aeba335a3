"""Exec approvals on a real gateway: a bot whose exec tool asks first (the fake LLM answers with
an exec tool call) raises `exec.approval.requested`; ClawNet records it with the bot, session,
command and OpenClaw's expiry; approving through the service makes the command run, denying
keeps it from running, a viewer cannot answer, and each answer is audited."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from clawnet.controlplane.echo_llm import tool_result
from clawnet.db import session_scope
from clawnet.enums import ApprovalState, BotStatus, Role, TurnStatus
from clawnet.errors import PermissionDenied
from clawnet.models import ApprovalRequest, AuditEvent, Bot, User
from clawnet.security.permissions import Principal
from tests.factories import assign, make_user
from tests.integration.conftest import Fleet

pytestmark = pytest.mark.gateway


async def until(check: Callable[[], Any], what: str, timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


def pending_for(command_part: str) -> Callable[[], ApprovalRequest | None]:
    def check() -> ApprovalRequest | None:
        with session_scope() as s:
            rows = s.exec(select(ApprovalRequest).where(ApprovalRequest.state == ApprovalState.PENDING)).all()
            return next((r for r in rows if command_part in r.command), None)

    return check


def llm_requests(fleet: Fleet) -> list[dict[str, Any]]:
    assert fleet.controller.echo_llm is not None
    return fleet.controller.echo_llm.requests


def tool_call(path: Path) -> str:
    return "TOOL CALL: exec " + json.dumps({"command": f"touch {path}"})


async def test_an_exec_approval_is_recorded_and_runs_only_when_approved(fleet: Fleet, tmp_path: Path):
    inp = fleet.bot_input("Runner", tools_allow=["exec"], exec_approval=True)
    bot_id = await fleet.service.create_bot(fleet.admin, inp)
    await fleet.service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=240)
    with session_scope() as s:
        bot = s.get(Bot, bot_id)
        agent_id = bot.agent_id
        viewer = make_user(s, Role.VIEWER, name="Vic Viewer")
        assign(s, viewer, bot)
        viewer_p = Principal.of(viewer)

    # Approved: the command runs and the model gets its result.
    yes = tmp_path / "yes.txt"
    turn = await fleet.service.chat(fleet.admin, bot_id, tool_call(yes), timeout_s=240)
    row = await until(pending_for(str(yes)), "the approval request in ClawNet", 120)
    assert row.bot_id == bot_id and row.kind == "exec" and row.agent_id == agent_id
    assert row.session_key.startswith(f"agent:{agent_id}:")
    assert row.expires_at is not None and row.expires_at > row.requested_at
    assert "allow-once" in row.decisions and "deny" in row.decisions
    listed = await fleet.service.approvals(viewer_p)
    assert [a.id for a in listed] == [row.id] and not listed[0].can_decide
    with pytest.raises(PermissionDenied):
        await fleet.service.resolve_approval(viewer_p, row.id or 0, "allow-once")
    assert await fleet.service.inbox_count(fleet.admin) >= 1

    said = await fleet.service.resolve_approval(fleet.admin, row.id or 0, "allow-once")
    assert said.startswith("Approved once")
    await asyncio.wait_for(turn.done.wait(), 180)
    assert turn.status is TurnStatus.DONE, turn.error
    assert yes.exists()
    # The model got the command's result back and answered the turn with it.
    assert any(tool_result(b) is not None for b in llm_requests(fleet)), "no follow-up with the tool result"
    with session_scope() as s:
        done = s.get(ApprovalRequest, row.id)
        assert done.state == ApprovalState.APPROVED and done.decision == "allow-once"
        assert done.resolved_by_id == fleet.admin.user_id
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "approval.approve")).first()
    assert await fleet.service.approvals(fleet.admin) == []

    # Denied: the command never runs.
    no = tmp_path / "no.txt"
    turn = await fleet.service.chat(fleet.admin, bot_id, tool_call(no), timeout_s=240)
    row = await until(pending_for(str(no)), "the second approval request", 120)
    assert (await fleet.service.resolve_approval(fleet.admin, row.id or 0, "deny")).startswith("Denied")
    await asyncio.wait_for(turn.done.wait(), 180)
    assert not no.exists()
    results = [r for r in map(tool_result, llm_requests(fleet)) if r is not None]
    assert "denied" in results[-1].lower(), results[-1]
    with session_scope() as s:
        assert s.get(ApprovalRequest, row.id).state == ApprovalState.DENIED
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "approval.deny")).first()
        assert s.exec(select(User).where(User.id == viewer_p.user_id)).first()
    history = await fleet.service.approval_history(fleet.admin)
    assert {h.state for h in history} == {"approved", "denied"}
