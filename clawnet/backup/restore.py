"""Restoring an archive: verify everything first, then move it into place.

The archive is read once into a staging folder next to the data folder, checking every member's
sha256 and size against the manifest (and, when encrypted, every chunk's authentication tag).
Only when all of it matches is anything of the installation touched: the database is restored,
folders are moved into place, agent-state symlinks re-pointed at the new location, and the
schema migrated to this ClawNet's version. A damaged archive leaves the installation as it was.
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import hashlib
import json
import os
import secrets
import shutil
import tarfile
import time
import zlib
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

import sqlalchemy as sa
from sqlmodel import col, select

from clawnet import db
from clawnet.backup import database
from clawnet.backup.archive import FORMAT, FORMAT_VERSION
from clawnet.backup.crypt import MAGIC, DecryptingReader, DecryptionError
from clawnet.backup.gateway_state import rehome_cron_store
from clawnet.backup.model import ENV_KEYS_NOTE, BackupError, RestoreResult, database_kind
from clawnet.backup.paths import DAMAGED, check_links, make_link, safe_name
from clawnet.enums import BotStatus, ChannelStatus, DesiredStatus, GatewayKind, GatewayStatus
from clawnet.models import BackupRun
from clawnet.settings import Settings

MAX_MEMBERS = 2_000_000  # files in one archive: beyond, a crafted archive, not an installation
FREE_RESERVE = 64 << 20  # staging never fills its filesystem to the last byte


def _open(archive: Path, passphrase: str | None) -> tuple[IO[bytes], IO[bytes]]:
    raw = archive.open("rb")
    encrypted = raw.read(len(MAGIC)) == MAGIC
    raw.seek(0)
    if not encrypted:
        return raw, raw
    if not passphrase:
        raw.close()
        raise BackupError("This archive is encrypted: give its passphrase.")
    try:
        return raw, DecryptingReader(raw, passphrase)  # type: ignore[return-value]
    except DecryptionError as exc:
        raw.close()
        raise BackupError(
            "Wrong passphrase: the archive could not be decrypted; nothing was restored."
            if exc.wrong_passphrase
            else DAMAGED.format(exc)
        ) from None


def _read_verified(archive: Path, passphrase: str | None, staging: Path | None) -> dict[str, Any]:
    """Read the whole archive, hashing each member (and writing it under `staging` when given);
    returns the manifest once every member matches it. Raises BackupError otherwise."""
    if not archive.is_file():
        raise BackupError(f"There is no archive at {archive}.")
    raw, plain = _open(archive, passphrase)
    seen: dict[str, tuple[str, int]] = {}
    manifest: dict[str, Any] | None = None
    try:
        with (
            raw,
            gzip.GzipFile(fileobj=plain, mode="rb") as gz,
            tarfile.open(fileobj=gz, mode="r|") as tar,
        ):
            budget = _free_bytes(staging) if staging else None
            staged = 0
            for index, member in enumerate(tar):
                name = safe_name(member.name)
                if not member.isfile():
                    raise BackupError(DAMAGED.format(f"{member.name} is not a file"))
                if index > MAX_MEMBERS:
                    raise BackupError(DAMAGED.format(f"it holds more than {MAX_MEMBERS} files"))
                staged += member.size  # what the tar header declares: exactly what is read
                if budget is not None and staged > budget:
                    assert staging is not None
                    raise BackupError(
                        f"Not enough free space in {staging.parent}: the archive needs more than "
                        f"{_mib(staged)} there and only {_mib(budget)} are free (keeping "
                        f"{_mib(FREE_RESERVE)} spare); nothing was restored."
                    )
                handle = tar.extractfile(member)
                assert handle is not None
                if index == 0:
                    _check_format(member.name, handle.read(1 << 16))
                    continue
                if member.name == "manifest.json":
                    manifest = json.loads(handle.read(64 << 20))
                    continue
                if manifest is not None or member.name in seen:
                    raise BackupError(DAMAGED.format(f"unexpected member {member.name!r}"))
                seen[member.name] = _copy(handle, staging / name if staging else None, member.mode)
    except BackupError:
        raise
    except DecryptionError as exc:
        raise BackupError(DAMAGED.format(exc)) from None
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, ValueError) as exc:
        raise BackupError(DAMAGED.format(str(exc) or type(exc).__name__)) from None
    if manifest is None:
        raise BackupError(DAMAGED.format("its manifest is missing"))
    members = {k: v for k, v in manifest.get("members", {}).items() if k != "format.json"}
    for name, entry in members.items():
        if seen.get(name) != (entry.get("sha256"), entry.get("size")):
            what = "missing" if name not in seen else "altered"
            raise BackupError(DAMAGED.format(f"{name} is {what}"))
    if extra := set(seen) - set(members):
        raise BackupError(DAMAGED.format(f"{sorted(extra)[0]} is not in the manifest"))
    return manifest


def _free_bytes(folder: Path) -> int:
    """What may be staged in `folder`: its filesystem's free space less a reserve."""
    return max(0, shutil.disk_usage(folder).free - FREE_RESERVE)


def _mib(size: int) -> str:
    return f"{size / (1 << 20):.0f} MiB"


def _check_format(name: str, data: bytes) -> None:
    try:
        header = json.loads(data) if name == "format.json" else {}
    except ValueError:
        header = {}
    if header.get("format") != FORMAT:
        raise BackupError("This is not a ClawNet backup archive.")
    version = header.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise BackupError(
            f"This archive has format version {version}; this ClawNet reads up to {FORMAT_VERSION}: "
            "update ClawNet first."
        )


def _copy(handle: IO[bytes], target: Path | None, mode: int) -> tuple[str, int]:
    sha, size = hashlib.sha256(), 0
    out = None
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        out = target.open("wb")
    try:
        while chunk := handle.read(1 << 20):
            sha.update(chunk)
            size += len(chunk)
            if out is not None:
                out.write(chunk)
    finally:
        if out is not None:
            out.close()
            assert target is not None
            target.chmod(mode & 0o700 or 0o600)
    return sha.hexdigest(), size


def read_manifest(archive: Path, passphrase: str | None = None) -> dict[str, Any]:
    """Verify `archive` completely (decryption, every checksum, format version) without writing
    anything, and return its manifest. Raises BackupError."""
    return _read_verified(Path(archive), passphrase, None)


# --- the installation ---------------------------------------------------------------------------


def _running(settings: Settings) -> bool:
    path = settings.data_dir / "controller.lock"
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # closing releases a lock we got
    return False


def _gateways_running(settings: Settings) -> list[int]:
    """PIDs of OpenClaw processes running this installation's gateway configs: a stopped ClawNet
    leaves them running (the next start adopts them), and a restore must not move their folders."""
    import psutil

    roots = {str(settings.gateways_dir), str(settings.gateways_dir.resolve())}
    found = []
    for ps in psutil.process_iter(["pid"]):
        with contextlib.suppress(psutil.Error):
            config = ps.environ().get("OPENCLAW_CONFIG_PATH", "")
            if ps.status() != psutil.STATUS_ZOMBIE and any(config.startswith(r + os.sep) for r in roots):
                found.append(ps.info["pid"])
    return sorted(found)


def _filled(folder: Path) -> bool:
    return folder.is_dir() and any(folder.iterdir())


def _contents(settings: Settings) -> list[str]:
    """What the installation already holds (empty: a fresh one)."""
    try:
        users = database.user_count(settings.database_url)
    except (sa.exc.SQLAlchemyError, OSError) as exc:
        raise BackupError(f"The target database cannot be read: {exc}") from None
    held = [f"{users} accounts"] if users else []
    bots_root = settings.data_dir / "bots"
    if _filled(bots_root):
        held.append(f"{sum(1 for _ in bots_root.iterdir())} bot folders")
    if any(_filled(gw / "state") for gw in settings.gateways_dir.glob("gw-*")):
        held.append("gateway state")
    if _filled(settings.media_dir):
        held.append("media files")
    return held


def _move(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(source), str(target))


def _set_aside(settings: Settings, stamp: str) -> Path | None:
    """With force: move the current installation's files out of the way (never deleted)."""
    aside = settings.data_dir.parent / f"clawnet-replaced-{stamp}"
    moved = False
    candidates = [settings.data_dir / "bots", settings.gateways_dir, settings.media_dir, settings.key_file]
    if settings.is_sqlite:
        db_file = database.sqlite_path(settings.database_url)
        candidates += [db_file, Path(f"{db_file}-wal"), Path(f"{db_file}-shm")]
    for path in candidates:
        if path.exists() or path.is_symlink():
            _move(path, aside / path.name)
            moved = True
    return aside if moved or aside.is_dir() else None


