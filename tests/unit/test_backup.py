"""The backup archive: what goes in, that it is verified before a restore writes anything, and
that a restore refuses what it should (damaged, tampered, wrong passphrase, non-empty target)."""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import sqlite3
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from clawnet import db
from clawnet.backup import BackupError, create_backup, prune_backups, read_manifest, restore_backup
from clawnet.backup.crypt import CHUNK
from clawnet.models import BackupRun, Bot, User
from clawnet.security import crypto
from clawnet.settings import Settings, load_settings
from tests.factories import make_bot, make_user

PASS = "correct horse battery staple"


def _sqlite(path: Path, rows: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)")
    conn.executemany("INSERT INTO t (v) VALUES (?)", [(f"row {i}",) for i in range(rows)])
    conn.commit()
    conn.close()


@pytest.fixture(scope="module")
def installation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """An installation with an account, a bot, its folder, a gateway's state, media and a key
    file; built once for the module (migrating takes seconds)."""
    settings = load_settings({"CLAWNET_DATA_DIR": str(tmp_path_factory.mktemp("old") / "data")})
    db.migrate(settings.database_url)
    with db.session_scope(settings.database_url) as s:
        make_bot(s, make_user(s), name="Helper").agent_id = "helper"
    bot_state = settings.data_dir / "bots" / "helper" / "state"
    _sqlite(bot_state / "agent" / "openclaw-agent.sqlite", 50)
    (settings.data_dir / "bots" / "helper" / "workspace").mkdir(parents=True)
    (settings.data_dir / "bots" / "helper" / "workspace" / "SOUL.md").write_text("You are kind.")
    (settings.data_dir / "bots" / "helper" / "workspace" / "big.bin").write_bytes(os.urandom(9 << 20))
    gw_state = settings.gateways_dir / "gw-1" / "state"
    _sqlite(gw_state / "openclaw.sqlite", 5)
    (gw_state / "agents").mkdir()
    (gw_state / "agents" / "helper").symlink_to(bot_state, target_is_directory=True)
    (gw_state / "logs").mkdir()
    (gw_state / "logs" / "gateway.log").write_text("noise")
    (settings.gateways_dir / "gw-1" / "home" / ".cache").mkdir(parents=True)
    (settings.media_dir / "posts").mkdir(parents=True)
    (settings.media_dir / "posts" / "a.png").write_bytes(b"\x89PNG\r\n\x1a\nxx")
    crypto.write_key_file(settings.key_file, crypto.KeyRing.with_keys(crypto.generate_key()))
    yield settings
    db.dispose_engines()


@pytest.fixture(scope="module")
def archives(installation: Settings, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("archives")
    return {
        "plain": create_backup(installation, out).path,
        "encrypted": create_backup(installation, out, passphrase=PASS).path,
    }


@pytest.fixture
def plain(archives: dict[str, Path], tmp_path: Path) -> Path:
    """A copy of the plain archive this test may damage."""
    copy = tmp_path / archives["plain"].name
    shutil.copyfile(archives["plain"], copy)
    return copy


@pytest.fixture
def encrypted(archives: dict[str, Path], tmp_path: Path) -> Path:
    copy = tmp_path / archives["encrypted"].name
    shutil.copyfile(archives["encrypted"], copy)
    return copy


@pytest.fixture(scope="module")
def empty_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated database without rows: what the README's setup leaves."""
    path = tmp_path_factory.mktemp("template") / "clawnet.db"
    db.migrate(f"sqlite:///{path}")
    db.dispose_engines()
    return path


def _set_up(tmp_path: Path, empty_db: Path) -> Settings:
    target = _fresh(tmp_path)
    target.data_dir.mkdir(parents=True)
    shutil.copyfile(empty_db, target.data_dir / "clawnet.db")
    return target


def _fresh(tmp_path: Path, name: str = "new") -> Settings:
    return load_settings({"CLAWNET_DATA_DIR": str(tmp_path / name / "data")})


def _files(folder: Path) -> list[tuple[str, bytes]]:
    """The files under `folder` and their content (SQLite's -wal/-shm of a mere read aside)."""
    return sorted(
        (str(p.relative_to(folder)), p.read_bytes())
        for p in folder.rglob("*")
        if p.is_file() and not p.name.endswith(("-wal", "-shm"))
    )


def _members(archive: Path) -> list[str]:
    with tarfile.open(archive, "r:gz") as tar:
        return tar.getnames()


def test_the_archive_holds_the_database_keys_bots_gateway_state_and_media_with_checksums(
    installation, archives
):
    path = archives["plain"]
    assert (path.stat().st_mode & 0o777) == 0o600
    names = _members(path)
    assert names[0] == "format.json" and names[-1] == "manifest.json"
    assert {
        "db/clawnet.sqlite",
        "keys/keys.json",
        "bots/helper/workspace/SOUL.md",
        "media/posts/a.png",
    } <= set(names)
    assert "bots/helper/state/agent/openclaw-agent.sqlite" in names
    assert "gateways/gw-1/state/openclaw.sqlite" in names
    assert not [n for n in names if n.endswith(("-wal", "-shm")) or "/logs/" in n or "home" in n]
    manifest = read_manifest(path)
    assert manifest["format_version"] == 1 and manifest["database"] == "sqlite"
    assert manifest["alembic_revision"] == db.current_revision(installation.database_url)
    assert manifest["keys_included"] is True
    assert manifest["symlinks"] == {"gateways/gw-1/state/agents/helper": "archive:bots/helper/state"}
    assert all(len(m["sha256"]) == 64 for m in manifest["members"].values())
    assert not list(path.parent.glob(".*")), "no temporary file is left behind"


def test_a_restore_on_a_fresh_installation_brings_everything_back(installation, plain, tmp_path):
    target = _fresh(tmp_path)
    result = restore_backup(target, plain)
    assert result.bots == ("helper",) and result.gateways == 1 and result.media_files == 1
    assert result.keys_restored and result.revision_now == result.revision_in_archive
    with db.session_scope(target.database_url) as s:
        assert s.exec(select(Bot.agent_id)).all() == ["helper"] and len(s.exec(select(User)).all()) == 1
    state = target.data_dir / "bots" / "helper" / "state"
    with sqlite3.connect(state / "agent" / "openclaw-agent.sqlite") as conn:
        assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 50
    link = target.gateways_dir / "gw-1" / "state" / "agents" / "helper"
    assert link.is_symlink() and link.resolve() == state.resolve()
    assert (target.key_file.stat().st_mode & 0o777) == 0o600
    assert target.key_file.read_bytes() == installation.key_file.read_bytes()
    assert (target.media_dir / "posts" / "a.png").exists()
    assert not list(target.data_dir.parent.glob(".clawnet-restore-*")), "the staging folder is gone"


def test_an_encrypted_archive_needs_its_passphrase(encrypted, tmp_path):
    archive = encrypted
    assert archive.name.endswith(".tar.gz.enc") and b"SQLite format 3" not in archive.read_bytes()
    assert archive.stat().st_size > CHUNK  # several chunks
    with pytest.raises(BackupError, match="encrypted: give its passphrase"):
        read_manifest(archive)
    target = _fresh(tmp_path)
    with pytest.raises(BackupError, match="Wrong passphrase"):
        restore_backup(target, archive, passphrase="not it")
    assert not target.data_dir.exists() or not any(target.data_dir.iterdir())
    assert restore_backup(target, archive, passphrase=PASS).bots == ("helper",)


@pytest.mark.parametrize("where", ["start", "middle", "end"])
def test_a_flipped_byte_in_an_encrypted_archive_is_detected(encrypted, where):
    archive = encrypted
    data = bytearray(archive.read_bytes())
    data[{"start": 200, "middle": len(data) // 2, "end": len(data) - 3}[where]] ^= 0x01
    archive.write_bytes(bytes(data))
    with pytest.raises(BackupError, match="damaged"):
        read_manifest(archive, PASS)


def test_a_cut_short_encrypted_archive_is_detected(encrypted):
    archive = encrypted
    archive.write_bytes(archive.read_bytes()[: -(CHUNK // 2)])
    with pytest.raises(BackupError, match="damaged"):
        read_manifest(archive, PASS)


def _rewrite(archive: Path, change) -> None:
    """Re-pack a plain archive with `change(name, data) -> data | None` (None drops it)."""
    with tarfile.open(archive, "r:gz") as tar:
        items = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]  # type: ignore[union-attr]
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb") as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        for member, data in items:
            new = change(member.name, data)
            if new is not None:
                member.size = len(new)
                tar.addfile(member, io.BytesIO(new))
    archive.write_bytes(buffer.getvalue())


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda n, d: d.replace(b"kind", b"mean") if n.endswith("SOUL.md") else d, "SOUL.md is altered"),
        (lambda n, d: None if n == "media/posts/a.png" else d, "a.png is missing"),
        (lambda n, d: None if n == "manifest.json" else d, "manifest is missing"),
    ],
)
def test_a_tampered_archive_is_refused_and_the_target_left_untouched(plain, tmp_path, change, message):
    archive = plain
    _rewrite(archive, change)
    target = _fresh(tmp_path)
    with pytest.raises(BackupError, match=message):
        restore_backup(target, archive)
    assert not target.data_dir.exists() or not any(target.data_dir.iterdir())
    assert not list(target.data_dir.parent.glob(".clawnet-restore-*"))


def test_a_truncated_archive_leaves_an_installation_as_it_was(plain, tmp_path, empty_db):
    archive = plain
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size * 2 // 3])
    target = _set_up(tmp_path, empty_db)
    before = _files(target.data_dir)
    with pytest.raises(BackupError, match="damaged or incomplete"):
        restore_backup(target, archive)
    assert _files(target.data_dir) == before
    with db.session_scope(target.database_url) as s:
        assert s.exec(select(User)).all() == []


def test_a_newer_format_is_refused(plain):
    archive = plain
    _rewrite(
        archive,
        lambda n, d: (
            json.dumps({"format": "clawnet-backup", "format_version": 99}).encode()
            if n == "format.json"
            else d
        ),
    )
    with pytest.raises(BackupError, match="format version 99"):
        read_manifest(archive)


def test_restoring_onto_a_non_empty_installation_needs_force(plain, tmp_path, empty_db):
    archive = plain
    target = _set_up(tmp_path, empty_db)
    with db.session_scope(target.database_url) as s:
        make_user(s, email="someone@example.com")
    with pytest.raises(BackupError, match=r"not empty \(1 accounts\).*--force"):
        restore_backup(target, archive)
    with db.session_scope(target.database_url) as s:
        assert [u.email for u in s.exec(select(User))] == ["someone@example.com"]
    result = restore_backup(target, archive, force=True)
    assert result.replaced_to is not None and (result.replaced_to / "clawnet.db").exists()
    assert result.replaced_database == result.replaced_to / "clawnet.db"
    with db.session_scope(target.database_url) as s:
        assert "someone@example.com" not in [u.email for u in s.exec(select(User))]


def test_prune_keeps_the_newest_archives_and_nothing_else_is_touched(tmp_path):
    names = [f"clawnet-backup-2026120{d}T030000000000Z.tar.gz" for d in (3, 1, 2)] + [
        "clawnet-backup-20261204T030000000000Z.tar.gz.enc"
    ]
    for name in [*names, "notes.txt", "clawnet-backup-latest.tar.gz"]:
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in prune_backups(tmp_path, keep=2)] == [names[1], names[2]]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [names[0], names[3], "notes.txt", "clawnet-backup-latest.tar.gz"]
    )


