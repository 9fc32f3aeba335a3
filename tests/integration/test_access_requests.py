"""Access requests against a real gateway: strangers write to a Telegram bot whose DM policy is
"pairing" (OpenClaw's Telegram channel against the fake Bot API on loopback), ClawNet lists their
requests, and approving, dismissing and revoking do what they say to the next message."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import col, select

from clawnet.bots.forms import ChannelInput
from clawnet.bots.service import BotsService
from clawnet.db import session_scope
from clawnet.enums import BotStatus, Role
from clawnet.errors import PermissionDenied
from clawnet.events import Kind
from clawnet.models import ApprovedSender, AuditEvent, BotAssignment, BotChannel
from clawnet.security.permissions import Principal
from clawnet.settings import get_settings
from tests.factories import make_user
from tests.integration.conftest import FleetData, start_fleet
from tests.support.fake_telegram import FakeTelegram

pytestmark = pytest.mark.gateway
TOKEN = "123456789:AAH0f2l4xmPBtFakeTokenForTests_abcdefg"
STRANGER = 222222222
OTHER = 333333333


@pytest.fixture
def telegram(fleet_env, monkeypatch):
    with FakeTelegram() as fake:
        monkeypatch.setenv("CLAWNET_TELEGRAM_API_ROOT", fake.api_root)
        get_settings.cache_clear()
        fake.add_bot(TOKEN, "helper_bot")
        yield fake


async def until(check: Callable[[], Any], timeout: float = 60, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        await asyncio.sleep(0.2)


def sent_to(telegram: FakeTelegram, chat_id: int) -> list[str]:
    return [m["text"] for m in telegram.bots[TOKEN].sent if int(m["chat_id"]) == chat_id]


def is_pairing_reply(text: str) -> bool:
    return "Pairing code" in text


async def test_a_stranger_is_listed_approved_answered_then_revoked(telegram, fleet_admin: FleetData):
    controller = await start_fleet(get_settings())
    controller.channel_settle_s = 3
    service = BotsService(get_settings(), controller.bus, controller)
    admin = fleet_admin.admin
    try:
        bot_id = await service.create_bot(
            admin,
            fleet_admin.bot_input(
                "Helper", channels=[ChannelInput("telegram", {"botToken": TOKEN}, "pairing", [])]
            ),
        )
        await service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=180)
        with controller.bus.subscribe([Kind.ACCESS_REQUESTS], bot_ids=[bot_id]) as events:
            telegram.push_message(
                TOKEN, chat_id=STRANGER, from_id=STRANGER, text="hello, may I?", username="mallory"
            )
            requests = await until(lambda: service.access_requests(admin), 90, "the request")
            event = await events.get(timeout=10)
        assert event.payload["pending"] == 1
        [request] = requests
        assert (request.channel, request.sender_id, request.bot_id) == ("telegram", str(STRANGER), bot_id)
        assert request.sender_name == "Mallory (@mallory)" and request.can_decide
        assert request.expires.startswith("in ") and request.notify_supported
        assert await service.access_count(admin) == 1
        await until(lambda: sent_to(telegram, STRANGER), 30, "the pairing reply")
        assert is_pairing_reply(sent_to(telegram, STRANGER)[0])

        message = await service.approve_access(admin, request.id, notify=True)
        assert "they were told" in message
        assert await service.access_requests(admin) == []
        with session_scope() as s:
            channel = s.exec(select(BotChannel).where(BotChannel.bot_id == bot_id)).one()
            assert str(STRANGER) in channel.allow_from  # desired state: the config carries it
            actions = s.exec(select(AuditEvent.action).order_by(col(AuditEvent.id))).all()
        assert "access.approve" in actions
        [approved] = await service.approved_senders(admin, bot_id)
        assert (approved.sender_id, approved.sender_name) == (str(STRANGER), "Mallory (@mallory)")
        await until(lambda: any("approved" in t for t in sent_to(telegram, STRANGER)), 30, "the notice")

        telegram.push_message(
            TOKEN, chat_id=STRANGER, from_id=STRANGER, text="REPLY WITH: welcome in", username="mallory"
        )
        await until(lambda: "welcome in" in sent_to(telegram, STRANGER), 120, "an answer")

        message = await service.revoke_sender(admin, bot_id, "telegram", str(STRANGER))
        assert message.startswith("Revoked Mallory (@mallory)")
        assert await service.approved_senders(admin, bot_id) == []
        with session_scope() as s:
            assert s.exec(select(ApprovedSender)).all() == []
            assert "access.revoke" in s.exec(select(AuditEvent.action)).all()
        await asyncio.sleep(3)  # the config change reaches the gateway (hot)
        before = len(sent_to(telegram, STRANGER))
        telegram.push_message(
            TOKEN, chat_id=STRANGER, from_id=STRANGER, text="REPLY WITH: still here", username="mallory"
        )
        await until(lambda: len(sent_to(telegram, STRANGER)) > before, 60, "a reply after revoking")
        await asyncio.sleep(3)
        after = sent_to(telegram, STRANGER)[before:]
        assert "still here" not in after and any(is_pairing_reply(t) for t in after), after
        await until(lambda: service.access_requests(admin), 30, "a new request after revoking")
    finally:
        await controller.stop()


async def test_dismissing_keeps_the_stranger_out_and_a_viewer_cannot_decide(telegram, fleet_admin: FleetData):
    controller = await start_fleet(get_settings())
    controller.channel_settle_s = 3
    service = BotsService(get_settings(), controller.bus, controller)
    admin = fleet_admin.admin
    try:
        bot_id = await service.create_bot(
            admin,
            fleet_admin.bot_input(
                "Helper", channels=[ChannelInput("telegram", {"botToken": TOKEN}, "pairing", [])]
            ),
        )
        with session_scope() as s:
            viewer_user = make_user(s, Role.VIEWER)
            s.add(BotAssignment(user_id=viewer_user.id, bot_id=bot_id))
            viewer = Principal.of(viewer_user)
            outsider = Principal.of(make_user(s, Role.OPERATOR))
        await service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=180)
        telegram.push_message(TOKEN, chat_id=OTHER, from_id=OTHER, text="let me in", username="eve")
        [request] = await until(lambda: service.access_requests(admin), 90, "the request")

        [seen] = await service.access_requests(viewer)  # viewers see ...
        assert seen.id == request.id and not seen.can_decide
        assert await service.access_requests(outsider) == []  # ... others see nothing
        assert await service.access_count(outsider) == 0
        for who in (viewer, outsider):
            with pytest.raises(PermissionDenied):
                await service.approve_access(who, request.id)
            with pytest.raises(PermissionDenied):
                await service.dismiss_access(who, request.id)
        assert [r.id for r in await service.access_requests(admin)] == [request.id]

        assert (await service.dismiss_access(admin, request.id)).startswith("Dismissed")
        assert await service.access_requests(admin) == []
        await asyncio.sleep(2.5)  # a poll that was under way does not bring it back
        assert await service.access_requests(admin) == []
        with session_scope() as s:
            assert "access.dismiss" in s.exec(select(AuditEvent.action)).all()
            channel = s.exec(select(BotChannel).where(BotChannel.bot_id == bot_id)).one()
            assert str(OTHER) not in channel.allow_from
        before = len(sent_to(telegram, OTHER))
        telegram.push_message(TOKEN, chat_id=OTHER, from_id=OTHER, text="REPLY WITH: in?", username="eve")
        await until(lambda: len(sent_to(telegram, OTHER)) > before, 60, "a reply after dismissing")
        await asyncio.sleep(3)
        after = sent_to(telegram, OTHER)[before:]
        assert "in?" not in after and any(is_pairing_reply(t) for t in after), after
    finally:
        await controller.stop()
