"""The control plane against real OpenClaw gateways (only the model is faked)."""

from __future__ import annotations

import asyncio
import os
import signal

import psutil
import pytest
from sqlmodel import select

from clawnet.controlplane.chat import ChatError
from clawnet.db import session_scope
from clawnet.enums import BotStatus, GatewayStatus, TurnStatus
from clawnet.events import Kind
from clawnet.models import BotSession, ChatTurn, TranscriptMessage
from tests.factories import gateway_of
from tests.integration.conftest import Fleet

pytestmark = pytest.mark.gateway


async def test_bot_runs_answers_and_its_session_lands_in_the_db_then_a_second_bot_joins_hot(fleet: Fleet):
    bot_id = await fleet.service.create_bot(
        fleet.admin, fleet.bot_input("Support Bot", persona="You are Captain Crab.")
    )
    await fleet.service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=180)
    gw = gateway_of(bot_id)
    assert gw.actual_status == GatewayStatus.RUNNING.value
    assert gw.pid is not None and psutil.pid_exists(gw.pid)
    assert gw.applied_config_hash == gw.desired_config_hash != ""

    with fleet.bus.subscribe([Kind.SESSION_MESSAGE], bot_ids=[bot_id]) as messages:
        turn = await fleet.service.chat(fleet.admin, bot_id, "REPLY WITH: Ahoy from the deep.")
        deltas = [kind async for kind, _ in turn.stream()]
        assert await turn.result(5) == "Ahoy from the deep."
        assert deltas[-1] == "final" and "delta" in deltas
        seen = set()
        while len(seen) < 2:
            event = await messages.get(timeout=30)
            seen.add(event.payload["role"])

    # The persona reached the model through the workspace files.
    system_prompt = fleet.controller.echo_llm.requests[-1]["messages"][0]["content"]
    assert "You are Captain Crab." in str(system_prompt)

    with session_scope() as s:
        session_row = s.exec(select(BotSession).where(BotSession.bot_id == bot_id)).one()
        assert session_row.key == "agent:support-bot:main"
        rows = s.exec(
            select(TranscriptMessage)
            .where(TranscriptMessage.session_id == session_row.id)
            .order_by(TranscriptMessage.seq)
        ).all()
        assert [(m.role, m.text) for m in rows][-2:] == [
            ("user", "REPLY WITH: Ahoy from the deep."),
            ("assistant", "Ahoy from the deep."),
        ]
        assert session_row.message_count == len(rows)
        assert s.exec(select(ChatTurn)).one().status == TurnStatus.DONE.value

    second = await fleet.service.create_bot(fleet.admin, fleet.bot_input("Sales Bot"))
    await fleet.service.wait_for_bot(second, BotStatus.RUNNING, timeout=60)
    gw_after = gateway_of(second)
    assert gw_after.id == gw.id and gw_after.pid == gw.pid  # same pool, same process: a hot change
    turn = await fleet.service.chat(fleet.admin, second, "REPLY WITH: Second bot here.")
    assert await turn.result(120) == "Second bot here."


