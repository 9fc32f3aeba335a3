"""When a scheduled backup is due, and the runs the schedule and the alerts look at.

Pure functions over the rows in the database (never process memory), so a restarted ClawNet or
a new leader keeps the same rhythm:
- off: never due (a "Run backup now" still runs);
- no run since the schedule was turned on: due at once;
- else: `interval_hours` after the last run started (scheduled or manual), or within
  `RETRY_AFTER_FAILURE` when it failed;
- a run still in progress (no `finished_at`): not due.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import Session, col, select

from clawnet.models import BackupRun, BackupSettings
from clawnet.models.backups import SETTINGS_ID

RETRY_AFTER_FAILURE = timedelta(hours=1)
MIN_INTERVAL_HOURS = 1
MAX_INTERVAL_HOURS = 24 * 7
MIN_KEEP = 1
MAX_KEEP = 365
STOPPED_DURING_RUN = "ClawNet stopped while this backup was being written; it was not finished."


def next_due(cfg: BackupSettings | None, last: BackupRun | None) -> datetime | None:
    """When the next scheduled backup is due (None: no schedule, or one is running)."""
    if cfg is None or not cfg.enabled:
        return None
    if last is not None and last.finished_at is None:
        return None
    since = cfg.enabled_since or cfg.updated_at
    if last is None or last.started_at < since:
        return since
    wait = timedelta(hours=max(cfg.interval_hours, MIN_INTERVAL_HOURS))
    if not last.ok:
        wait = min(wait, RETRY_AFTER_FAILURE)
    return last.started_at + wait


def is_due(cfg: BackupSettings | None, last: BackupRun | None, now: datetime) -> bool:
    due = next_due(cfg, last)
    return due is not None and due <= now


def settings_row(s: Session) -> BackupSettings | None:
    return s.get(BackupSettings, SETTINGS_ID)


def latest_run(s: Session, *, finished: bool = False, ok: bool | None = None) -> BackupRun | None:
    """The most recent run (only finished ones, only successful or failed ones if asked)."""
    q = select(BackupRun)
    if finished:
        q = q.where(col(BackupRun.finished_at).is_not(None))
    if ok is not None:
        q = q.where(BackupRun.ok == ok, col(BackupRun.finished_at).is_not(None))
    return s.exec(q.order_by(col(BackupRun.started_at).desc(), col(BackupRun.id).desc()).limit(1)).first()


def recent_runs(s: Session, limit: int = 10) -> list[BackupRun]:
    q = select(BackupRun).order_by(col(BackupRun.started_at).desc(), col(BackupRun.id).desc())
    return list(s.exec(q.limit(limit)).all())


def fail_unfinished_runs(s: Session, now: datetime) -> int:
    """Runs a stopped or killed leader left unfinished are failed (the next leader starts here)."""
    rows = s.exec(select(BackupRun).where(col(BackupRun.finished_at).is_(None))).all()
    for row in rows:
        row.finished_at, row.ok, row.error = now, False, STOPPED_DURING_RUN
        s.add(row)
    return len(rows)


def overdue_at(cfg: BackupSettings | None, s: Session, factor: float) -> datetime | None:
    """When backups are overdue: no successful backup within `factor` x the interval of the
    last success (or of turning the schedule on). None when on time, or the schedule is off."""
    if cfg is None or not cfg.enabled or factor <= 0:
        return None
    last_ok = latest_run(s, ok=True)
    base = cfg.enabled_since or cfg.updated_at
    if last_ok is not None and last_ok.finished_at is not None and last_ok.finished_at > base:
        base = last_ok.finished_at
    return base + timedelta(hours=max(cfg.interval_hours, MIN_INTERVAL_HOURS) * factor)


def default_folder(data_dir: Path) -> Path:
    """Where scheduled backups go when no folder is set: next to the data folder, not in it (a
    backup inside it would be copied into the next one)."""
    return data_dir.resolve().parent / "backups"


def folder_problem(folder: str, data_dir: Path) -> str:
    """What is wrong with a backup folder typed in Settings ('' when fine, or when empty)."""
    if not folder:
        return ""
    if len(folder) > 1000:
        return "Keep the path under 1000 characters."
    path = Path(folder).expanduser()
    if not path.is_absolute():
        return "Enter a full path, starting with /."
    resolved, data = path.resolve(), data_dir.resolve()
    if resolved == data or data in resolved.parents:
        return "Choose a folder outside ClawNet's data folder (a backup there would be copied into the next one)."
    if path.exists() and not path.is_dir():
        return "That path is a file, not a folder."
    return ""
