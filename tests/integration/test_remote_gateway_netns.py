"""A gateway on "another host": a real OpenClaw gateway ClawNet did not start, with its own state
folder, in a separate network namespace, reachable only by wss:// URL and token. ClawNet is not
on its loopback, so OpenClaw demands ClawNet's device identity and an approval on the gateway host
(`openclaw devices approve <requestId>`) before anything else works."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from clawnet.controlplane import device_identity
from clawnet.enums import BotStatus, GatewayStatus
from clawnet.errors import UserError
from clawnet.settings import Settings
from tests.factories import gateway_of
from tests.integration.conftest import Fleet
from tests.support.netns_gateway import (
    GATEWAY_PORT,
    NetnsGateway,
    end_process,
    netns_available,
    netns_gateway,
    start_forwarder,
)
from tests.support.server import free_port

pytestmark = pytest.mark.gateway

APPROVE = re.compile(
    r"^This gateway has not approved ClawNet yet: on the gateway host run `openclaw devices approve ([0-9a-f-]+)`$"
)


@pytest.fixture
def remote(fleet_env: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[NetnsGateway]:
    why_not = netns_available()
    if why_not:
        pytest.skip(f"no network namespaces here: {why_not}")
    device_identity.set_device_store(None)  # this test's data folder
    with netns_gateway(fleet_env, tmp_path / "far-host", echo_port=fleet_env.echo_llm_port) as gateway:
        # ClawNet trusts the gateway's test CA the standard way (no TLS setting of its own).
        monkeypatch.setenv("SSL_CERT_FILE", str(gateway.ca_file))
        yield gateway
    device_identity.set_device_store(None)


async def _adopt_error(fleet: Fleet, url: str, token: str) -> dict[str, str]:
    with pytest.raises(UserError) as caught:
        await fleet.service.adopt_remote_gateway(fleet.admin, "Far host", url, token)
    return caught.value.field_errors


async def test_a_namespaced_gateway_pairs_clawnet_then_hosts_a_bot(fleet: Fleet, remote: NetnsGateway):
    t0 = time.monotonic()
    # Plain ws:// to a non-loopback address is refused before any connection is tried.
    errors = await _adopt_error(fleet, f"ws://{remote.gateway_ip}:18789", remote.token)
    assert "wss://" in errors["url"] and "tunnel" in errors["url"]

    # The token is right, but the gateway has not approved ClawNet's device yet.
    errors = await _adopt_error(fleet, remote.url, remote.token)
    match = APPROVE.match(errors["url"])
    assert match, errors
    request_id = match.group(1)
    identity = device_identity.get_device_store().identity()
    assert (fleet.settings.data_dir / device_identity.IDENTITY_FILE).exists()

    # The gateway host sees ClawNet's device, from the host side of the veth pair.
    listed = remote.openclaw("devices", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert identity.device_id in listed.stdout and remote.host_ip in listed.stdout

    approved = remote.openclaw("devices", "approve", request_id)
    assert approved.returncode == 0, approved.stdout + approved.stderr
    assert identity.device_id in approved.stdout
    t_paired = time.monotonic()

    gateway_id = await fleet.service.adopt_remote_gateway(fleet.admin, "Far host", remote.url, remote.token)
    store = device_identity.get_device_store()
    assert store.device_token(remote.url, identity.device_id, "operator")  # issued at hello-ok, kept

    marker = "You speak like a lighthouse keeper from the far island"
    bot_id = await fleet.service.create_bot(
        fleet.admin,
        fleet.bot_input("Island Bot", persona=marker, remote_gateway_id=gateway_id),
    )
    await fleet.service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=240)
    assert gateway_of(bot_id).id == gateway_id
    assert gateway_id not in fleet.controller.supervisor.processes  # managed over the protocol only
    turn = await fleet.service.chat(fleet.admin, bot_id, "REPLY WITH: hello across the veth")
    assert await turn.result(180) == "hello across the veth"
    t_answer = time.monotonic()

    # The persona landed in the gateway's own folders, written by the gateway (agents.files.set).
    souls = [p for p in remote.root.rglob("SOUL.md") if marker in p.read_text(errors="replace")]
    assert souls, sorted(str(p) for p in remote.root.rglob("*.md"))
    assert not any(fleet.settings.data_dir in p.parents for p in souls)
    print(f"\npersona at {[str(p.relative_to(remote.root)) for p in souls]}")
    assert remote.proc.poll() is None

    # Revoking ClawNet on the gateway host: the status says what to run, and once approved again
    # the reconnect loop gets back in by itself.
    removed = remote.openclaw("devices", "remove", identity.device_id)
    assert removed.returncode == 0, removed.stdout + removed.stderr
    old_token = store.device_token(remote.url, identity.device_id, "operator")
    link = fleet.controller.links[gateway_id]
    deadline = time.monotonic() + 120
    while True:
        gw = gateway_of(bot_id)
        detail = f"{gw.status_detail} {gw.last_error} {link.client.last_error.message if link.client.last_error else ''}"
        found = re.search(r"openclaw devices approve ([0-9a-f-]+)`", detail)
        if found and not link.client.is_connected:
            break
        assert time.monotonic() < deadline, f"no pairing message after revoking: {detail!r}"
        await asyncio.sleep(0.5)
    again = remote.openclaw("devices", "approve", found.group(1))
    assert again.returncode == 0, again.stdout + again.stderr
    await asyncio.wait_for(link.client.connected.wait(), 120)
    deadline = time.monotonic() + 120
    while gateway_of(bot_id).actual_status != GatewayStatus.RUNNING.value:
        assert time.monotonic() < deadline, gateway_of(bot_id).status_detail
        await asyncio.sleep(0.5)
    turn = await fleet.service.chat(fleet.admin, bot_id, "REPLY WITH: approved again")
    assert await turn.result(180) == "approved again"
    new_token = store.device_token(remote.url, identity.device_id, "operator")
    assert new_token and new_token != old_token  # the new pairing issued a new token, kept
    print(
        f"\ntimings: paired after {t_paired - t0:.1f} s, first answer after {t_answer - t0:.1f} s, "
        f"re-paired and answered after {time.monotonic() - t0:.1f} s"
    )


async def test_a_loopback_tunnel_to_the_namespace_still_needs_the_device(fleet: Fleet, remote: NetnsGateway):
    """A tunnel (here a TCP forwarder 127.0.0.1:P -> the namespace) makes the URL loopback, so
    adopting allows it; the gateway still sees a remote peer, admits a device-less client only
    without scopes, and ClawNet falls back to its device identity and the pairing path."""
    port = free_port()
    tunnel = start_forwarder(
        [], ("127.0.0.1", port), (remote.gateway_ip, GATEWAY_PORT), remote.root / "tunnel.log"
    )
    try:
        url = f"wss://127.0.0.1:{port}"  # the test certificate names 127.0.0.1 too
        errors = await _adopt_error(fleet, url, remote.token)
        match = APPROVE.match(errors["url"])
        assert match, errors
        approved = remote.openclaw("devices", "approve", match.group(1))
        assert approved.returncode == 0, approved.stdout + approved.stderr
        gateway_id = await fleet.service.adopt_remote_gateway(fleet.admin, "Tunnelled", url, remote.token)
        bot_id = await fleet.service.create_bot(
            fleet.admin, fleet.bot_input("Tunnel Bot", remote_gateway_id=gateway_id)
        )
        await fleet.service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=240)
        turn = await fleet.service.chat(fleet.admin, bot_id, "REPLY WITH: through the tunnel")
        assert await turn.result(180) == "through the tunnel"
    finally:
        end_process(tunnel, grace=3)
