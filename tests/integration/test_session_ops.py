"""Operating sessions on one real gateway (fake LLM, fake Telegram Bot API): each operation's
effect on the gateway and in ClawNet's database. One bot, started once for the module."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from sqlmodel import select

from clawnet import db
from clawnet.bots.forms import BotInput, ChannelInput
from clawnet.bots.providers import ensure_local_echo_provider
from clawnet.bots.service import BotsService
from clawnet.bots.session_views import SessionFilters
from clawnet.controlplane.controller import FleetController
from clawnet.controlplane.protocol import GatewayError
from clawnet.db import session_scope
from clawnet.enums import BotStatus, ChannelStatus, Role, TurnStatus
from clawnet.models import AuditEvent, Bot, BotChannel, BotSession, TranscriptMessage
from clawnet.security import crypto
from clawnet.security.permissions import Principal
from clawnet.settings import get_settings
from tests.factories import make_user
from tests.support.fake_telegram import FakeTelegram
from tests.support.server import free_port, free_port_range

pytestmark = [pytest.mark.gateway, pytest.mark.asyncio(loop_scope="module")]
TOKEN = "123456789:AAH0f2l4xmPBtFakeTokenForTests_abcdefg"
ALICE = 111111111


@dataclass
class World:
    service: BotsService
    controller: FleetController
    telegram: FakeTelegram
    admin: Principal
    bot_id: int
    agent_id: str
    alice_session: int  # ClawNet's id of Alice's Telegram conversation

    async def gateway_call(self, method: str, params: dict[str, Any]) -> Any:
        with session_scope() as s:
            gateway_id = s.get(Bot, self.bot_id).gateway_id
        link = self.controller.links.connected(gateway_id)
        assert link is not None
        return await link.api.caller.call(method, params, timeout=30)

    def sent(self) -> list[dict[str, Any]]:
        return self.telegram.bots[TOKEN].sent


async def until(check: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


def lines(session_id: int) -> list[tuple[str, str]]:
    with session_scope() as s:
        rows = s.exec(
            select(TranscriptMessage)
            .where(TranscriptMessage.session_id == session_id)
            .order_by(TranscriptMessage.seq)
        ).all()
        return [(m.role, m.text) for m in rows]


def audited(action: str, session_id: int) -> bool:
    with session_scope() as s:
        return (
            s.exec(
                select(AuditEvent).where(AuditEvent.action == action, AuditEvent.object_id == str(session_id))
            ).first()
            is not None
        )


def alice_says(world: World, text: str) -> None:
    world.telegram.push_message(TOKEN, chat_id=ALICE, from_id=ALICE, text=text)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    with pytest.MonkeyPatch.context() as mp, FakeTelegram() as telegram:
        mp.setenv("CLAWNET_DATA_DIR", str(tmp_path_factory.mktemp("sessops") / "data"))
        for name in (
            "DATABASE_URL",
            "CLAWNET_SECRET_KEY",
            "CLAWNET_PREVIOUS_SECRET_KEYS",
            "CLAWNET_KEY_FILE",
        ):
            mp.delenv(name, raising=False)
        mp.setenv("CLAWNET_GATEWAY_BASE_PORT", str(free_port_range()))
        mp.setenv("CLAWNET_ECHO_PORT", str(free_port()))
        mp.setenv("CLAWNET_TELEGRAM_API_ROOT", telegram.api_root)
        get_settings.cache_clear()
        db.dispose_engines()
        crypto.set_key_ring(None)
        db.migrate()
        telegram.add_bot(TOKEN, "helper_bot")
        with session_scope() as s:
            admin = Principal.of(make_user(s, Role.ADMIN, name="Olga Admin"))
            provider_id = ensure_local_echo_provider(s).id
        controller = FleetController(get_settings(), start_timeout_s=180)
        controller.channel_settle_s = 3
        await controller.start()
        service = BotsService(get_settings(), controller.bus, controller)
        try:
            channel = ChannelInput("telegram", {"botToken": TOKEN}, "allowlist", [str(ALICE)])
            bot_id = await service.create_bot(
                admin, BotInput(name="Helper", provider_id=provider_id, model_id="echo-1", channels=[channel])
            )
            await service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=240)

            def connected() -> bool:
                with session_scope() as s:
                    row = s.exec(select(BotChannel).where(BotChannel.bot_id == bot_id)).one()
                    return row.status == ChannelStatus.CONNECTED.value

            await until(connected, "Telegram to connect", 90)
            with session_scope() as s:
                agent_id = s.get(Bot, bot_id).agent_id
            world = World(service, controller, telegram, admin, bot_id, agent_id, 0)
            alice_says(world, "REPLY WITH: hello Alice")
            await until(lambda: world.sent(), "the bot's answer in Telegram", 120)
            key = f"agent:{agent_id}:telegram:direct:{ALICE}"

            def alice_session() -> int | None:
                with session_scope() as s:
                    row = s.exec(select(BotSession).where(BotSession.key == key)).first()
                    return row.id if row is not None and row.message_count >= 2 else None

            world.alice_session = await until(alice_session, "Alice's conversation in ClawNet", 60)
            yield world
        finally:
            await controller.stop()
            get_settings.cache_clear()
            db.dispose_engines()
            crypto.set_key_ring(None)


async def test_rename_is_kept_by_the_gateway_and_shown_in_the_list(world: World):
    await world.service.rename_session(world.admin, world.alice_session, "Alice (Telegram)")
    described = await world.gateway_call(
        "sessions.describe",
        {"key": f"agent:{world.agent_id}:telegram:direct:{ALICE}", "agentId": world.agent_id},
    )
    row = described.get("session") or described
    assert row.get("label") == "Alice (Telegram)"
    listed = (await world.service.session_page(world.admin, SessionFilters(bot_id=world.bot_id))).rows
    assert [s.label for s in listed if s.id == world.alice_session] == ["Alice (Telegram)"]
    assert audited("session.rename", world.alice_session)


async def test_an_operator_reply_reaches_telegram_and_is_marked_in_the_transcript(world: World):
    before = len(world.sent())
    await world.service.reply_as_operator(world.admin, world.alice_session, "A human here: we are on it.")
    sent = await until(lambda: world.sent()[before:], "the operator's message in Telegram", 30)
    assert sent[0]["text"] == "A human here: we are on it." and int(sent[0]["chat_id"]) == ALICE

    async def marked() -> list[str]:
        return [
            line.author
            for line in (await world.service.transcript_page(world.admin, world.alice_session)).lines
            if line.text == "A human here: we are on it."
        ]

    deadline = time.monotonic() + 30
    while not (authors := await marked()) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    assert authors == ["Operator · Olga Admin"]
    assert audited("session.reply", world.alice_session)


async def test_compact_is_done_by_the_gateway(world: World):
    said = await world.service.compact_session(world.admin, world.alice_session)
    assert said == "Session compacted."
    assert audited("session.compact", world.alice_session)


async def test_reset_empties_the_history_and_the_conversation_goes_on(world: World):
    assert ("assistant", "hello Alice") in lines(world.alice_session)
    await world.service.reset_session(world.admin, world.alice_session)
    spoken = {"user", "assistant"}
    await until(
        lambda: not [r for r, _ in lines(world.alice_session) if r in spoken], "ClawNet's copy to empty", 20
    )
    history = await world.gateway_call(
        "chat.history", {"sessionKey": f"agent:{world.agent_id}:telegram:direct:{ALICE}", "limit": 50}
    )
    assert not [m for m in history["messages"] if m.get("role") in spoken]
    assert audited("session.reset", world.alice_session)
    # The next generation numbers its messages from 1 again: ClawNet records them anyway.
    alice_says(world, "REPLY WITH: fresh start")
    await until(lambda: ("assistant", "fresh start") in lines(world.alice_session), "the new reply", 120)


async def test_a_new_session_can_be_deleted_again(world: World):
    session_id = await world.service.new_session(world.admin, world.bot_id, "Scratch pad")
    listed = (await world.service.session_page(world.admin, SessionFilters(bot_id=world.bot_id))).rows
    [row] = [s for s in listed if s.id == session_id]
    assert row.label == "Scratch pad"
    described = await world.gateway_call("sessions.describe", {"key": row.key, "agentId": world.agent_id})
    assert (described.get("session") or described).get("label") == "Scratch pad"

    await world.service.delete_session(world.admin, session_id)
    listed = (await world.service.session_page(world.admin, SessionFilters(bot_id=world.bot_id))).rows
    assert session_id not in [s.id for s in listed]
    with session_scope() as s:
        assert s.get(BotSession, session_id) is None
    gone = True
    with contextlib.suppress(GatewayError):
        described = await world.gateway_call("sessions.describe", {"key": row.key, "agentId": world.agent_id})
        gone = not (described.get("session") or {}).get("sessionId")
    assert gone
    assert audited("session.delete", session_id)


async def test_abort_stops_a_running_turn(world: World):
    started = time.monotonic()
    turn = await world.service.chat(world.admin, world.bot_id, "DELAY MS: 60000\nREPLY WITH: too late")
    key = turn.session_key

    def running_session() -> int | None:
        with session_scope() as s:
            row = s.exec(select(BotSession).where(BotSession.key == key)).first()
            return row.id if row is not None else None

    session_id = await until(running_session, "the dashboard session in ClawNet", 60)
    aborted = False
    deadline = time.monotonic() + 30
    while not aborted and time.monotonic() < deadline:  # the run may not be admitted yet
        aborted = await world.service.abort_session(world.admin, session_id)
        if not aborted:
            await asyncio.sleep(0.5)
    assert aborted
    await asyncio.wait_for(turn.done.wait(), 30)  # the turn ends at once...
    assert turn.text != "too late", (turn.status, turn.error)  # ...without the model's answer
    # (OpenClaw ends it "aborted", or "final" with nothing when the run had not started yet.)
    assert turn.status is TurnStatus.FAILED or not turn.text, (turn.status, turn.text, turn.error)
    described = await world.gateway_call("sessions.describe", {"key": key, "agentId": world.agent_id})
    assert not (described.get("session") or described).get("hasActiveRun")
    assert time.monotonic() - started < 55  # well before the fake model would have answered
    assert audited("session.abort", session_id)
    assert not await world.service.abort_session(world.admin, session_id)  # nothing runs any more
