"""Writing files so that a reader never sees half of one: write a temporary file in the same
folder, flush it to disk, then rename it over the target (atomic on POSIX)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from clawnet.errors import disk_full


def write_file_atomically(path: Path, content: str | bytes, *, mode: int = 0o644) -> None:
    """Replace `path` with `content` atomically; the file gets permission bits `mode`. On a full
    disk the old file is left whole and `DiskFull` (an OSError with a plain message) is raised."""
    try:
        _write(path, content, mode)
    except OSError as exc:
        if (full := disk_full(exc)) is not None and full is not exc:
            raise full from exc
        raise


def _write(path: Path, content: str | bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode("utf-8") if isinstance(content, str) else content
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp_name).replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            Path(tmp_name).unlink()
        raise
    # Make the rename itself durable.
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
