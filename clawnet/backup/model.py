"""What the backup API returns and raises."""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from clawnet.errors import UserError
from clawnet.settings import Settings

ENV_KEYS_NOTE = (
    "Secrets are encrypted with keys from the environment (CLAWNET_SECRET_KEY): they are NOT in "
    "this archive. Keep that value: the restored installation needs the same CLAWNET_SECRET_KEY "
    "(and CLAWNET_PREVIOUS_SECRET_KEYS) to decrypt channel tokens and API keys."
)


class BackupError(UserError):
    """A backup or restore could not be done; the message says why in plain words. When it is
    raised by a restore, nothing of the installation was changed."""

    default_message = "The backup or restore did not work."


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size_bytes: int
    seconds: float
    encrypted: bool
    created_at: datetime
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class RestoreResult:
    archive: Path
    created_at: datetime  # when the backup was made
    database_kind: str  # "sqlite" | "postgresql"
    revision_in_archive: str | None
    revision_now: str | None
    bots: tuple[str, ...]  # agent ids whose folders came back
    gateways: int  # gateway state folders restored
    media_files: int
    keys_restored: bool
    seconds: float
    replaced_to: Path | None = None  # with force: where the previous installation's files went
    replaced_database: Path | None = None  # with force: the previous database (file or pg_dump)
    notes: tuple[str, ...] = ()


def default_backup_dir(settings: Settings) -> Path:
    return settings.data_dir.parent / "backups"


def clawnet_version() -> str:
    try:
        return importlib.metadata.version("clawnet")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def database_kind(settings: Settings) -> str:
    return "sqlite" if settings.is_sqlite else "postgresql"
