"""Writing a backup archive: a gzip'd tar (optionally encrypted as a whole, see `crypt`).

Layout of the tar, in order:
    format.json              {"format": "clawnet-backup", "format_version": N} : read first
    db/clawnet.sqlite        or db/clawnet.pgdump (pg_dump custom format)
    keys/keys.json           the key file (absent when keys come from the environment)
    bots/<agent>/...         each bot's workspace and state (OpenClaw's per-agent sqlite)
    gateways/gw-<n>/state/...  what a gateway keeps that ClawNet cannot rebuild (openclaw.sqlite:
                             approved senders, pairing, cron jobs, ...)
    media/...                uploaded images
    manifest.json            last: versions, created_at, every member's sha256 and size, symlinks

Every *.sqlite / *.db file is copied with SQLite's online backup API (consistent while a gateway
writes to it), never its -wal/-shm; symlinks are recorded in the manifest, not followed.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import stat
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from clawnet.backup import database

FORMAT = "clawnet-backup"
FORMAT_VERSION = 1
SQLITE_SUFFIXES = (".sqlite", ".sqlite3", ".db")
SKIP_SUFFIXES = ("-wal", "-shm", "-journal", ".lock", ".tmp", ".log", ".sock")
SKIP_DIRS = {"logs", "log", "cache", ".cache", "node_modules", "tmp", ".tmp", "__pycache__"}
IN_MEMORY_LIMIT = 8 << 20


@dataclass
class Source:
    """A folder to back up, and its name in the archive."""

    folder: Path
    name: str


@dataclass
class ManifestBuilder:
    info: dict[str, Any]
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    symlinks: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> bytes:
        body = dict(self.info, members=self.members, symlinks=self.symlinks)
        return json.dumps(body, indent=1, sort_keys=True).encode()


class HashingWriter:
    """Passes bytes through to a tar while counting and hashing a member's content."""

    def __init__(self, data: IO[bytes]) -> None:
        self.data = data
        self.sha = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        chunk = self.data.read(size)
        self.sha.update(chunk)
        return chunk


def _tarinfo(name: str, size: int, mode: int, mtime: float) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = mode & 0o7777
    info.mtime = int(mtime)
    return info


def add_bytes(
    tar: tarfile.TarFile, manifest: ManifestBuilder, name: str, data: bytes, mode: int = 0o600
) -> None:
    tar.addfile(_tarinfo(name, len(data), mode, time.time()), io.BytesIO(data))
    manifest.members[name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


def add_file(tar: tarfile.TarFile, manifest: ManifestBuilder, name: str, path: Path, scratch: Path) -> None:
    """Add one file: a SQLite database through the backup API, anything else as it is now
    (small files read whole, big ones copied first, so a file changing under us stays whole)."""
    st = path.stat()
    temp: Path | None = None
    if path.suffix in SQLITE_SUFFIXES and _is_sqlite(path):
        temp = scratch / "db.copy"
        temp.unlink(missing_ok=True)
        database.copy_sqlite(path, temp)
        source = temp
    elif st.st_size <= IN_MEMORY_LIMIT:
        add_bytes(tar, manifest, name, path.read_bytes(), st.st_mode)
        return
    else:
        temp = scratch / "file.copy"
        shutil.copyfile(path, temp)
        source = temp
    try:
        size = source.stat().st_size
        with source.open("rb") as handle:
            hashing = HashingWriter(handle)
            tar.addfile(_tarinfo(name, size, st.st_mode, st.st_mtime), hashing)
        manifest.members[name] = {"sha256": hashing.sha.hexdigest(), "size": size}
    finally:
        temp.unlink(missing_ok=True)


def _is_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def walk(folder: Path) -> Iterator[tuple[Path, bool]]:
    """(path, is_symlink) of each regular file and symlink under `folder`, sorted, skipping logs,
    caches, node_modules, sockets and SQLite side files. Symlinks are not followed."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except FileNotFoundError:
        return
    for entry in entries:
        path = Path(entry.path)
        if entry.is_symlink():
            yield path, True
        elif entry.is_dir(follow_symlinks=False) and entry.name not in SKIP_DIRS:
            yield from walk(path)
        elif entry.is_file(follow_symlinks=False) and not entry.name.endswith(SKIP_SUFFIXES):
            yield path, False


def add_folder(
    tar: tarfile.TarFile,
    manifest: ManifestBuilder,
    source: Source,
    scratch: Path,
    link_roots: dict[Path, str],
) -> int:
    """Add every file under `source.folder`; returns how many. A symlink is recorded with its
    target as an archive name when it points into something backed up (`link_roots`), so a
    restore can re-point it at the new location."""
    count = 0
    for path, is_link in walk(source.folder):
        name = f"{source.name}/{path.relative_to(source.folder).as_posix()}"
        if is_link:
            manifest.symlinks[name] = _link_target(path, link_roots)
            continue
        try:
            add_file(tar, manifest, name, path, scratch)
        except FileNotFoundError:
            continue  # deleted while we walked: it is simply not in this backup
        except sqlite3.DatabaseError:
            add_file_plain(tar, manifest, name, path)
        count += 1
    return count


def add_file_plain(tar: tarfile.TarFile, manifest: ManifestBuilder, name: str, path: Path) -> None:
    add_bytes(tar, manifest, name, path.read_bytes(), path.stat().st_mode)


def _link_target(link: Path, roots: dict[Path, str]) -> str:
    raw = link.readlink()
    target = Path(os.path.normpath(raw)) if raw.is_absolute() else (link.parent / raw).resolve()
    for root, name in roots.items():
        try:
            return "archive:" + f"{name}/{target.relative_to(root).as_posix()}".rstrip("/.")
        except ValueError:
            continue
    return str(raw)


def open_output(final: Path) -> tuple[IO[bytes], Path]:
    """A temporary file next to `final` (mode 0600): written, then renamed into place."""
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".partial", dir=final.parent)
    os.fchmod(fd, stat.S_IRUSR | stat.S_IWUSR)
    return os.fdopen(fd, "wb"), Path(tmp)


def finish_output(handle: IO[bytes], tmp: Path, final: Path) -> None:
    handle.flush()
    os.fsync(handle.fileno())
    handle.close()
    tmp.replace(final)
    dir_fd = os.open(final.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
