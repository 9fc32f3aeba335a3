"""Several processes, one installation, on PostgreSQL and Redis (real servers from Debian's
packages): events cross processes over Redis pub/sub, and the control plane runs exactly once,
with a waiting process taking over when the leader is killed."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from clawnet import db, runtime
from clawnet.events import EventBus, Kind
from clawnet.settings import PROJECT_ROOT, get_settings
from tests.conftest import _reset_process_caches
from tests.support.aio import run_async
from tests.support.server import free_port, free_port_range, project_env


async def test_an_event_published_in_one_process_reaches_the_others_once(redis_url, clawnet_env):
    buses = [EventBus(origin=f"worker-{n}") for n in range(3)]
    for bus in buses:
        await bus.attach_transport(runtime.redis_transport(redis_url, channel="test:events"))
    try:
        subs = [bus.subscribe([Kind.POST_CREATED]) for bus in buses]
        buses[0].publish(Kind.POST_CREATED, {"post_id": 7}, bot_id=3)
        for sub in subs:
            event = await sub.get(timeout=5)
            assert (event.payload, event.bot_id, event.origin) == ({"post_id": 7}, 3, "worker-0")
        await asyncio.sleep(0.3)
        for sub in subs:  # exactly once everywhere, the publisher included
            with pytest.raises(TimeoutError):
                await sub.get(timeout=0.2)
    finally:
        for bus in buses:
            await bus.detach_transport()


@pytest.fixture
def installation(tmp_path, postgres_url, redis_url, monkeypatch):
    """Environment of one installation on PostgreSQL + Redis, shared by every process."""
    env = {
        "CLAWNET_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": postgres_url,
        "REFLEX_REDIS_URL": redis_url,
        "CLAWNET_GATEWAY_BASE_PORT": str(free_port_range()),
        "CLAWNET_ECHO_PORT": str(free_port()),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for name in ("CLAWNET_SECRET_KEY", "CLAWNET_PREVIOUS_SECRET_KEYS", "CLAWNET_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    # This installation's own key (file in its data folder): a key ring cached by an earlier test
    # in this process would encrypt rows the controller processes cannot read.
    _reset_process_caches()
    from sqlalchemy import text

    with db.get_engine(postgres_url).begin() as conn:  # a fresh schema for this installation
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    db.migrate()
    yield {**project_env(), **env}
    _reset_process_caches()


def controller_process(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(PROJECT_ROOT / ".venv/bin/clawnet"), "controller"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def wait_for_text(path: Path, text: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if text in path.read_text(errors="replace"):
            return
        time.sleep(0.1)
    raise AssertionError(f"{path.name} never said {text!r}:\n{path.read_text(errors='replace')[-2000:]}")


@pytest.mark.gateway
def test_the_control_plane_runs_once_and_a_waiting_process_takes_over(installation, tmp_path):
    from clawnet.accounts.registration import register
    from clawnet.bots import BotsService, ChannelActionError
    from clawnet.bots.forms import BotInput
    from clawnet.bots.providers import ensure_local_echo_provider
    from clawnet.controlplane.protocol import GatewayError
    from clawnet.controlplane.remote import RemoteGatewayClient
    from clawnet.enums import Role
    from clawnet.models import Bot
    from clawnet.security.permissions import Principal

    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    first = controller_process(installation, first_log)
    wait_for_text(first_log, "control plane running", 60)
    second = controller_process(installation, second_log)
    procs = [first, second]
    try:
        wait_for_text(second_log, "another process runs the control plane; waiting for its lock", 60)
        assert "control plane started in this process" in first_log.read_text()

        with db.session_scope() as s:
            admin = Principal.of(
                register(
                    s,
                    email="a@example.com",
                    display_name="A",
                    password="pw-123456789",
                    handle="solo_admin",
                    role=Role.ADMIN,
                )
            )
            provider_id = ensure_local_echo_provider(s).id
        service = BotsService(get_settings(), EventBus(), None)  # a web worker without the controller
        bot_id = run_async(
            service.create_bot(admin, BotInput(name="Solo", provider_id=provider_id, model_id="echo-1"))
        )

        def status() -> tuple[str, int | None]:
            with db.session_scope() as s:
                bot = s.get(Bot, bot_id)
                assert bot is not None
                from clawnet.models import Gateway

                gw = s.get(Gateway, bot.gateway_id) if bot.gateway_id else None
                return bot.actual_status, gw.pid if gw else None

        deadline = time.monotonic() + 180
        while status()[0] != "running" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert status()[0] == "running"
        pid = status()[1]
        assert pid is not None and psutil.Process(pid).parent() is not None
        with db.session_scope() as s:
            gateway_id = s.get(Bot, bot_id).gateway_id  # type: ignore[union-attr]

        async def chat_from_a_worker() -> tuple[str, list[str]]:
            worker_bus = EventBus(origin="web-worker")
            await worker_bus.attach_transport(runtime.redis_transport(installation["REFLEX_REDIS_URL"]))
            try:
                worker = BotsService(get_settings(), worker_bus, None)
                turn = await worker.chat(admin, bot_id, "REPLY WITH: answered across processes")
                kinds = [kind async for kind, _ in turn.stream()]
                reply = await turn.result(60)
                # A channel action: the gateway itself answers, through the controller.
                try:
                    outcome = await worker.reconnect_channel(admin, bot_id, "telegram")
                except ChannelActionError as exc:
                    outcome = str(exc)
                assert "not running" not in outcome and "telegram" in outcome, outcome
                # Only channel actions travel this way.
                with pytest.raises(GatewayError) as refused:
                    await RemoteGatewayClient(worker_bus, gateway_id).call("config.apply", {"raw": "{}"})
                assert refused.value.code == "FORBIDDEN"
                return reply, kinds
            finally:
                await worker_bus.detach_transport()

        reply, kinds = run_async(chat_from_a_worker())
        assert reply == "answered across processes" and kinds[-1] == "final"

        os.killpg(first.pid, signal.SIGKILL)  # the leader dies; its gateway lives on
        first.wait(timeout=10)
        wait_for_text(second_log, "control plane started in this process", 120)
        wait_for_text(second_log, "adopted gateway", 120)
        deadline = time.monotonic() + 120
        while status() != ("running", pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert status() == ("running", pid)  # adopted by the new leader, not started twice
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
