"""A real control plane for integration tests: a migrated database, an admin, the local echo
model, and a FleetController that spawns real OpenClaw gateways on free loopback ports."""

from __future__ import annotations

import subprocess
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
from clawnet.db import session_scope
from clawnet.enums import Role
from clawnet.events import EventBus
from clawnet.security.permissions import Principal
from clawnet.settings import Settings, get_settings
from tests.factories import make_user
from tests.support.server import free_port, free_port_range
from tests.support.standalone_gateway import standalone_gateway as standalone


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
    with standalone(fleet_env, tmp_path / "remote-gateway") as gateway:
        yield gateway
