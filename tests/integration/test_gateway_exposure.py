"""What a running fleet exposes, read from the machine itself: gateways listen on loopback only,
each with its own token; config files are private; no plaintext secret in ClawNet's database."""

from __future__ import annotations

import stat

import psutil
import pytest

from clawnet.db import session_scope
from clawnet.enums import BotStatus
from clawnet.models import Bot, Gateway
from clawnet.security import secret_fields
from tests.integration.conftest import Fleet

pytestmark = pytest.mark.gateway

LOOPBACK = {"127.0.0.1", "::1", "::ffff:127.0.0.1"}


def listening_addresses(pid: int) -> set[tuple[str, int]]:
    proc = psutil.Process(pid)
    out = set()
    for p in [proc, *proc.children(recursive=True)]:
        try:
            connections = p.net_connections(kind="inet")
        except psutil.NoSuchProcess:
            continue  # a short-lived helper that ended meanwhile listens nowhere
        for conn in connections:
            if conn.status == psutil.CONN_LISTEN:
                out.add((conn.laddr.ip, conn.laddr.port))
    return out


async def test_gateways_listen_on_loopback_only_with_unique_tokens_and_private_files(fleet: Fleet):
    pooled = await fleet.service.create_bot(fleet.admin, fleet.bot_input("Pooled Bot"))
    dedicated = await fleet.service.create_bot(
        fleet.admin, fleet.bot_input("Dedicated Bot", placement="dedicated")
    )
    for bot_id in (pooled, dedicated):
        await fleet.service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=180)

    with session_scope() as s:
        gateway_ids = {s.get(Bot, b).gateway_id for b in (pooled, dedicated)}  # type: ignore[union-attr]
        gateways = [s.get(Gateway, g) for g in gateway_ids]
    assert len(gateways) == 2
    tokens = [secret_fields.GATEWAY_TOKEN.unseal(gw.token_enc) for gw in gateways]  # type: ignore[union-attr]
    assert len(set(tokens)) == 2 and all(len(t) >= 32 for t in tokens)

    for gw in gateways:
        assert gw is not None and gw.pid is not None
        addresses = listening_addresses(gw.pid)
        assert addresses, f"gateway {gw.id} listens nowhere?"
        assert {ip for ip, _ in addresses} <= LOOPBACK, addresses

    settings = fleet.settings
    for path in settings.gateways_dir.rglob("*"):
        try:
            mode = stat.S_IMODE(path.lstat().st_mode)
        except FileNotFoundError:  # gone while walking (OpenClaw renames its staging folders)
            continue
        if path.name.endswith(".json") or path.name.endswith(".json5"):
            assert mode & 0o077 == 0, f"{path} is readable by others ({mode:o})"
    for folder in settings.gateways_dir.iterdir():
        assert stat.S_IMODE(folder.stat().st_mode) & 0o077 == 0, folder

    # The database (with its write-ahead log) holds secrets only encrypted.
    plaintexts = [t.encode() for t in tokens]  # channel secrets: tests/security/test_secrets.py
    for path in settings.data_dir.glob("clawnet.db*"):
        data = path.read_bytes()
        for secret in plaintexts:
            assert secret not in data, f"a plaintext secret is in {path.name}"