def _saved_database(settings: Settings, aside: Path | None) -> Path | None:
    """Where a forced restore put the previous database (its file, or its pg_dump)."""
    if aside is None:
        return None
    name = database.sqlite_path(settings.database_url).name if settings.is_sqlite else "clawnet.pgdump"
    return aside / name if (aside / name).exists() else None


def _replace_postgres(settings: Settings, staging: Path, force: bool, stamp: str) -> None:
    """With force, the current database is first saved (pg_dump) into the set-aside folder;
    then the archive's replaces it in one transaction. A failure leaves the database as it was."""
    url = settings.database_url
    saved = settings.data_dir.parent / f"clawnet-replaced-{stamp}" / "clawnet.pgdump"
    try:
        if force:
            saved.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            database.dump_postgres(url, saved)
        database.restore_postgres(url, staging / "db" / "clawnet.pgdump", staging)
    except database.DatabaseToolError as exc:
        saved.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            saved.parent.rmdir()
        raise BackupError(
            f"The database could not be replaced ({exc.message}); it was left as it was and "
            "nothing was restored."
        ) from None


def restore_backup(
    settings: Settings, archive: Path, passphrase: str | None = None, force: bool = False
) -> RestoreResult:
    """Restore `archive` into the installation `settings` describes (ClawNet stopped). Refuses a
    non-empty installation unless `force` (its files are then moved aside, not deleted).
    Raises BackupError; nothing is changed when the archive is damaged or refused."""
    started = time.monotonic()
    archive = Path(archive)
    if not archive.is_file():
        raise BackupError(f"There is no archive at {archive}.")
    if _running(settings):
        raise BackupError("ClawNet is running on this installation: stop it first, then restore.")
    if pids := _gateways_running(settings):
        raise BackupError(
            f"Gateways of this installation are still running (pid {', '.join(map(str, pids))}): "
            "end them with `clawnet stop-gateways`, then restore."
        )
    held = _contents(settings)
    if held and not force:
        raise BackupError(
            f"This installation is not empty ({', '.join(held)}): restoring would replace it. "
            "Use --force to replace it (its files are moved aside, not deleted)."
        )
    settings.data_dir.parent.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    staging = settings.data_dir.parent / f".clawnet-restore-{stamp}-{secrets.token_hex(4)}"
    staging.mkdir(mode=0o700)
    try:
        manifest = _read_verified(archive, passphrase, staging)
        kind = manifest.get("database")
        if kind != database_kind(settings):
            raise BackupError(
                f"The archive holds a {kind} database but this installation uses "
                f"{database_kind(settings)}: set DATABASE_URL to match, then restore."
            )
        links = check_links(manifest)
        return _put_in_place(settings, archive, manifest, links, staging, force, stamp, started)
    except OSError as exc:
        raise BackupError(f"The restore could not write its files: {exc.strerror or exc}.") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _put_in_place(
    settings: Settings,
    archive: Path,
    manifest: dict[str, Any],
    links: tuple[dict[PurePosixPath, PurePosixPath], list[str]],
    staging: Path,
    force: bool,
    stamp: str,
    started: float,
) -> RestoreResult:
    db.dispose_engines()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if settings.is_sqlite:
        target = database.sqlite_path(settings.database_url)
        aside = _set_aside(settings, stamp) if force else None
        for side in (Path(f"{target}-wal"), Path(f"{target}-shm")):
            side.unlink(missing_ok=True)  # an empty database's side files must not meet the new one
        _move(staging / "db" / "clawnet.sqlite", target)
    else:
        _replace_postgres(settings, staging, force, stamp)
        aside = _set_aside(settings, stamp) if force else None
    saved_db = _saved_database(settings, aside)
    for leftover in (settings.data_dir / "bots", settings.media_dir):
        with contextlib.suppress(OSError):
            leftover.rmdir()  # an empty folder left by setup
    keys = staging / "keys" / "keys.json"
    if keys.exists():
        if settings.key_file.exists():  # a fresh setup's key file: nothing uses it, kept anyway
            settings.key_file.rename(
                settings.key_file.with_name(f"{settings.key_file.name}.before-restore-{stamp}")
            )
        _move(keys, settings.key_file)
        settings.key_file.chmod(0o600)
    if (staging / "bots").is_dir():
        _move(staging / "bots", settings.data_dir / "bots")
    gateways = sorted((staging / "gateways").glob("gw-*")) if (staging / "gateways").is_dir() else []
    for gw in gateways:
        with contextlib.suppress(OSError):
            (settings.gateways_dir / gw.name / "state").rmdir()
        _move(gw / "state", settings.gateways_dir / gw.name / "state")
        (settings.gateways_dir / gw.name).chmod(0o700)
        rehome_cron_store(settings.gateways_dir / gw.name / "state")
    if (staging / "media").is_dir():
        _move(staging / "media", settings.media_dir)
    accepted, outside = links
    for name, link_target in accepted.items():
        make_link(settings, name, link_target)
    revision_in = manifest.get("alembic_revision")
    db.migrate(settings.database_url)
    _forget_processes(settings.database_url)
    _finish_own_run(settings.database_url, archive, manifest)
    notes = []
    if manifest.get("keys_from_environment"):
        notes.append(ENV_KEYS_NOTE)
    if outside:
        notes.append(
            f"{len(outside)} symlinks pointed outside the backup and were not re-created: "
            + ", ".join(outside[:5])
            + (" ..." if len(outside) > 5 else "")
        )
    members = manifest.get("members", {})
    bots = sorted({n.split("/")[1] for n in members if n.startswith("bots/")})
    return RestoreResult(
        archive=archive,
        created_at=datetime.fromisoformat(manifest["created_at"]),
        database_kind=manifest["database"],
        revision_in_archive=revision_in,
        revision_now=database.alembic_revision(settings.database_url),
        bots=tuple(bots),
        gateways=len(gateways),
        media_files=sum(1 for n in members if n.startswith("media/")),
        keys_restored=bool(manifest.get("keys_included")),
        seconds=time.monotonic() - started,
        replaced_to=aside,
        replaced_database=saved_db,
        notes=tuple(notes),
    )


