"""Writing a backup (see `archive` for the layout) and keeping the newest few."""

from __future__ import annotations

import gzip
import re
import tarfile
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from clawnet.backup import archive as ar
from clawnet.backup import database
from clawnet.backup.crypt import EncryptingWriter
from clawnet.backup.model import (
    ENV_KEYS_NOTE,
    BackupError,
    BackupResult,
    clawnet_version,
    database_kind,
    default_backup_dir,
)
from clawnet.settings import Settings

ARCHIVE_RE = re.compile(r"^clawnet-backup-(\d{8}T\d{6}(?:\d{6})?Z)\.tar\.gz(\.enc)?$")


def create_backup(
    settings: Settings, to_dir: Path | None = None, passphrase: str | None = None
) -> BackupResult:
    """Write one consistent archive of the installation into `to_dir` (default
    `default_backup_dir`); safe while ClawNet runs. Raises BackupError."""
    started = time.monotonic()
    created = datetime.now(UTC)
    to_dir = Path(to_dir) if to_dir else default_backup_dir(settings)
    stamp = created.strftime("%Y%m%dT%H%M%S%fZ")
    final = to_dir / f"clawnet-backup-{stamp}.tar.gz{'.enc' if passphrase else ''}"
    notes: list[str] = []
    keys_inside = settings.key_file.exists()
    if settings.secret_key:
        notes.append(ENV_KEYS_NOTE)
    elif not keys_inside:
        notes.append("There is no key file yet: no secret has been stored.")
    try:
        out, tmp = ar.open_output(final)
    except OSError as exc:
        raise BackupError(f"Cannot write to {to_dir}: {exc.strerror or exc}.") from exc
    try:
        with tempfile.TemporaryDirectory(prefix=".clawnet-backup-", dir=to_dir) as scratch_name:
            scratch = Path(scratch_name)
            sink = EncryptingWriter(out, passphrase) if passphrase else out
            with (
                gzip.GzipFile(filename="", mode="wb", fileobj=sink, compresslevel=6, mtime=0) as gz,
                tarfile.open(fileobj=gz, mode="w|", format=tarfile.PAX_FORMAT) as tar,
            ):
                _write_members(settings, tar, scratch, created, keys_inside, notes)
            if isinstance(sink, EncryptingWriter):
                sink.close()
        ar.finish_output(out, tmp, final)
    except BaseException as exc:
        out.close()
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise BackupError(f"The backup could not be written: {exc.strerror or exc}.") from exc
        raise
    return BackupResult(
        path=final,
        size_bytes=final.stat().st_size,
        seconds=time.monotonic() - started,
        encrypted=bool(passphrase),
        created_at=created,
        notes=tuple(notes),
    )


def _write_members(
    settings: Settings,
    tar: tarfile.TarFile,
    scratch: Path,
    created: datetime,
    keys_inside: bool,
    notes: list[str],
) -> None:
    kind = database_kind(settings)
    manifest = ar.ManifestBuilder({})
    header = {"format": ar.FORMAT, "format_version": ar.FORMAT_VERSION}
    ar.add_bytes(tar, manifest, "format.json", ar.json.dumps(header).encode())
    dump = scratch / "database"
    if kind == "sqlite":
        database.copy_sqlite(database.sqlite_path(settings.database_url), dump)
        revision = database.alembic_revision(f"sqlite:///{dump}")
        ar.add_file(tar, manifest, "db/clawnet.sqlite", dump, scratch)
    else:
        database.dump_postgres(settings.database_url, dump)
        revision = database.alembic_revision(settings.database_url)
        ar.add_file(tar, manifest, "db/clawnet.pgdump", dump, scratch)
    dump.unlink(missing_ok=True)
    if keys_inside:
        ar.add_file_plain(tar, manifest, "keys/keys.json", settings.key_file)
    bots_root = settings.data_dir / "bots"
    roots = {bots_root.resolve(): "bots"}
    ar.add_folder(tar, manifest, ar.Source(bots_root, "bots"), scratch, roots)
    gateways = (
        sorted(p for p in settings.gateways_dir.glob("gw-*") if p.is_dir())
        if settings.gateways_dir.is_dir()
        else []
    )
    for gw in gateways:
        ar.add_folder(tar, manifest, ar.Source(gw / "state", f"gateways/{gw.name}/state"), scratch, roots)
    ar.add_folder(tar, manifest, ar.Source(settings.media_dir, "media"), scratch, roots)
    manifest.info = {
        **header,
        "clawnet_version": clawnet_version(),
        "alembic_revision": revision,
        "created_at": created.isoformat(),
        "database": kind,
        "keys_included": keys_inside,
        "keys_from_environment": bool(settings.secret_key),
        "notes": notes,
    }
    body = manifest.as_json()
    info = tarfile.TarInfo("manifest.json")
    info.size, info.mode, info.mtime = len(body), 0o600, int(time.time())
    tar.addfile(info, ar.io.BytesIO(body))


def is_backup_archive(path: Path) -> bool:
    return path.is_file() and ARCHIVE_RE.match(path.name) is not None


def list_backups(to_dir: Path) -> list[Path]:
    """ClawNet archives in `to_dir`, oldest first (their names carry the time they were made)."""
    if not to_dir.is_dir():
        return []
    return sorted((p for p in to_dir.iterdir() if is_backup_archive(p)), key=lambda p: p.name)


def prune_backups(to_dir: Path, keep: int, keep_also: Path | None = None) -> list[Path]:
    """Delete all but the newest `keep` ClawNet archives in `to_dir` (other files are left
    alone); returns the deleted paths. `keep_also` (the archive just written) is never deleted and
    counts as one of the `keep`: names carry the clock's time, so after the clock was set back
    (NTP) a new archive may sort older than the ones before it."""
    if keep < 1:
        raise BackupError("Keep at least one backup.")
    archives = list_backups(to_dir)
    just_written = keep_also is not None and keep_also.exists()
    kept = [p for p in archives if just_written and p.samefile(keep_also)]  # type: ignore[arg-type]
    archives = [p for p in archives if p not in kept]
    keep -= len(kept)
    doomed = archives[:-keep] if keep else archives
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed
