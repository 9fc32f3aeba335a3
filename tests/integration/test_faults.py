"""Faults a real gateway can suffer that are not a clean crash: hanging (SIGSTOP), and its config
file being corrupted on disk."""

from __future__ import annotations

import os
import signal

import json5
import psutil
import pytest

from clawnet.bots.service import BotsService
from clawnet.controlplane.agent_files import config_file_problem
from clawnet.controlplane.health import HealthIntervals
from clawnet.controlplane.paths import gateway_paths
from clawnet.enums import BotStatus, GatewayStatus
from clawnet.events import Kind
from tests.integration.conftest import Fleet, FleetData, start_fleet
from tests.integration.test_fleet_lifecycle import gateway_of

pytestmark = pytest.mark.gateway

FAST_PROBES = HealthIntervals(probe_s=1.0, probe_timeout_s=1.0, unresponsive_after=3)


@pytest.fixture
async def quick_fleet(fleet_env, fleet_admin: FleetData):
    controller = await start_fleet(fleet_env, intervals=FAST_PROBES)
    service = BotsService(fleet_env, controller.bus, controller)
    try:
        yield Fleet(
            fleet_env, controller, service, controller.bus, fleet_admin.admin, fleet_admin.provider_id
        )
    finally:
        await controller.stop()


async def test_a_hung_gateway_is_detected_as_unresponsive_and_recovered(quick_fleet: Fleet):
    fleet = quick_fleet
    bot_id = await fleet.service.create_bot(fleet.admin, fleet.bot_input("Sleepy"))
    await fleet.service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=180)
    hung_pid = gateway_of(bot_id).pid
    assert hung_pid is not None
    with fleet.bus.subscribe([Kind.GATEWAY_STATUS, Kind.GATEWAY_EXITED]) as events:
        os.kill(hung_pid, signal.SIGSTOP)  # alive, holding its port, answering nothing
        while True:
            event = await events.get(timeout=30)
            if event.payload.get("status") == GatewayStatus.UNRESPONSIVE.value:
                break
        assert "health probes" in event.payload.get("detail", "")
        while True:  # killed, so the crash path restarts it
            event = await events.get(timeout=30)
            if event.kind == Kind.GATEWAY_EXITED:
                break
        assert event.payload["pid"] == hung_pid
    await fleet.service.wait_for_bot(bot_id, BotStatus.ERROR, timeout=60)  # the kill is recorded
    await fleet.service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=180)  # and recovered
    gw = gateway_of(bot_id)
    assert gw.pid != hung_pid
    assert not psutil.pid_exists(hung_pid) or psutil.Process(hung_pid).status() == psutil.STATUS_ZOMBIE
    turn = await fleet.service.chat(fleet.admin, bot_id, "REPLY WITH: awake again")
    assert await turn.result(120) == "awake again"


async def test_a_corrupted_config_file_is_refused_and_rebuilt_from_the_database(fleet: Fleet):
    bot_id = await fleet.service.create_bot(fleet.admin, fleet.bot_input("Tidy"))
    await fleet.service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=180)
    gw = gateway_of(bot_id)
    assert gw.id is not None
    path = gateway_paths(fleet.settings, gw.id).config
    assert config_file_problem(path) is None
    with fleet.bus.subscribe([Kind.CONFIG_DRIFT], gateway_ids=[gw.id]) as drift:
        path.write_bytes(b"{gateway: {mode: 'local', \x00\x00 truncated by a full disk")
        assert config_file_problem(path) is not None
        fleet.controller.kick()
        event = await drift.get(timeout=30)
    assert "Refused the config file openclaw.json" in event.payload["action"]
    assert "rebuilt it from the database" in event.payload["action"]
    rebuilt = json5.loads(path.read_text())
    assert "tidy" in str(rebuilt["agents"])  # the bot is in it again
    assert oct(path.stat().st_mode & 0o777) == oct(0o600)

    # The rebuilt file is what the gateway starts from after its next crash.
    assert gw.pid is not None
    os.kill(gw.pid, signal.SIGKILL)
    await fleet.service.wait_for_bot(bot_id, BotStatus.ERROR, timeout=60)
    await fleet.service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=180)
    turn = await fleet.service.chat(fleet.admin, bot_id, "REPLY WITH: config intact")
    assert await turn.result(120) == "config intact"
