"""The backup -> lost machine -> restore drill: a bot with a Telegram channel, a chat session and
a feed post and a schedule; a backup while ClawNet runs; the data folder wiped; `clawnet restore` on a fresh
installation; ClawNet started again. On SQLite with real gateways, and on PostgreSQL (there
without a gateway: the database dump and restore are what differs)."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlmodel import select

from clawnet import cli, db
from clawnet.bots.forms import ChannelInput
from clawnet.bots.schedule_views import IN_SYNC
from clawnet.bots.service import BotsService
from clawnet.bots.store import stored_credentials
from clawnet.controlplane.cron_jobs import ScheduleInput
from clawnet.db import session_scope
from clawnet.enums import BotStatus, ChannelStatus
from clawnet.events import EventBus
from clawnet.models import Bot, BotChannel, BotSession, Post, TranscriptMessage
from clawnet.security import crypto
from clawnet.security.permissions import Principal
from clawnet.settings import get_settings
from clawnet.social.service import SocialService
from tests.integration.conftest import FleetData, start_fleet
from tests.support.fake_telegram import FakeTelegram

TOKEN = "123456789:AAH0f2l4xmPBtFakeTokenForTests_abcdefg"
ALICE = 111111111


def _new_machine(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    """Point this process at another data folder, as a fresh machine would be."""
    monkeypatch.setenv("CLAWNET_DATA_DIR", str(data_dir))
    get_settings.cache_clear()
    db.dispose_engines()
    crypto.set_key_ring(None)


async def _wait_channel(bot_id: int, timeout: float = 90) -> str:
    deadline = time.monotonic() + timeout
    while True:
        with session_scope() as s:
            status = s.exec(select(BotChannel).where(BotChannel.bot_id == bot_id)).one().status
        if status == ChannelStatus.CONNECTED.value or time.monotonic() > deadline:
            return status
        await asyncio.sleep(0.5)


async def _schedule_in_sync(service: BotsService, actor: Principal, bot_id: int, timeout: float = 90) -> str:
    """The gateway's job id of the bot's "Daily" schedule once the gateway holds it as ClawNet says."""
    deadline = time.monotonic() + timeout
    while True:
        rows = [r for r in (await service.schedules(actor, bot_id)).rows if r.name == "Daily"]
        if rows and rows[0].state == IN_SYNC and rows[0].job_id:
            return rows[0].job_id
        if time.monotonic() > deadline:
            raise AssertionError(f"the schedule never reached the gateway: {rows}")
        await asyncio.sleep(0.5)


@pytest.mark.gateway
async def test_backup_while_running_then_restore_on_a_new_machine_brings_the_bot_back(
    fleet_admin: FleetData, monkeypatch, tmp_path, capsys
):
    with FakeTelegram() as telegram:
        monkeypatch.setenv("CLAWNET_TELEGRAM_API_ROOT", telegram.api_root)
        get_settings.cache_clear()
        telegram.add_bot(TOKEN, "helper_bot")
        old = get_settings()
        controller = await start_fleet(old)
        service = BotsService(old, controller.bus, controller)
        try:
            channel = ChannelInput("telegram", {"botToken": TOKEN}, "allowlist", [str(ALICE)])
            bot_id = await service.create_bot(
                fleet_admin.admin, fleet_admin.bot_input("Helper", channels=[channel])
            )
            await service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=180)
            turn = await service.chat(fleet_admin.admin, bot_id, "REPLY WITH: remember the lighthouse")
            assert await turn.result(120) == "remember the lighthouse"
            await service.save_schedule(
                fleet_admin.admin,
                bot_id,
                ScheduleInput("Daily", "cron", cron_expr="0 9 * * *", message="morning report"),
            )
            job_id = await _schedule_in_sync(service, fleet_admin.admin, bot_id)
            post_id = await SocialService(old, controller.bus).create_post(
                fleet_admin.admin, "Posted before the backup"
            )
            assert cli.main(["backup", "--to", str(tmp_path / "backups")]) == 0  # while running
        finally:
            await controller.stop()
        archive = next((tmp_path / "backups").glob("clawnet-backup-*.tar.gz"))
        assert "Backup written:" in capsys.readouterr().out
        shutil.rmtree(old.data_dir)  # the machine is gone

        _new_machine(monkeypatch, tmp_path / "new-machine" / "data")
        assert cli.main(["migrate"]) == 0  # the README's setup on the new machine
        assert cli.main(["restore", str(archive)]) == 0
        out = capsys.readouterr().out
        assert "1 bots: helper" in out and "key file restored" in out
        _new_machine(monkeypatch, tmp_path / "new-machine" / "data")
        new = get_settings()
        with session_scope() as s:
            assert s.get(Post, post_id).content_text == "Posted before the backup"  # type: ignore[union-attr]
            assert stored_credentials(s, bot_id) == {"telegram.botToken": TOKEN}  # still decrypts
            session_row = s.exec(select(BotSession).where(BotSession.bot_id == bot_id)).one()
            texts = [
                m.text
                for m in s.exec(
                    select(TranscriptMessage).where(TranscriptMessage.session_id == session_row.id)
                )
            ]
            assert "remember the lighthouse" in texts
        state_db = new.data_dir / "bots" / "helper" / "state" / "agent" / "openclaw-agent.sqlite"
        with sqlite3.connect(state_db) as conn:
            assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0

        controller = await start_fleet(new)
        service = BotsService(new, controller.bus, controller)
        try:
            await service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=180)
            with session_scope() as s:
                gateway_id = s.get(Bot, bot_id).gateway_id  # type: ignore[union-attr]
            link = new.gateways_dir / f"gw-{gateway_id}" / "state" / "agents" / "helper"
            assert link.is_symlink() and link.resolve() == (new.data_dir / "bots" / "helper" / "state")
            turn = await service.chat(fleet_admin.admin, bot_id, "REPLY WITH: back on a new machine")
            assert await turn.result(120) == "back on a new machine"
            # The gateway's own session came back: the model saw the turn from before the backup.
            assert "remember the lighthouse" in str(controller.echo_llm.requests[-1]["messages"])
            # The schedule is on the new machine's gateway, the same job (its id kept in its state).
            assert await _schedule_in_sync(service, fleet_admin.admin, bot_id) == job_id
            assert await _wait_channel(bot_id) == ChannelStatus.CONNECTED.value
            telegram.push_message(TOKEN, chat_id=ALICE, from_id=ALICE, text="REPLY WITH: hello via telegram")
            deadline = time.monotonic() + 120
            while not telegram.bots[TOKEN].sent and time.monotonic() < deadline:
                await asyncio.sleep(0.3)
            assert telegram.bots[TOKEN].sent[-1]["text"] == "hello via telegram"
        finally:
            await controller.stop()


@pytest.fixture
def pg_databases(postgres_url: str, clawnet_env) -> tuple[str, str]:
    """Two empty databases on the test server: the old machine's and the new one's."""
    admin = sa.create_engine(
        make_url(postgres_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    urls = []
    with admin.connect() as conn:
        for name in ("backup_old", "backup_new"):
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            conn.execute(sa.text(f"CREATE DATABASE {name}"))
            urls.append(make_url(postgres_url).set(database=name).render_as_string(hide_password=False))
    admin.dispose()
    return urls[0], urls[1]


@pytest.mark.postgres
async def test_backup_and_restore_on_postgresql_keeps_sessions_posts_and_secrets(
    pg_databases, monkeypatch, tmp_path, capsys
):
    from clawnet.bots.forms import BotInput
    from clawnet.bots.providers import ensure_local_echo_provider
    from clawnet.enums import Role
    from clawnet.security.permissions import Principal
    from tests.factories import make_user

    old_url, new_url = pg_databases
    monkeypatch.setenv("DATABASE_URL", old_url)
    _new_machine(monkeypatch, tmp_path / "old" / "data")
    old = get_settings()
    db.migrate()
    with session_scope() as s:
        admin = Principal.of(make_user(s, Role.ADMIN))
        provider_id = ensure_local_echo_provider(s).id
    service = BotsService(old, EventBus())
    channel = ChannelInput("telegram", {"botToken": TOKEN}, "allowlist", [str(ALICE)])
    bot_id = await service.create_bot(
        admin, BotInput(name="Helper", provider_id=provider_id, model_id="echo-1", channels=[channel])
    )
    post_id = await SocialService(old, EventBus()).create_post(admin, "Posted before the backup")
    with session_scope() as s:  # a chat session as session sync records it
        row = BotSession(bot_id=bot_id, key="agent:helper:main", label="Lighthouse")
        s.add(row)
        s.flush()
        s.add(TranscriptMessage(session_id=row.id, role="user", text="remember the lighthouse", seq=1))
    monkeypatch.setenv("BACKUP_PASSPHRASE", "a long passphrase")
    assert (
        cli.main(["backup", "--to", str(tmp_path / "backups"), "--passphrase-env", "BACKUP_PASSPHRASE"]) == 0
    )
    archive = next((tmp_path / "backups").glob("clawnet-backup-*.tar.gz.enc"))

    monkeypatch.setenv("DATABASE_URL", new_url)
    _new_machine(monkeypatch, tmp_path / "new" / "data")
    assert cli.main(["restore", str(archive)]) == 1  # encrypted: no passphrase given
    assert "give its passphrase" in capsys.readouterr().err
    assert cli.main(["restore", str(archive), "--passphrase-env", "BACKUP_PASSPHRASE"]) == 0
    assert cli.main(["restore", str(archive), "--passphrase-env", "BACKUP_PASSPHRASE"]) == 1
    assert "not empty" in capsys.readouterr().err
    _new_machine(monkeypatch, tmp_path / "new" / "data")
    assert db.current_revision() is not None
    with session_scope() as s:
        assert s.get(Post, post_id).content_text == "Posted before the backup"  # type: ignore[union-attr]
        assert stored_credentials(s, bot_id) == {"telegram.botToken": TOKEN}
        session_row = s.exec(select(BotSession).where(BotSession.bot_id == bot_id)).one()
        assert [
            m.text
            for m in s.exec(select(TranscriptMessage).where(TranscriptMessage.session_id == session_row.id))
        ] == ["remember the lighthouse"]


def _emails(url: str) -> list[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text("SELECT email FROM users ORDER BY email")).scalars())
    finally:
        engine.dispose()


def _tool(path: Path, body: str) -> str:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return str(path)


@pytest.mark.postgres
def test_a_forced_restore_on_postgresql_keeps_the_old_database_when_it_fails_and_saves_it_when_not(
    pg_databases, monkeypatch, tmp_path, capsys
):
    from clawnet.backup import BackupError, create_backup, database, restore_backup
    from clawnet.settings import load_settings
    from tests.factories import make_user

    old_url, new_url = pg_databases
    source = load_settings({"CLAWNET_DATA_DIR": str(tmp_path / "old" / "data"), "DATABASE_URL": old_url})
    for url, email in ((old_url, "archived@example.com"), (new_url, "kept@example.com")):
        db.migrate(url)
        with session_scope(url) as s:
            make_user(s, email=email)
    archive = create_backup(source, tmp_path / "backups").path
    monkeypatch.setenv("DATABASE_URL", new_url)
    _new_machine(monkeypatch, tmp_path / "new" / "data")
    target = get_settings()
    real_tool = database._pg_tool
    failing = {
        "pg_restore": _tool(tmp_path / "pg_restore", "echo 'pg_restore: error: simulated' >&2; exit 1"),
        # the real psql, made to fail at the very end: after the old tables were dropped and the
        # archive's loaded, inside the one transaction
        "psql": _tool(tmp_path / "psql", f'exec {real_tool("psql")} "$@" --command "SELECT 1/0"'),
    }
    for name, path in failing.items():
        monkeypatch.setattr(
            database, "_pg_tool", lambda tool, n=name, p=path: p if tool == n else real_tool(tool)
        )
        with pytest.raises(BackupError, match="left as it was"):
            restore_backup(target, archive, force=True)
        assert _emails(new_url) == ["kept@example.com"], f"a failing {name} kept the old rows"
        assert not list(target.data_dir.parent.glob("clawnet-replaced-*"))
    monkeypatch.setattr(database, "_pg_tool", real_tool)
    db.dispose_engines()
    assert cli.main(["restore", str(archive), "--force"]) == 0
    assert _emails(new_url) == ["archived@example.com"]
    saved = next(target.data_dir.parent.glob("clawnet-replaced-*/clawnet.pgdump"))
    assert f"the previous database was saved as {saved}" in capsys.readouterr().out
    script = tmp_path / "saved.sql"
    database._run([real_tool("pg_restore"), "--file", str(script), str(saved)], {}, "pg_restore")
    assert "kept@example.com" in script.read_text()