def _forget_processes(database_url: str) -> None:
    """The archive's local gateways name processes of the old machine, and its bots and channels
    say how they were doing there: forget that, so the control plane starts the gateways afresh
    (instead of adopting whatever now has those process ids) and the pages say "pending" until
    each bot really runs again. Remote gateways run elsewhere and are left as they are."""
    with db.session_scope(database_url) as session:
        for sql in (
            "UPDATE gateways SET pid = NULL, pid_started_at = NULL, actual_status = :stopped "
            "WHERE kind = :local",
            "UPDATE bots SET actual_status = CASE WHEN desired_status = :running THEN :pending "
            "ELSE :stopped END WHERE gateway_id IS NULL OR gateway_id IN "
            "(SELECT id FROM gateways WHERE kind = :local)",
            "UPDATE bot_channels SET status = :unknown WHERE status <> :disabled AND bot_id IN "
            "(SELECT id FROM bots WHERE gateway_id IS NULL OR gateway_id IN "
            "(SELECT id FROM gateways WHERE kind = :local))",
        ):
            params = {
                "stopped": GatewayStatus.STOPPED.value,
                "local": GatewayKind.LOCAL.value,
                "running": DesiredStatus.RUNNING.value,
                "pending": BotStatus.PENDING.value,
                "unknown": ChannelStatus.UNKNOWN.value,
                "disabled": ChannelStatus.DISABLED.value,
            }
            session.execute(sa.text(sql), {k: v for k, v in params.items() if f":{k}" in sql})


def _finish_own_run(database_url: str, archive: Path, manifest: dict[str, Any]) -> None:
    """A scheduled or "run now" backup snapshots the database while its own run is open: in the
    restored database that run would look cut short (a failed backup, an alert). It did finish:
    here is its archive."""
    with db.session_scope(database_url) as session:
        for run in session.exec(select(BackupRun).where(col(BackupRun.finished_at).is_(None))).all():
            run.finished_at = datetime.fromisoformat(manifest["created_at"])
            run.ok, run.error = True, ""
            run.path, run.size_bytes = str(archive)[:1000], archive.stat().st_size
            session.add(run)