async def test_a_killed_gateway_is_noticed_restarted_and_keeps_its_sessions(fleet: Fleet):
    bot_id = await fleet.service.create_bot(fleet.admin, fleet.bot_input("Sturdy"))
    await fleet.service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=180)
    turn = await fleet.service.chat(fleet.admin, bot_id, "REPLY WITH: before the crash")
    assert await turn.result(120) == "before the crash"
    old_pid = gateway_of(bot_id).pid
    assert old_pid is not None

    gateway_id = gateway_of(bot_id).id
    statuses = fleet.bus.subscribe([Kind.GATEWAY_STATUS], gateway_ids=[gateway_id])
    with fleet.bus.subscribe([Kind.GATEWAY_EXITED, Kind.GATEWAY_STATUS]) as events:
        os.kill(old_pid, signal.SIGKILL)
        # Noticed (how fast: bench/fleet_crash_latency.py); a status event may come first.
        while (exited := await events.get(timeout=60)).kind != Kind.GATEWAY_EXITED:
            pass
        assert exited.payload["pid"] == old_pid
    await fleet.service.wait_for_bot(bot_id, BotStatus.ERROR, timeout=60)  # the crash is recorded
    await fleet.service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=180)  # and recovered
    # Every live view of the gateway heard it come back, not only the bot's card.
    heard = []
    with statuses:
        while (event := statuses.get_nowait()) is not None:
            heard.append(event.payload["status"])
    assert "restarting" in heard and heard[-1] == "running", heard
    gw = gateway_of(bot_id)
    assert gw.pid != old_pid and gw.restart_count == 1
    assert not psutil.pid_exists(old_pid) or psutil.Process(old_pid).status() == psutil.STATUS_ZOMBIE

    turn = await fleet.service.chat(fleet.admin, bot_id, "REPLY WITH: after the crash")
    assert await turn.result(120) == "after the crash"
    history = await fleet.controller.links[gw.id].client.call(
        "chat.history", {"sessionKey": "agent:sturdy:main"}
    )
    texts = [
        m.get("content") if isinstance(m.get("content"), str) else m["content"][0].get("text")
        for m in history["messages"]
    ]
    assert "before the crash" in texts and "after the crash" in texts

    # What ClawNet missed while not listening comes back page by page (chat.history pages from
    # the newest backwards): 25 more lines, the stored copy cut back to its first two.
    link = fleet.controller.links[gw.id]
    for i in range(25):
        await link.client.call("chat.inject", {"sessionKey": "agent:sturdy:main", "message": f"note {i}"})
    total = (await link.client.call("chat.history", {"sessionKey": "agent:sturdy:main", "limit": 1}))[
        "totalMessages"
    ]
    for _ in range(300):  # the live copy first (session.message events), so nothing races the cut
        with session_scope() as s:
            row = s.exec(select(BotSession).where(BotSession.bot_id == bot_id)).one()
            if (
                len(s.exec(select(TranscriptMessage.id).where(TranscriptMessage.session_id == row.id)).all())
                >= total
            ):
                break
        await asyncio.sleep(0.1)
    with session_scope() as s:
        for m in s.exec(select(TranscriptMessage).where(TranscriptMessage.session_id == row.id)).all():
            if m.seq > 2:
                s.delete(m)
    assert await fleet.controller.sessions.backfill(link) == total - 2
    with session_scope() as s:
        seqs = s.exec(
            select(TranscriptMessage.seq)
            .where(TranscriptMessage.session_id == row.id)
            .order_by(TranscriptMessage.seq)
        ).all()
    assert list(seqs) == list(range(1, total + 1))


async def test_stopping_one_bot_in_a_pool_keeps_the_others_running_and_starting_it_is_hot(fleet: Fleet):
    a = await fleet.service.create_bot(fleet.admin, fleet.bot_input("Alpha"))
    b = await fleet.service.create_bot(fleet.admin, fleet.bot_input("Beta"))
    await fleet.service.wait_for_bot(a, BotStatus.RUNNING, timeout=180)
    await fleet.service.wait_for_bot(b, BotStatus.RUNNING, timeout=60)
    pid = gateway_of(a).pid
    await fleet.service.set_running(fleet.admin, b, False)
    await fleet.service.wait_for_bot(b, BotStatus.STOPPED, timeout=60)
    assert gateway_of(a).pid == pid
    with pytest.raises(ChatError, match="stopped"):
        await fleet.service.chat(fleet.admin, b, "anyone there?")
    turn = await fleet.service.chat(fleet.admin, a, "REPLY WITH: alpha still here")
    assert await turn.result(120) == "alpha still here"
    await fleet.service.set_running(fleet.admin, b, True)
    await fleet.service.wait_for_bot(b, BotStatus.RUNNING, timeout=60)
    assert gateway_of(b).pid == pid  # no restart either way
    turn = await fleet.service.chat(fleet.admin, b, "REPLY WITH: back")
    assert await turn.result(120) == "back"


async def test_taking_a_tool_off_the_deny_list_is_applied_hot(fleet: Fleet):
    """OpenClaw refuses a patch that shrinks an array unless the patch names it: the reconciler
    names every array it replaces, so removing entries works like adding them."""
    bot_id = await fleet.service.create_bot(
        fleet.admin, fleet.bot_input("Careful", tools_deny=["exec", "browser", "write"])
    )
    await fleet.service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=180)
    gw = gateway_of(bot_id)
    with fleet.bus.subscribe([Kind.CONFIG_APPLIED, Kind.ERROR], gateway_ids=[gw.id]) as events:
        await fleet.service.update_bot(
            fleet.admin, bot_id, fleet.bot_input("Careful", agent_id="careful", tools_deny=["exec"])
        )
        # The first start may still be telling its own news; then comes the answer to the change.
        while (event := await events.get(timeout=120)).kind == Kind.CONFIG_APPLIED and event.payload[
            "how"
        ] == "start":
            pass
    assert event.kind == Kind.CONFIG_APPLIED and event.payload["how"] == "hot", event.payload
    running = await fleet.controller.links[gw.id].api.config()
    assert running["agents"]["entries"]["careful"]["tools"]["deny"] == ["exec"]
    assert gateway_of(bot_id).pid == gw.pid
