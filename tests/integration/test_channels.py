"""A real channel: OpenClaw's Telegram channel against a fake Bot API on loopback (Telegram's
servers cannot be reached here; the fake speaks the same HTTP interface)."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest
from sqlmodel import select

from clawnet.bots.forms import ChannelInput
from clawnet.bots.service import BotsService
from clawnet.controlplane.health import RestartPolicy
from clawnet.db import session_scope
from clawnet.enums import BotStatus, ChannelStatus
from clawnet.models import Bot, BotChannel, BotSession, Gateway, TranscriptMessage
from clawnet.settings import get_settings
from tests.integration.conftest import FleetData, start_fleet
from tests.support.fake_telegram import FakeTelegram

pytestmark = pytest.mark.gateway
TOKEN = "123456789:AAH0f2l4xmPBtFakeTokenForTests_abcdefg"
ALICE = 111111111


@pytest.fixture
def telegram(fleet_env, monkeypatch):
    with FakeTelegram() as fake:
        monkeypatch.setenv("CLAWNET_TELEGRAM_API_ROOT", fake.api_root)
        get_settings.cache_clear()
        fake.add_bot(TOKEN, "helper_bot")
        yield fake


async def wait_for_reply(telegram: FakeTelegram, count: int, timeout: float = 120) -> list[dict]:
    deadline = time.monotonic() + timeout
    while len(telegram.bots[TOKEN].sent) < count and time.monotonic() < deadline:
        await asyncio.sleep(0.3)
    return telegram.bots[TOKEN].sent


async def channel_status(bot_id: int, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while True:
        with session_scope() as s:
            status = s.exec(select(BotChannel).where(BotChannel.bot_id == bot_id)).one().status
        if status == ChannelStatus.CONNECTED.value or time.monotonic() > deadline:
            return status
        await asyncio.sleep(0.5)


async def test_a_telegram_user_is_answered_and_the_conversation_is_recorded(telegram, fleet_admin: FleetData):
    controller = await start_fleet(get_settings())
    controller.channel_settle_s = 3
    service = BotsService(get_settings(), controller.bus, controller)
    try:
        bot_id = await service.create_bot(
            fleet_admin.admin,
            fleet_admin.bot_input(
                "Helper", channels=[ChannelInput("telegram", {"botToken": TOKEN}, "allowlist", [str(ALICE)])]
            ),
        )
        await service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=180)
        assert await channel_status(bot_id) == ChannelStatus.CONNECTED.value
        telegram.push_message(TOKEN, chat_id=ALICE, from_id=ALICE, text="REPLY WITH: hi from telegram")
        sent = await wait_for_reply(telegram, 1)
        assert sent[0]["text"] == "hi from telegram" and int(sent[0]["chat_id"]) == ALICE
        telegram.push_message(
            TOKEN, chat_id=222, from_id=222, text="REPLY WITH: strangers get nothing", username="mallory"
        )
        await asyncio.sleep(5)
        assert len(telegram.bots[TOKEN].sent) == 1  # the allowlist holds
        await asyncio.sleep(1)
        with session_scope() as s:
            session_row = s.exec(select(BotSession).where(BotSession.bot_id == bot_id)).one()
            assert (session_row.key, session_row.channel) == (
                f"agent:helper:telegram:direct:{ALICE}",
                "telegram",
            )
            texts = [
                m.text
                for m in s.exec(
                    select(TranscriptMessage).where(TranscriptMessage.session_id == session_row.id)
                )
            ]
            assert "hi from telegram" in texts
    finally:
        await controller.stop()


async def test_channels_come_back_after_openclaws_restart_loop_breaker_trips(
    telegram, fleet_admin: FleetData
):
    controller = await start_fleet(
        get_settings(), policy=RestartPolicy(base_delay_s=0.2, crash_loop_after=50)
    )
    controller.channel_settle_s = 3
    service = BotsService(get_settings(), controller.bus, controller)
    try:
        bot_id = await service.create_bot(
            fleet_admin.admin,
            fleet_admin.bot_input("Helper", channels=[ChannelInput("telegram", {"botToken": TOKEN}, "open")]),
        )
        await service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=180)
        for _ in range(4):  # three unclean boots within five minutes trip OpenClaw's breaker
            with session_scope() as s:
                pid = s.get(Gateway, s.get(Bot, bot_id).gateway_id).pid
            os.kill(pid, signal.SIGKILL)
            await service.wait_for_bot(bot_id, BotStatus.ERROR, timeout=30)
            await service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=180)
        assert await channel_status(bot_id, timeout=60) == ChannelStatus.CONNECTED.value
        telegram.push_message(TOKEN, chat_id=ALICE, from_id=ALICE, text="REPLY WITH: back online")
        sent = await wait_for_reply(telegram, 1)
        assert sent and sent[-1]["text"] == "back online"
    finally:
        await controller.stop()
