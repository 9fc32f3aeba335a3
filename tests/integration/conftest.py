"""A real control plane for integration tests: a migrated database, an admin, the local echo
model, and a FleetController that spawns real OpenClaw gateways on free loopback ports."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from clawnet import db
from clawnet.db import session_scope
from clawnet.fleet.bot_input import BotInput, ChannelInput
from clawnet.fleet.controller import FleetController
from clawnet.fleet.events import EventBus
from clawnet.fleet.health import HealthIntervals, RestartPolicy
from clawnet.fleet.service import FleetService, ensure_local_echo_provider
from clawnet.fleet.supervisor import port_is_free
from clawnet.models.enums import Role
from clawnet.security.permissions import Principal
from clawnet.settings import Settings, get_settings
from tests.factories import make_user
from tests.support.server import free_port


def free_port_range(spacing: int = 120, span: int = 240) -> int:
    """A base port with `span` free ports above it (a gateway uses ~110 above its own)."""
    for _ in range(200):
        base = random.randrange(20000, 50000, spacing)
        if all(port_is_free(base + offset) for offset in (0, 1, 2, 3, spacing, spacing + 2)):
            return base
    raise RuntimeError("no free port range")


@dataclass
class Fleet:
    settings: Settings
    controller: FleetController
    service: FleetService
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


@pytest.fixture
async def fleet(fleet_env: Settings) -> AsyncIterator[Fleet]:
    with session_scope() as s:
        admin = Principal.of(make_user(s, Role.ADMIN))
        provider_id = ensure_local_echo_provider(s).id
    controller = await start_fleet(fleet_env)
    service = FleetService(fleet_env, controller.bus, controller)
    try:
        yield Fleet(fleet_env, controller, service, controller.bus, admin, provider_id)
    finally:
        await controller.stop()
