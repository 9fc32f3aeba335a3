"""Routing rules and groups on a real gateway: two bots on one pooled gateway, OpenClaw's Telegram
channel against the fake Bot API. The echo model signs its replies with the bot that answered."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlmodel import select

from clawnet.bots.forms import BindingInput, ChannelInput
from clawnet.bots.routing_rules import GroupRow
from clawnet.bots.service import BotsService
from clawnet.db import session_scope
from clawnet.enums import BotStatus, ChannelStatus
from clawnet.errors import UserError
from clawnet.models import Bot, BotChannel, Gateway
from clawnet.settings import get_settings
from tests.integration.conftest import FleetData, start_fleet
from tests.support.fake_telegram import FakeTelegram

pytestmark = pytest.mark.gateway
TOKEN_A = "123456789:AAH0f2l4xmPBtFakeTokenForTests_abcdefg"
TOKEN_B = "223456789:AAH0f2l4xmPBtFakeTokenForTests_bcdefgh"
ALICE, BOB = 111111111, 222222222


@pytest.fixture
def telegram(fleet_env, monkeypatch):
    with FakeTelegram() as fake:
        monkeypatch.setenv("CLAWNET_TELEGRAM_API_ROOT", fake.api_root)
        get_settings.cache_clear()
        fake.add_bot(TOKEN_A, "alpha_bot")
        fake.add_bot(TOKEN_B, "beta_bot")
        yield fake


async def reply_to(telegram: FakeTelegram, token: str, person: int, text: str, timeout: float = 120) -> str:
    """Send `text` as `person` to the Telegram bot `token`; the bot's answer."""
    sent = telegram.bots[token].sent
    count = len(sent)
    telegram.push_message(token, chat_id=person, from_id=person, text=text, username=f"user{person}")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answers = [m for m in sent[count:] if int(m.get("chat_id", 0)) == person]
        if answers:
            return str(answers[0]["text"])
        await asyncio.sleep(0.3)
    raise AssertionError(f"no answer to {text!r} within {timeout:.0f} s")


def applied_version(bot_id: int) -> int:
    with session_scope() as s:
        return s.get(Gateway, s.get(Bot, bot_id).gateway_id).applied_config_version


async def applied(bot_id: int, since: int, timeout: float = 120) -> None:
    """Wait until the bot's gateway runs a config newer than version `since`, and the latest."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with session_scope() as s:
            gw = s.get(Gateway, s.get(Bot, bot_id).gateway_id)
            if gw.applied_config_version > since and gw.applied_config_hash == gw.desired_config_hash:
                return
        await asyncio.sleep(0.3)
    raise AssertionError("the gateway did not apply the change")


async def connected(bot_id: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with session_scope() as s:
            if (
                s.exec(select(BotChannel).where(BotChannel.bot_id == bot_id)).one().status
                == ChannelStatus.CONNECTED
            ):
                return
        await asyncio.sleep(0.5)
    raise AssertionError("the channel did not connect")


async def test_a_rule_makes_another_bot_answer_one_person_through_the_first_bots_account(
    telegram, fleet_admin: FleetData
):
    controller = await start_fleet(get_settings())
    controller.channel_settle_s = 3
    service = BotsService(get_settings(), controller.bus, controller)
    admin = fleet_admin.admin
    try:
        alpha = await service.create_bot(
            admin,
            fleet_admin.bot_input(
                "Alpha", channels=[ChannelInput("telegram", {"botToken": TOKEN_A}, "open")]
            ),
        )
        beta = await service.create_bot(
            admin,
            fleet_admin.bot_input("Beta", channels=[ChannelInput("telegram", {"botToken": TOKEN_B}, "open")]),
        )
        for bot_id in (alpha, beta):
            await service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=180)
            await connected(bot_id)
        with session_scope() as s:
            assert s.get(Bot, alpha).gateway_id == s.get(Bot, beta).gateway_id  # one pooled gateway
        assert await reply_to(telegram, TOKEN_A, ALICE, "REPLY WITH: {agent} here") == "Alpha here"

        rule = BindingInput("telegram", account_id="alpha", peer_kind="direct", peer_id=str(ALICE))
        version = applied_version(beta)
        message = await service.save_rules(admin, beta, [rule])
        assert "OpenClaw accepts" in message
        await applied(beta, version)
        assert await reply_to(telegram, TOKEN_A, ALICE, "REPLY WITH: {agent} here") == "Beta here"
        assert await reply_to(telegram, TOKEN_A, BOB, "REPLY WITH: {agent} here") == "Alpha here"
        assert await reply_to(telegram, TOKEN_B, BOB, "REPLY WITH: {agent} here") == "Beta here"

        # OpenClaw's own check runs before saving; ClawNet's field checks before that.
        with pytest.raises(UserError) as refused:
            await service.save_rules(
                admin, beta, [BindingInput("telegram", account_id="alpha", peer_kind="direct", peer_id="-5")]
            )
        assert "Telegram user id" in refused.value.field_errors["bindings.0.peer_id"]

        version = applied_version(beta)
        await service.save_rules(admin, beta, [])
        await applied(beta, version)
        assert await reply_to(telegram, TOKEN_A, ALICE, "REPLY WITH: {agent} here") == "Alpha here"

        version = applied_version(alpha)
        message = await service.save_groups(
            admin, alpha, "telegram", policy="allowlist", mention="mention",
            groups=[GroupRow("-1001234567890", "always")],
        )  # fmt: skip
        assert "OpenClaw accepts" in message
        await applied(alpha, version)
        with session_scope() as s:
            account = s.get(Gateway, s.get(Bot, alpha).gateway_id).applied_config["channels"]["telegram"][
                "accounts"
            ]
        assert account["alpha"]["groups"] == {"-1001234567890": {"requireMention": False}}
        assert account["alpha"]["groupPolicy"] == "allowlist" and account["alpha"]["groupAllowFrom"] == ["*"]
    finally:
        await controller.stop()
