"""`kill -9` of ClawNet's control plane (run as its own process, `clawnet controller`) in the middle
of a bot's creation and of a config change. After a restart every gateway that should run runs
again (adopted or restarted), never twice, and the database and config files agree: the change is
fully applied. How fast that happens is a figure: bench/controller_crash_recovery.py prints it."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import json5
import psutil
import pytest

from clawnet.bots.service import BotsService
from clawnet.controlplane.paths import gateway_paths
from clawnet.db import session_scope
from clawnet.events import EventBus
from clawnet.models import Bot, Gateway
from clawnet.settings import PROJECT_ROOT, get_settings
from tests.support.aio import run_async
from tests.support.server import project_env

pytestmark = pytest.mark.gateway

RECOVERY_S = 180.0  # a wait, not a speed: a cold gateway start alone takes 9-20 s on 2 cores


@pytest.fixture
def external(fleet_env, fleet_admin, monkeypatch, tmp_path):
    """This process writes desired state like a web worker; the control plane runs apart."""
    monkeypatch.setenv("CLAWNET_CONTROLLER", "external")
    get_settings.cache_clear()
    settings = get_settings()
    env = {**project_env(), **{k: v for k, v in os.environ.items() if k.startswith("CLAWNET_")}}
    procs: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        log = (tmp_path / f"controller-{len(procs)}.log").open("wb")
        proc = subprocess.Popen(
            [str(PROJECT_ROOT / ".venv/bin/clawnet"), "controller"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        procs.append(proc)
        return proc

    service = BotsService(settings, EventBus(), None)
    yield settings, service, fleet_admin, start
    for proc in procs:  # a graceful stop ends the gateways too
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    for pid in gateway_mains(settings.gateways_dir):  # whatever a failed test left
        os.killpg(pid, signal.SIGKILL)


def gateway_mains(gateways_dir: Path) -> list[int]:
    """Main OpenClaw processes of this installation (their config is under our gateways folder)."""
    ours: dict[int, int] = {}
    for ps in psutil.process_iter(["pid", "ppid"]):
        try:
            config = ps.environ().get("OPENCLAW_CONFIG_PATH", "")
            zombie = ps.status() == psutil.STATUS_ZOMBIE
        except psutil.Error:
            continue
        if config.startswith(str(gateways_dir)) and not zombie:
            ours[ps.info["pid"]] = ps.info["ppid"]
    return [pid for pid, ppid in ours.items() if ppid not in ours]


def rows(bot_id: int) -> tuple[Bot, Gateway | None]:
    with session_scope() as s:
        bot = s.get(Bot, bot_id)
        assert bot is not None
        return bot, (s.get(Gateway, bot.gateway_id) if bot.gateway_id else None)


def wait_until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout:.0f} s: {what}")


def running_and_applied(bot_id: int) -> Gateway | None:
    bot, gw = rows(bot_id)
    if gw is None or bot.actual_status != "running" or gw.actual_status != "running":
        return None
    return gw if gw.applied_config_hash == gw.desired_config_hash != "" else None


def kill_hard(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGKILL)  # the controller's own group; gateways have their own
    proc.wait(timeout=10)


def test_killed_during_a_bot_creation_the_gateway_runs_exactly_once_after_restart(external):
    settings, service, admin, start = external
    controller = start()
    bot_id = run_async(service.create_bot(admin.admin, admin.bot_input("Phoenix")))
    # Kill the moment the gateway process exists: before it is ready, maybe before its PID is saved.
    wait_until(lambda: gateway_mains(settings.gateways_dir), 120, "a gateway process was spawned")
    kill_hard(controller)

    start()
    gw = wait_until(lambda: running_and_applied(bot_id), RECOVERY_S, "the bot runs again")
    assert gateway_mains(settings.gateways_dir) == [gw.pid]  # exactly one gateway, the recorded one
    assert gw.id is not None
    config = json5.loads(gateway_paths(settings, gw.id).config.read_text())
    assert set(config["agents"]["entries"]) == {"phoenix"}


def test_killed_during_a_config_change_the_change_is_fully_applied_after_restart(external):
    settings, service, admin, start = external
    controller = start()
    bot_id = run_async(
        service.create_bot(admin.admin, admin.bot_input("Chameleon", persona="First persona."))
    )
    gw = wait_until(lambda: running_and_applied(bot_id), 180, "the bot runs")
    pid, old_hash = gw.pid, gw.desired_config_hash

    bot, _ = rows(bot_id)
    run_async(
        service.update_bot(
            admin.admin,
            bot_id,
            admin.bot_input("Chameleon Two", agent_id=bot.agent_id, persona="Second persona."),
        )
    )
    assert rows(bot_id)[0].config_version > bot.config_version  # saved; the controller applies it now
    time.sleep(0.3)
    kill_hard(controller)

    start()

    def changed_and_applied() -> Gateway | None:
        gw = running_and_applied(bot_id)
        return gw if gw is not None and gw.desired_config_hash != old_hash else None

    gw = wait_until(changed_and_applied, RECOVERY_S, "the change is applied")
    assert gateway_mains(settings.gateways_dir) == [gw.pid]
    assert gw.pid == pid  # adopted, not restarted: a persona change is applied hot
    assert gw.id is not None
    config = json5.loads(gateway_paths(settings, gw.id).config.read_text())
    assert config["agents"]["entries"][bot.agent_id]["name"] == "Chameleon Two"
    workspace = "\n".join(p.read_text() for p in settings.data_dir.rglob("SOUL.md"))
    assert "Second persona." in workspace and "First persona." not in workspace
