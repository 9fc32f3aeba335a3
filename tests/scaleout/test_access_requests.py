"""Access requests when the control plane runs in another process (`clawnet controller`, on
PostgreSQL and Redis): a web worker's service hears a stranger's request over Redis and lists it
from the database, approves it through the controller's link to the gateway (the stranger is then
answered), and revokes it through the controller, which removes it from OpenClaw's pairing store
on its own host (the stranger is asked to pair again)."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time

import pytest

from clawnet import db, runtime
from clawnet.events import EventBus, Kind
from clawnet.settings import get_settings
from tests.scaleout.test_processes import controller_process, installation, wait_for_text
from tests.support.aio import run_async
from tests.support.fake_telegram import FakeTelegram

__all__ = ["installation"]  # the fixture, shared with test_processes
TOKEN = "123456789:AAH0f2l4xmPBtScaleoutAccessToken_abcde"
STRANGER = 515151515


async def until(check, what: str, timeout: float = 90):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        assert time.monotonic() < deadline, f"timed out: {what}"
        await asyncio.sleep(0.2)


@pytest.mark.gateway
def test_a_web_worker_lists_approves_and_revokes_through_the_controller(installation, tmp_path, monkeypatch):
    from clawnet.accounts.registration import register
    from clawnet.bots import BotsService
    from clawnet.bots.forms import BotInput, ChannelInput
    from clawnet.bots.providers import ensure_local_echo_provider
    from clawnet.enums import BotStatus, Role
    from clawnet.security.permissions import Principal

    with FakeTelegram() as telegram:
        telegram.add_bot(TOKEN, "scaled_bot")
        env = {**installation, "CLAWNET_TELEGRAM_API_ROOT": telegram.api_root}
        monkeypatch.setenv("CLAWNET_TELEGRAM_API_ROOT", telegram.api_root)
        get_settings.cache_clear()
        log = tmp_path / "controller.log"
        controller = controller_process(env, log)
        try:
            wait_for_text(log, "control plane running", 60)
            with db.session_scope() as s:
                admin = Principal.of(
                    register(
                        s,
                        email="a@example.com",
                        display_name="A",
                        password="pw-123456789",
                        handle="scaled_admin",
                        role=Role.ADMIN,
                    )
                )
                provider_id = ensure_local_echo_provider(s).id

            def texts() -> list[str]:
                return [m["text"] for m in telegram.bots[TOKEN].sent if int(m["chat_id"]) == STRANGER]

            async def as_a_web_worker() -> None:
                bus = EventBus(origin="web-worker")
                await bus.attach_transport(runtime.redis_transport(installation["REFLEX_REDIS_URL"]))
                try:
                    worker = BotsService(get_settings(), bus, None)
                    assert not worker.control.runs_here
                    bot_id = await worker.create_bot(
                        admin,
                        BotInput(
                            name="Scaled",
                            provider_id=provider_id,
                            model_id="echo-1",
                            channels=[ChannelInput("telegram", {"botToken": TOKEN}, "pairing", [])],
                        ),
                    )
                    await worker.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=180)
                    await asyncio.sleep(5)  # the channel connects
                    with bus.subscribe([Kind.ACCESS_REQUESTS], bot_ids=[bot_id]) as heard:
                        telegram.push_message(TOKEN, chat_id=STRANGER, from_id=STRANGER, text="hi")
                        event = await heard.get(timeout=60)  # over Redis, from the controller
                    assert event.payload["pending"] == 1
                    [request] = await worker.access_requests(admin)
                    assert request.sender_id == str(STRANGER)

                    assert (await worker.approve_access(admin, request.id)).startswith("Approved")
                    telegram.push_message(TOKEN, chat_id=STRANGER, from_id=STRANGER, text="REPLY WITH: in")
                    await until(lambda: "in" in texts(), "an answer once approved", 120)

                    revoked = await worker.revoke_sender(admin, bot_id, "telegram", str(STRANGER))
                    assert revoked.startswith("Revoked"), revoked
                    await asyncio.sleep(3)
                    before = len(texts())
                    telegram.push_message(TOKEN, chat_id=STRANGER, from_id=STRANGER, text="REPLY WITH: out")
                    await until(lambda: len(texts()) > before, "a reply after revoking")
                    await asyncio.sleep(3)
                    after = texts()[before:]
                    assert "out" not in after and any("Pairing code" in t for t in after), after
                finally:
                    await bus.detach_transport()

            run_async(as_a_web_worker())
        finally:
            controller.send_signal(signal.SIGTERM)
            try:
                controller.wait(timeout=60)
            except subprocess.TimeoutExpired:
                controller.kill()
                controller.wait()
