"""Restarts, deletions and failures of the control plane against real gateways."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import socket
import time

import psutil
import pytest
from sqlmodel import select

from clawnet.bots.service import BotsService
from clawnet.controlplane.paths import bot_paths, gateway_paths
from clawnet.controlplane.protocol import GatewayAuthError, GatewayClient, GatewayConnection
from clawnet.db import session_scope
from clawnet.enums import BotStatus, GatewayStatus
from clawnet.events import Kind
from clawnet.models import BotChannel, Gateway
from clawnet.security.secret_fields import GATEWAY_TOKEN
from clawnet.settings import get_settings
from tests.factories import gateway_of
from tests.integration.conftest import Fleet, start_fleet, telegram_channel

pytestmark = pytest.mark.gateway


def openclaw_pids() -> set[int]:
    """Live OpenClaw gateway main processes of this test's installation (found by their config,
    which lives under its gateways folder): other installations on the machine do not count."""
    root = str(get_settings().gateways_dir.resolve())
    pids = set()
    for p in psutil.process_iter(["pid", "name", "cmdline"]):
        described = " ".join([p.info["name"] or "", *(p.info["cmdline"] or [])])
        if "openclaw-gateway" not in described and "openclaw gateway" not in described:
            continue
        try:
            ours = p.environ().get("OPENCLAW_CONFIG_PATH", "").startswith(root + os.sep)
            alive = p.status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            continue
        if ours and alive:
            pids.add(p.info["pid"])
    return pids


async def test_restarted_clawnet_adopts_running_gateways_without_duplicates_or_orphans(
    fleet_env, fleet_admin
):
    settings = dataclasses.replace(fleet_env, stop_gateways_on_exit=False)
    first = await start_fleet(settings)
    service = BotsService(settings, first.bus, first)
    bot_id = await service.create_bot(fleet_admin.admin, fleet_admin.bot_input("Survivor"))
    await service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=180)
    pid = gateway_of(bot_id).pid
    before = openclaw_pids()
    await first.stop()  # leaves the gateway running, as after a ClawNet crash
    assert pid in before and psutil.pid_exists(pid)

    second = await start_fleet(dataclasses.replace(settings, stop_gateways_on_exit=True))
    try:
        service2 = BotsService(settings, second.bus, second)
        await asyncio.sleep(1)
        second.kick()
        await service2.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=60)
        assert gateway_of(bot_id).pid == pid  # adopted, not restarted
        assert second.supervisor.processes.keys() == {gateway_of(bot_id).id}
        turn = await service2.chat(fleet_admin.admin, bot_id, "REPLY WITH: still here")
        assert await turn.result(120) == "still here"
        assert openclaw_pids() == before  # no duplicate gateway
    finally:
        await second.stop()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert openclaw_pids() == set()  # no orphan


async def test_stop_gateways_ends_what_a_stopped_clawnet_left_running_and_restore_waits_for_it(
    fleet_env, fleet_admin, capsys
):
    from clawnet.backup import BackupError, restore_backup
    from clawnet.cli import main as clawnet_cli

    settings = dataclasses.replace(fleet_env, stop_gateways_on_exit=False)
    first = await start_fleet(settings)
    service = BotsService(settings, first.bus, first)
    bot_id = await service.create_bot(fleet_admin.admin, fleet_admin.bot_input("Lingerer"))
    await service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=180)
    pid = gateway_of(bot_id).pid
    await first.stop()
    assert pid is not None and pid in openclaw_pids()  # left running for the next start

    # A restore would move the folders of a running gateway: refused, naming the way out.
    with pytest.raises(BackupError, match="clawnet stop-gateways"):
        restore_backup(settings, gateway_paths(settings, gateway_of(bot_id).id).config, force=True)

    assert await asyncio.to_thread(clawnet_cli, ["stop-gateways"]) == 0
    assert f"Stopped 1 gateway process(es): {pid}." in capsys.readouterr().out
    assert openclaw_pids() == set()
    row = gateway_of(bot_id)
    assert (row.pid, row.actual_status) == (None, GatewayStatus.STOPPED.value)
    assert await asyncio.to_thread(clawnet_cli, ["stop-gateways"]) == 0
    assert "No gateway of this installation was running." in capsys.readouterr().out


async def test_deleting_a_bot_keeps_its_data_unless_asked(fleet: Fleet):
    keep = await fleet.service.create_bot(fleet.admin, fleet.bot_input("Keeper"))
    drop = await fleet.service.create_bot(fleet.admin, fleet.bot_input("Dropper"))
    await fleet.service.wait_for_bot(keep, BotStatus.RUNNING, timeout=180)
    await fleet.service.wait_for_bot(drop, BotStatus.RUNNING, timeout=60)
    turn = await fleet.service.chat(fleet.admin, keep, "REPLY WITH: remember me")
    assert await turn.result(120) == "remember me"
    gw = gateway_of(keep)
    keeper_dir = bot_paths(fleet.settings, "keeper")
    assert any(keeper_dir.state.rglob("openclaw-agent.sqlite"))  # the bot's sessions live in its own folder

    with fleet.bus.subscribe([Kind.CONFIG_APPLIED], gateway_ids=[gw.id]) as applied:
        await fleet.service.delete_bot(fleet.admin, keep)
        event = await applied.get(timeout=60)
    assert event.payload["removed_agents"] == ["keeper"]
    assert gateway_of(drop).pid == gw.pid  # removed hot: the other bot's gateway kept running
    assert any(keeper_dir.state.rglob("openclaw-agent.sqlite"))  # kept
    entries = (await fleet.controller.links[gw.id].client.call("config.get", {}))["config"]["agents"][
        "entries"
    ]
    assert set(entries) == {"dropper"}

    dropper_dir = bot_paths(fleet.settings, "dropper")
    await fleet.service.delete_bot(fleet.admin, drop, delete_data=True)
    with fleet.bus.subscribe([Kind.GATEWAY_STATUS], gateway_ids=[gw.id]) as statuses:
        while (await statuses.get(timeout=60)).payload["status"] != GatewayStatus.STOPPED.value:
            pass
    fleet.service.control.kick()  # the next pass purges what was asked for
    await fleet.controller.reconciler.reconcile_all()
    assert not dropper_dir.root.exists()  # asked for: deleted
    assert keeper_dir.root.exists()
    with session_scope() as s:
        assert s.get(Gateway, gw.id).actual_status == GatewayStatus.STOPPED.value  # no bot left: stopped


async def test_a_config_openclaw_refuses_is_reported_naming_the_field(fleet: Fleet):
    bot_id = await fleet.service.create_bot(
        fleet.admin, fleet.bot_input("Picky", channels=[telegram_channel()])
    )
    await fleet.service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=180)
    # Bypass the form's validation, as a corrupted row or a bug would.
    with session_scope() as s:
        channel = s.exec(select(BotChannel).where(BotChannel.bot_id == bot_id)).one()
        channel.group_policy = "sometimes"
        s.add(channel)
    fleet.service.control.kick()
    bot = await fleet.service.wait_for_bot(bot_id, BotStatus.ERROR, timeout=60)
    assert "refused the configuration change" in bot.last_error
    assert "groupPolicy" in bot.last_error

    await fleet.service.set_running(fleet.admin, bot_id, False)
    await fleet.service.wait_for_bot(bot_id, BotStatus.STOPPED, timeout=60)
    await fleet.service.set_running(fleet.admin, bot_id, True)  # now a cold start with the same bad row
    bot = await fleet.service.wait_for_bot(bot_id, BotStatus.ERROR, timeout=120)
    assert "OpenClaw refused its configuration" in bot.last_error and "groupPolicy" in bot.last_error


async def test_a_port_in_use_is_reported_naming_the_port_and_its_holder(fleet: Fleet):
    bot_id = await fleet.service.create_bot(fleet.admin, fleet.bot_input("Porter"))
    await fleet.service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=180)
    port = gateway_of(bot_id).base_port
    await fleet.service.set_running(fleet.admin, bot_id, False)
    await fleet.service.wait_for_bot(bot_id, BotStatus.STOPPED, timeout=60)
    squatter = socket.socket()
    squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past the old gateway's TIME_WAIT
    squatter.bind(("127.0.0.1", port))
    squatter.listen()
    try:
        await fleet.service.set_running(fleet.admin, bot_id, True)
        bot = await fleet.service.wait_for_bot(bot_id, BotStatus.ERROR, timeout=60)
        assert f"Port {port} is already in use by pid" in bot.last_error
    finally:
        squatter.close()
    fleet.controller.restarts.cancel(gateway_of(bot_id).id)
    await fleet.service.restart_bot(fleet.admin, bot_id)
    await fleet.service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=180)


async def test_a_wrong_token_is_an_auth_error_not_a_hang(fleet: Fleet):
    bot_id = await fleet.service.create_bot(fleet.admin, fleet.bot_input("Guarded"))
    await fleet.service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=180)
    url = f"ws://127.0.0.1:{gateway_of(bot_id).base_port}"
    with pytest.raises(GatewayAuthError) as err:  # a hang would end as GatewayTimeout instead
        await GatewayConnection.open(url, "not-the-token", timeout=120)
    assert err.value.details.get("code") == "AUTH_TOKEN_MISMATCH"
    client = GatewayClient(url, lambda: "not-the-token", name="intruder")
    client.start()
    try:
        deadline = time.monotonic() + 120
        while not isinstance(client.last_error, GatewayAuthError):  # its first attempt is refused
            assert time.monotonic() < deadline, f"no answer to the client (last: {client.last_error!r})"
            await asyncio.sleep(0.1)
        with pytest.raises(GatewayAuthError):
            async with asyncio.timeout(60):  # waiting out the connect would end as TimeoutError
                await client.call("status", {}, timeout=120)
    finally:
        await client.stop()


async def test_a_rotated_gateway_token_reconnects_clawnet_on_close_4001(fleet: Fleet):
    bot_id = await fleet.service.create_bot(fleet.admin, fleet.bot_input("Rotator"))
    await fleet.service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=180)
    gw = gateway_of(bot_id)
    link = fleet.controller.links[gw.id]
    await asyncio.wait_for(link.client.connected.wait(), 120)
    first_conn = link.client.connection
    assert first_conn is not None
    await fleet.service.rotate_gateway_token(fleet.admin, gw.id)
    code, _ = await asyncio.wait_for(first_conn.wait_closed(), 60)
    assert code == 4001
    await asyncio.wait_for(link.client.connected.wait(), 120)
    with session_scope() as s:
        new_token = GATEWAY_TOKEN.unseal(s.get(Gateway, gw.id).token_enc)
    assert link.token == new_token
    assert gateway_of(bot_id).pid == gw.pid  # no restart
    turn = await fleet.service.chat(fleet.admin, bot_id, "REPLY WITH: new key works")
    assert await turn.result(120) == "new key works"


async def test_a_remote_gateway_is_adopted_by_url_and_token_and_hosts_bots(fleet: Fleet, standalone_gateway):
    url, token, proc = standalone_gateway
    with pytest.raises(Exception, match="refused this token"):
        await fleet.service.adopt_remote_gateway(fleet.admin, "Edge box", url, "wrong-token")
    gateway_id = await fleet.service.adopt_remote_gateway(fleet.admin, "Edge box", url, token)
    bot_id = await fleet.service.create_bot(
        fleet.admin,
        fleet.bot_input("Far Away", remote_gateway_id=gateway_id, persona="You are a lighthouse keeper."),
    )
    await fleet.service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=120)
    assert gateway_of(bot_id).id == gateway_id
    assert gateway_id not in fleet.controller.supervisor.processes  # managed, not spawned
    turn = await fleet.service.chat(fleet.admin, bot_id, "REPLY WITH: hello from afar")
    assert await turn.result(120) == "hello from afar"
    # The persona went over the protocol (agents.files.set) and reached the model.
    system_prompt = fleet.controller.echo_llm.requests[-1]["messages"][0]["content"]
    assert "You are a lighthouse keeper." in str(system_prompt)
    assert proc.poll() is None

    # Its log lives on its own host: ClawNet reads it over the protocol (logs.tail), both the
    # first screen of the logs tab and the live tail.
    assert not gateway_paths(fleet.settings, gateway_id).log_file.exists()
    entries = await fleet.service.recent_logs(fleet.admin, bot_id, level="INFO")
    assert any("gateway" in e.subsystem for e in entries), entries[-5:]
    with fleet.bus.subscribe([Kind.GATEWAY_LOG], gateway_ids=[gateway_id]) as lines:
        second = await fleet.service.create_bot(  # a hot config change: the gateway logs it
            fleet.admin, fleet.bot_input("Farther Still", remote_gateway_id=gateway_id)
        )
        await fleet.service.wait_for_bot(second, BotStatus.RUNNING, timeout=120)
        line = await lines.get(timeout=60)
        assert line.payload["message"]


async def test_bots_added_hot_are_still_there_after_clawnet_restarts_its_gateways(fleet_env, fleet_admin):
    """OpenClaw keeps a last-known-good copy of its config and, at start, restores it over a file
    that looks damaged to it; a file ClawNet rewrites must not look so, and if a gateway ever runs
    other agents than ClawNet wrote, ClawNet notices and re-applies its own."""
    first = await start_fleet(fleet_env)
    service = BotsService(fleet_env, first.bus, first)
    try:
        a = await service.create_bot(fleet_admin.admin, fleet_admin.bot_input("Early Bird"))
        await service.wait_for_bot(a, BotStatus.RUNNING, timeout=180)
        b = await service.create_bot(fleet_admin.admin, fleet_admin.bot_input("Late Comer"))
        await service.wait_for_bot(b, BotStatus.RUNNING, timeout=120)  # added hot: OpenClaw wrote the file
        old_pid = gateway_of(b).pid
    finally:
        await first.stop()  # stops its gateways (the default)

    second = await start_fleet(fleet_env)
    try:
        service = BotsService(fleet_env, second.bus, second)
        deadline = time.monotonic() + 240
        while not (gateway_of(b).pid not in (None, old_pid) and gateway_of(b).actual_status == "running"):
            assert time.monotonic() < deadline, "the gateway did not start again"
            await asyncio.sleep(0.5)
        turn = await service.chat(fleet_admin.admin, b, "REPLY WITH: still on the roster")
        assert await turn.result(120) == "still on the roster"
        running = await second.links[gateway_of(b).id].api.config()
        assert set(running["agents"]["entries"]) == {"early-bird", "late-comer"}
        log = (gateway_paths(fleet_env, gateway_of(b).id).log_file).read_text(errors="replace")
        assert "auto-restored from backup" not in log.lower()
    finally:
        await second.stop()