def _with_symlinks(archive: Path, symlinks: dict[str, str]) -> None:
    def change(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["symlinks"].update(symlinks)
        return json.dumps(manifest).encode()

    _rewrite(archive, change)


@pytest.mark.parametrize(
    "links, message",
    [
        ({"bots/x/../../../../outside/authorized_keys": "archive:bots/helper"}, "unexpected member"),
        ({"bots/a/l": "{outside}", "bots/a/l/evil": "archive:bots/helper"}, "under another symlink"),
        ({"bots/helper/workspace": "archive:bots/helper/state"}, "also a file or folder"),
        ({"gateways/gw-1/state/agents/x": "archive:../../outside"}, "unexpected member"),
        ({"gateways/gw-1/home/x": "archive:bots/helper"}, "unexpected symlink"),
        ({"keys/k": "archive:bots/helper"}, "unexpected symlink"),
    ],
)
def test_a_symlink_name_or_target_outside_the_restored_tree_is_refused_before_anything_is_written(
    plain, tmp_path, empty_db, links, message
):
    outside = tmp_path / "outside"
    outside.mkdir()
    _with_symlinks(plain, {k: v.format(outside=outside) for k, v in links.items()})
    target = _set_up(tmp_path, empty_db)
    before = _files(target.data_dir)
    with pytest.raises(BackupError, match=message):
        restore_backup(target, plain)
    assert _files(target.data_dir) == before and not (target.data_dir / "bots").exists()
    assert not any(outside.iterdir()) and not list(tmp_path.rglob("authorized_keys"))
    with db.session_scope(target.database_url) as s:
        assert s.exec(select(User)).all() == []


def test_symlinks_pointing_outside_the_backup_are_left_out_and_said(plain, tmp_path):
    _with_symlinks(
        plain,
        {
            "media/posts/elsewhere": str(tmp_path / "old-machine"),
            "bots/helper/workspace/up": "../../../../old-machine",
            "media/posts/same.png": "a.png",
        },
    )
    target = _fresh(tmp_path)
    result = restore_backup(target, plain)
    assert not (target.media_dir / "posts" / "elsewhere").is_symlink()
    assert not (target.data_dir / "bots" / "helper" / "workspace" / "up").is_symlink()
    assert (target.media_dir / "posts" / "same.png").read_bytes().startswith(b"\x89PNG")
    agents = target.gateways_dir / "gw-1" / "state" / "agents" / "helper"
    assert agents.resolve() == (target.data_dir / "bots" / "helper" / "state").resolve()
    assert any(n.startswith("2 symlinks pointed outside the backup") for n in result.notes)


@pytest.mark.parametrize("params", [(22, 8, 1), (15, 16, 1), (15, 8, 8)])
def test_an_encryption_header_asking_scrypt_for_too_much_is_refused_without_deriving(
    encrypted, monkeypatch, params
):
    from clawnet.backup import crypt

    def no_scrypt(**_: object) -> None:
        raise AssertionError("scrypt must not run for these parameters")

    monkeypatch.setattr(crypt, "Scrypt", no_scrypt)
    data = bytearray(encrypted.read_bytes())
    data[8:11] = bytes(params)
    encrypted.write_bytes(bytes(data))
    with pytest.raises(BackupError, match="scrypt parameters ClawNet never writes"):
        read_manifest(encrypted, PASS)


def test_staging_stops_before_it_would_fill_the_disk(plain, tmp_path, monkeypatch):
    from clawnet.backup import restore

    monkeypatch.setattr(restore, "_free_bytes", lambda folder: 4 << 20)
    written: list[int] = []
    real_copy = restore._copy

    def counting_copy(handle, target, mode):  # type: ignore[no-untyped-def]
        result = real_copy(handle, target, mode)
        written.append(result[1])
        return result

    monkeypatch.setattr(restore, "_copy", counting_copy)
    target = _fresh(tmp_path)
    with pytest.raises(BackupError, match=r"Not enough free space .* only 4 MiB are free"):
        restore_backup(target, plain)
    assert 0 < sum(written) <= 4 << 20, "the 9 MiB file was refused before it was written"
    assert not target.data_dir.exists() or not any(target.data_dir.iterdir())
    assert not list(target.data_dir.parent.glob(".clawnet-restore-*"))


def test_an_archive_with_too_many_files_is_refused(plain, monkeypatch):
    from clawnet.backup import restore

    monkeypatch.setattr(restore, "MAX_MEMBERS", 3)
    with pytest.raises(BackupError, match="more than 3 files"):
        read_manifest(plain)


def test_prune_never_deletes_the_archive_just_written_when_the_clock_went_back(tmp_path):
    future = [f"clawnet-backup-2099010{d}T030000000000Z.tar.gz" for d in (1, 2)]
    for name in future:
        (tmp_path / name).write_bytes(b"x")
    written = tmp_path / "clawnet-backup-20260101T030000000000Z.tar.gz"
    written.write_bytes(b"x")
    assert prune_backups(tmp_path, keep=2, keep_also=written) == [tmp_path / future[0]]
    assert sorted(p.name for p in tmp_path.iterdir()) == [written.name, future[1]]
    assert prune_backups(tmp_path, keep=1, keep_also=written) == [tmp_path / future[1]]


def test_the_backup_run_open_in_the_snapshot_is_restored_as_finished_with_this_archive(
    installation, tmp_path
):
    with db.session_scope(installation.database_url) as s:  # a scheduled run, writing this archive
        s.add(BackupRun(trigger="scheduled"))
    try:
        archive = create_backup(installation, tmp_path / "out").path
    finally:
        with db.session_scope(installation.database_url) as s:
            for run in s.exec(select(BackupRun)).all():
                s.delete(run)
    target = _fresh(tmp_path)
    restore_backup(target, archive)
    with db.session_scope(target.database_url) as s:
        runs = s.exec(select(BackupRun)).all()
    assert [(r.ok, r.path, r.finished_at is not None) for r in runs] == [(True, str(archive), True)]
