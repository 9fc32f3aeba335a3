"""Warm spare gateways on real OpenClaw: a spare becomes a new owner's pool by a hot config change
(no process start), its channels work, and the next spare starts in the background. How fast:
bench/warm_spares.py."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import pytest
from sqlmodel import col, select

from clawnet.bots.service import BotsService
from clawnet.controlplane.protocol import GatewayError
from clawnet.controlplane.spares import made_first_change
from clawnet.db import session_scope
from clawnet.enums import BotStatus, GatewayStatus
from clawnet.models import Gateway
from tests.factories import gateway_of
from tests.integration.conftest import start_fleet, telegram_channel
from tests.support.fake_telegram import FakeTelegram

pytestmark = pytest.mark.gateway
TOKEN = "123456789:AAH0f2l4xmPBtSpareTokenForTests_abcdefg"


def spares() -> dict[int, tuple[str, int | None]]:
    """Spare gateways: id -> (status, pid)."""
    with session_scope() as s:
        rows = s.exec(select(Gateway).where(col(Gateway.spare).is_(True))).all()
        return {g.id or 0: (g.actual_status, g.pid) for g in rows}


async def first_change_made(gateway_id: int, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with session_scope() as s:
            gw = s.get(Gateway, gateway_id)
            assert gw is not None
            if made_first_change(gw):
                return
        await asyncio.sleep(0.5)
    raise AssertionError(f"spare {gateway_id} made no hot change of its own within {timeout_s:.0f} s")


async def running_spare(exclude: set[int] = frozenset(), timeout_s: float = 240) -> tuple[int, int]:  # type: ignore[assignment]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for gid, (status, pid) in spares().items():
            if gid not in exclude and status == GatewayStatus.RUNNING.value and pid:
                return gid, pid
        await asyncio.sleep(0.5)
    raise AssertionError(f"no running spare within {timeout_s:.0f} s: {spares()}")


async def history_texts(controller, gateway_id: int, session_key: str) -> list[str]:  # type: ignore[no-untyped-def]
    for _ in range(20):  # "session changed while reading history" right after a turn: read again
        try:
            history = await controller.links[gateway_id].client.call(
                "chat.history", {"sessionKey": session_key}
            )
            break
        except GatewayError as exc:
            if "UNAVAILABLE" not in str(exc):
                raise
            await asyncio.sleep(0.5)
    return [
        m.get("content") if isinstance(m.get("content"), str) else m["content"][0].get("text")
        for m in history["messages"]
    ]


async def test_a_spare_becomes_a_new_owners_pool_without_a_process_start_and_another_is_started(
    fleet_env, fleet_admin
):
    telegram = FakeTelegram().__enter__()
    telegram.add_bot(TOKEN, "quick_bot")
    settings = dataclasses.replace(fleet_env, warm_spares=1, telegram_api_root=telegram.api_root)
    controller = await start_fleet(settings)
    service = BotsService(settings, controller.bus, controller)
    try:
        spare_id, spare_pid = await running_spare()
        # Once started, a spare makes its first (slow) hot change itself: a second hidden agent.
        await first_change_made(spare_id)
        config = (await controller.links[spare_id].client.call("config.get", {}))["config"]
        assert set(config["agents"]["entries"]) == {"clawnet-warmup", "clawnet-warmup-2"}
        assert spares()[spare_id][1] == spare_pid  # hot: the same process

        # An owner's first bot: the spare becomes the pool, no new process is started.
        bot_id = await service.create_bot(
            fleet_admin.admin, fleet_admin.bot_input("Quick", channels=[telegram_channel(TOKEN)])
        )
        await service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=120)
        pool = gateway_of(bot_id)
        assert (pool.id, pool.pid, pool.spare) == (spare_id, spare_pid, False)
        admin = fleet_admin.admin
        assert (pool.owner_id, pool.name) == (admin.user_id, f"{admin.display_name}'s pool")
        turn = await service.chat(fleet_admin.admin, bot_id, "REPLY WITH: first words")
        assert await turn.result(120) == "first words"
        assert "first words" in await history_texts(controller, spare_id, "agent:quick:main")
        # The bot's Telegram account runs on it: a person's message is answered.
        telegram.push_message(TOKEN, chat_id=111111111, from_id=111111111, text="REPLY WITH: hi there")
        deadline = time.monotonic() + 120
        while not any(m.get("text") == "hi there" for m in telegram.bots[TOKEN].sent):
            assert time.monotonic() < deadline, "the Telegram message was not answered"
            await asyncio.sleep(0.2)
        config = (await controller.links[spare_id].client.call("config.get", {}))["config"]
        entries = config["agents"]["entries"]
        assert set(entries) == {"quick", "clawnet-warmup", "clawnet-warmup-2"}  # the hidden ones stay

        # The next spare starts in the background, for the next owner.
        next_id, next_pid = await running_spare(exclude={spare_id})
        assert next_id != spare_id and next_pid != spare_pid
        assert len(spares()) == 1
    finally:
        await controller.stop()
        telegram.__exit__(None, None, None)
