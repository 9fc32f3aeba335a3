"""A real control plane for integration tests: a migrated database, an admin, the local echo
model, and a FleetController that spawns real OpenClaw gateways on free loopback ports."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from clawnet import db
from clawnet.bots.forms import BotInput, ChannelInput
from clawnet.bots.providers import ensure_local_echo_provider
from clawnet.bots.service import BotsService
from clawnet.controlplane.controller import FleetController
from clawnet.controlplane.health import HealthIntervals, RestartPolicy
from clawnet.controlplane.openclaw_cli import openclaw_env
from clawnet.db import session_scope
from clawnet.enums import Role
from clawnet.events import EventBus
from clawnet.security.permissions import Principal
from clawnet.settings import Settings, get_settings
from tests.factories import make_user
from tests.support.server import free_port, free_port_range


@dataclass
class Fleet:
    settings: Settings
    controller: FleetController
    service: BotsService
    bus: EventBus
    admin: Principal
    provider_id: int

    def bot_input(self, name: str, **kw) -> BotInput:
        return BotInput(name=name, provider_id=self.provider_id, model_id="echo-1", **kw)


def telegram_channel(token: str = "123456789:AAH0f2l4xmPBtFakeTokenForTests_abcdefg") -> ChannelInput:
    return ChannelInput("telegram", {"botToken": token}, "allowlist", ["111111111"])


@pytest.fixture
def fleet_env(clawnet_env, monkeypatch) -> Settings:
    monkeypatch.setenv("CLAWNET_GATEWAY_BASE_PORT", str(free_port_range()))
    monkeypatch.setenv("CLAWNET_ECHO_PORT", str(free_port()))
    get_settings.cache_clear()
    db.migrate()
    return get_settings()


async def start_fleet(
    settings: Settings, *, policy: RestartPolicy | None = None, intervals: HealthIntervals | None = None
) -> FleetController:
    controller = FleetController(settings, start_timeout_s=180, policy=policy, intervals=intervals)
    await controller.start()
    return controller


@dataclass
class FleetData:
    """An admin and the local echo provider, for tests that run their own controllers."""

    admin: Principal
    provider_id: int

    def bot_input(self, name: str, **kw) -> BotInput:
        return BotInput(name=name, provider_id=self.provider_id, model_id="echo-1", **kw)


@pytest.fixture
def fleet_admin(fleet_env: Settings) -> FleetData:
    with session_scope() as s:
        admin = Principal.of(make_user(s, Role.ADMIN))
        provider_id = ensure_local_echo_provider(s).id
    assert provider_id is not None
    return FleetData(admin, provider_id)


@pytest.fixture
async def fleet(fleet_env: Settings, fleet_admin: FleetData) -> AsyncIterator[Fleet]:
    controller = await start_fleet(fleet_env)
    service = BotsService(fleet_env, controller.bus, controller)
    try:
        yield Fleet(
            fleet_env, controller, service, controller.bus, fleet_admin.admin, fleet_admin.provider_id
        )
    finally:
        await controller.stop()


@pytest.fixture
def standalone_gateway(
    fleet_env: Settings, tmp_path: Path
) -> Iterator[tuple[str, str, subprocess.Popen[bytes]]]:
    """An OpenClaw gateway ClawNet did not start (as on another host): (url, token, process)."""
    root = tmp_path / "remote-gateway"
    for folder in ("home", "state"):
        (root / folder).mkdir(parents=True)
    port = free_port_range()
    token = secrets.token_urlsafe(32)
    config = root / "openclaw.json5"
    config.write_text(
        json.dumps(
            {
                "gateway": {
                    "mode": "local",
                    "port": port,
                    "bind": "loopback",
                    "auth": {"mode": "token", "token": token},
                },
                "logging": {"file": str(root / "openclaw.log")},
            }
        )
    )
    env = openclaw_env(
        fleet_env, config_path=config, state_dir=root / "state", home=root / "home", has_channels=False
    )
    with (root / "stdout.log").open("wb") as out:
        proc = subprocess.Popen(
            [str(fleet_env.openclaw_bin), "gateway", "run"],
            env=env,
            cwd=root,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert proc.poll() is None, (root / "stdout.log").read_text()[-2000:]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as resp:
                    if json.loads(resp.read()).get("ready"):
                        break
            except OSError:
                pass
            time.sleep(0.3)
        else:
            pytest.fail(
                "the standalone gateway was not ready within 180 s:\n"
                + (root / "stdout.log").read_text()[-2000:]
            )
        yield f"ws://127.0.0.1:{port}", token, proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
