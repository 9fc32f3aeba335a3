"""The data disk fills up: a ClawNet installation (database, bots' folders, gateways) on a small
tmpfs, filled by a filler file while a bot runs. Writes fail with a plain message, nothing is
half-written, the running bot's gateway stays up (OpenClaw refuses new turns while its own
session store cannot grow), and once the filler is deleted everything works again without a
restart."""

from __future__ import annotations

import contextlib
import errno
import sqlite3
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from clawnet import db
from clawnet.bots.forms import BotInput
from clawnet.bots.providers import ensure_local_echo_provider
from clawnet.bots.service import BotsService
from clawnet.bots.store import stored_input
from clawnet.controlplane.paths import gateway_paths
from clawnet.controlplane.protocol import GatewayError
from clawnet.enums import BotStatus, Role
from clawnet.errors import DiskFull
from clawnet.events import EventBus
from clawnet.files import write_file_atomically
from clawnet.models import Bot
from clawnet.security.permissions import Principal
from clawnet.settings import get_settings
from clawnet.social.service import SocialService
from tests.factories import make_user
from tests.integration.conftest import Fleet, start_fleet
from tests.integration.test_fleet_lifecycle import gateway_of
from tests.support.server import free_port, free_port_range

pytestmark = pytest.mark.gateway

DISK_SIZE = "192m"  # room for the database and one gateway's state; the filler takes the rest


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_SIZE},mode=0755", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "--lazy", str(mount)], check=False)


@pytest.fixture
async def full_disk_fleet(small_disk: Path, clawnet_env, monkeypatch) -> AsyncIterator[Fleet]:
    monkeypatch.setenv("CLAWNET_DATA_DIR", str(small_disk / "data"))
    monkeypatch.setenv("CLAWNET_GATEWAY_BASE_PORT", str(free_port_range()))
    monkeypatch.setenv("CLAWNET_ECHO_PORT", str(free_port()))
    get_settings.cache_clear()
    db.dispose_engines()
    settings = get_settings()
    db.migrate()
    with db.session_scope() as s:
        admin = Principal.of(make_user(s, Role.ADMIN))
        provider_id = ensure_local_echo_provider(s).id
    assert provider_id is not None
    controller = await start_fleet(settings)
    try:
        yield Fleet(
            settings,
            controller,
            BotsService(settings, controller.bus, controller),
            controller.bus,
            admin,
            provider_id,
        )
    finally:
        await controller.stop()
        db.dispose_engines()


def fill(folder: Path) -> Path:
    """A filler file that takes every free block of the disk."""
    filler = folder / "filler.bin"
    chunk = b"\0" * (1 << 20)
    with filler.open("wb") as out:
        try:
            while True:
                out.write(chunk)
                out.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    with contextlib.suppress(OSError), filler.open("ab") as out:  # the last partial block too
        while True:
            out.write(b"\0" * 512)
            out.flush()
    return filler


def stored(bot_id: int) -> BotInput:
    with db.session_scope() as s:
        bot = s.get(Bot, bot_id)
        assert bot is not None
        return stored_input(s, bot)


def post_count(db_path: Path, text: str) -> int:
    conn = sqlite3.connect(db_path, timeout=30)
    try:
        return int(
            conn.execute("SELECT count(*) FROM posts WHERE content_text LIKE ?", (f"%{text}%",)).fetchone()[0]
        )
    finally:
        conn.close()


async def test_a_full_disk_fails_writes_plainly_keeps_the_gateway_up_and_recovers(
    full_disk_fleet: Fleet, small_disk: Path
):
    fleet = full_disk_fleet
    social = SocialService(fleet.settings, EventBus())
    db_path = fleet.settings.data_dir / "clawnet.db"
    bot_id = await fleet.service.create_bot(fleet.admin, fleet.bot_input("Steady", persona="Calm and kind."))
    await fleet.service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=180)
    turn = await fleet.service.chat(fleet.admin, bot_id, "REPLY WITH: before the disk filled")
    assert await turn.result(120) == "before the disk filled"
    await social.create_post(fleet.admin, "kept post from before")
    gw = gateway_of(bot_id)
    assert gw.id is not None
    config = gateway_paths(fleet.settings, gw.id).config
    config_before = config.read_bytes()
    before_input = stored(bot_id)

    filler = fill(small_disk)
    try:
        # Posts: the database's journal may still hold some room; the first write that needs a
        # new block fails, plainly, and is not kept.
        failed: DiskFull | None = None
        written = 0
        for n in range(2000):
            try:
                await social.create_post(fleet.admin, f"written on a full disk #{n} " + "x" * 400)
                written += 1
            except DiskFull as exc:
                failed = exc
                break
        assert failed is not None, "2000 posts fitted on a full disk"
        assert str(failed).startswith("The disk is full: ClawNet could not save")
        assert post_count(db_path, f"written on a full disk #{written} ") == 0  # nothing half-saved
        assert post_count(db_path, "kept post from before") == 1

        # A bot edit is refused the same way; the stored bot and its config file stay as they were.
        with pytest.raises(DiskFull):
            await fleet.service.update_bot(fleet.admin, bot_id, replace(before_input, persona="Changed."))
        assert stored(bot_id).persona == "Calm and kind."
        with pytest.raises(DiskFull) as refused:
            write_file_atomically(config, b"{}", mode=0o600)
        assert isinstance(refused.value, OSError)  # file-write callers that handle OSError still do
        assert config.read_bytes() == config_before
        assert not [p for p in config.parent.iterdir() if p.name.endswith(".tmp")]  # no leftovers

        # The running bot's gateway stays up and answers its health probes. OpenClaw itself keeps
        # its sessions on this disk, so it refuses a new turn ("database or disk is full") rather
        # than answer and lose it; it is not restarted, and answers again once space returns.
        link = fleet.controller.links.connected(gw.id)
        assert link is not None
        await link.api.health(timeout=30)  # raises if the gateway does not answer
        with pytest.raises(GatewayError, match="disk is full"):
            await link.api.send_chat("agent:steady:main", "REPLY WITH: on a full disk", uuid.uuid4().hex)
        # A chat from the dashboard needs a row in ClawNet's database: refused, plainly.
        with pytest.raises(DiskFull) as refused_chat:
            await fleet.service.chat(fleet.admin, bot_id, "REPLY WITH: from the dashboard")
        assert str(refused_chat.value).startswith("The disk is full")
    finally:
        filler.unlink()

    # Space is back: the same writes work, without a restart.
    post_id = await social.create_post(fleet.admin, "written after space returned")
    assert post_id and post_count(db_path, "written after space returned") == 1
    await fleet.service.update_bot(fleet.admin, bot_id, replace(before_input, persona="Changed."))
    assert stored(bot_id).persona == "Changed."
    await fleet.service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=180)
    turn = await fleet.service.chat(fleet.admin, bot_id, "REPLY WITH: space is back")
    assert await turn.result(120) == "space is back"
    assert gateway_of(bot_id).pid == gw.pid  # the same gateway throughout: no restart needed
