"""Scheduled backups: the one settings row (Settings -> Backups, admins) and every backup run.

`BackupSettings` has a single row (`id` 1). A schedule is "every `interval_hours` hours": the
next backup is due `interval_hours` after the last one started (scheduled or manual), or at
once when none ran since the schedule was turned on; after a failed one it is retried within an
hour. Computed from the runs in the database, so a restart or a new leader keeps the rhythm.
`folder` empty means the backup engine's default folder. `passphrase_enc` is sealed with the key
ring (`security.secret_fields.BACKUP_PASSPHRASE`). `run_requested_at` is a "Run backup now"
asked for by any web worker; the control plane's leader takes it (and clears it) on its next
look.

`BackupRun` is one backup: started (`finished_at` NULL while it runs), then ok with its archive's
path and size, or failed with the error in plain words.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from clawnet.models.types import UTCDateTime, utcnow

SETTINGS_ID = 1


class BackupSettings(SQLModel, table=True):
    __tablename__ = "backup_settings"

    id: int = Field(default=SETTINGS_ID, primary_key=True)
    enabled: bool = Field(default=False)
    interval_hours: int = Field(default=24)
    keep: int = Field(default=7)  # retention: the newest `keep` archives stay in the folder
    folder: str = Field(default="", max_length=1000)  # "" = the engine's default folder
    passphrase_enc: str | None = Field(default=None)
    enabled_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    run_requested_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    run_requested_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    updated_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class BackupRun(SQLModel, table=True):
    __tablename__ = "backup_runs"

    id: int | None = Field(default=None, primary_key=True)
    trigger: str = Field(default="scheduled", max_length=16)  # scheduled | manual
    requested_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ok: bool = Field(default=False)
    error: str = Field(default="", max_length=2000)
    path: str = Field(default="", max_length=1000)
    size_bytes: int = Field(default=0, sa_type=sa.BigInteger)
    seconds: float = Field(default=0.0)
    encrypted: bool = Field(default=False)
    pruned: int = Field(default=0)  # old archives removed by retention after this run
