"""Scheduled backups, for Settings -> Backups (admins only: every method checks
`Action.MANAGE_BACKUPS` itself).

The schedule ("every N hours", how many archives to keep, the folder, an optional passphrase)
is one row; the control plane's leader runs the backups (`controlplane.backups`). "Run backup
now" is recorded in that row and announced on the bus, so it reaches the leader from any web
worker. The passphrase is sealed before it is stored and never returned: the view only says
whether one is set.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from clawnet import audit
from clawnet.bots.base import BotsBase
from clawnet.controlplane.backup_schedule import (
    MAX_INTERVAL_HOURS,
    MAX_KEEP,
    MIN_INTERVAL_HOURS,
    MIN_KEEP,
    default_folder,
    folder_problem,
    latest_run,
    next_due,
    recent_runs,
    settings_row,
)
from clawnet.errors import UserError
from clawnet.events import Kind
from clawnet.humanize import ago
from clawnet.models import BackupRun, BackupSettings, utcnow
from clawnet.security.permissions import Action, Principal, require
from clawnet.security.secret_fields import BACKUP_PASSPHRASE

MIN_PASSPHRASE = 8
MAX_PASSPHRASE = 200
RECENT_RUNS = 10


@dataclass(frozen=True)
class BackupRunRow:
    id: int
    trigger: str  # scheduled | manual
    state: str  # running | ok | failed
    started: str  # "2026-12-02 14:05 UTC"
    ago: str  # "5 min ago"
    size: str  # "12.3 MB" ("" unless ok)
    seconds: str  # "4.2 s"
    path: str
    error: str  # plain words ("" when ok); an ok run may carry a retention warning
    encrypted: bool


@dataclass(frozen=True)
class BackupsView:
    enabled: bool
    interval_hours: int
    keep: int
    folder: str  # "" = the default folder
    default_folder: str
    has_passphrase: bool
    next_due: str  # "" when the schedule is off
    requested: bool  # a "Run backup now" is waiting for the control plane
    running: bool
    last: BackupRunRow | None
    runs: list[BackupRunRow]


@dataclass(frozen=True)
class BackupSettingsInput:
    enabled: bool
    interval_hours: str
    keep: str
    folder: str
    passphrase: str = ""  # empty: keep the current one
    clear_passphrase: bool = False


def size_text(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{int(size)} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"  # pragma: no cover


def run_row(r: BackupRun) -> BackupRunRow:
    assert r.id is not None
    state = "running" if r.finished_at is None else ("ok" if r.ok else "failed")
    return BackupRunRow(
        id=r.id,
        trigger=r.trigger,
        state=state,
        started=f"{r.started_at:%Y-%m-%d %H:%M} UTC",
        ago=ago(r.started_at),
        size=size_text(r.size_bytes) if state == "ok" else "",
        seconds=f"{r.seconds:.1f} s" if r.finished_at is not None else "",
        path=r.path,
        error=r.error,
        encrypted=r.encrypted,
    )


def _whole(text: str, low: int, high: int, what: str) -> tuple[int | None, str]:
    raw = text.strip()
    if not raw.isdigit():
        return None, f"Enter a whole number of {what} from {low} to {high}."
    value = int(raw)
    if not low <= value <= high:
        return None, f"Enter a whole number of {what} from {low} to {high}."
    return value, ""


def _view(s: Session, data_dir_default: str) -> BackupsView:
    cfg = settings_row(s) or BackupSettings()
    last_any = latest_run(s)
    last = latest_run(s, finished=True)
    due = next_due(cfg, last_any)
    return BackupsView(
        enabled=cfg.enabled,
        interval_hours=cfg.interval_hours,
        keep=cfg.keep,
        folder=cfg.folder,
        default_folder=data_dir_default,
        has_passphrase=bool(cfg.passphrase_enc),
        next_due=(f"{due:%Y-%m-%d %H:%M} UTC" if due > utcnow() else "now") if due is not None else "",
        requested=cfg.run_requested_at is not None,
        running=last_any is not None and last_any.finished_at is None,
        last=run_row(last) if last is not None else None,
        runs=[run_row(r) for r in recent_runs(s, RECENT_RUNS)],
    )


class Backups(BotsBase):
    def _default_folder(self) -> str:
        return str(default_folder(self.settings.data_dir))

    async def backups(self, actor: Principal | None) -> BackupsView:
        default = self._default_folder()

        def read(s: Session) -> BackupsView:
            require(s, actor, Action.MANAGE_BACKUPS)
            return _view(s, default)

        return await self._db(read)

    async def save_backup_settings(self, actor: Principal | None, form: BackupSettingsInput) -> BackupsView:
        errors: dict[str, str] = {}
        interval, problem = _whole(form.interval_hours, MIN_INTERVAL_HOURS, MAX_INTERVAL_HOURS, "hours")
        if problem:
            errors["interval_hours"] = problem
        keep, problem = _whole(form.keep, MIN_KEEP, MAX_KEEP, "backups")
        if problem:
            errors["keep"] = problem
        folder = form.folder.strip()
        if problem := folder_problem(folder, self.settings.data_dir):
            errors["folder"] = problem
        passphrase = form.passphrase
        if passphrase and not form.clear_passphrase:
            if len(passphrase) < MIN_PASSPHRASE:
                errors["passphrase"] = f"Use at least {MIN_PASSPHRASE} characters, or leave it empty."
            elif len(passphrase) > MAX_PASSPHRASE:
                errors["passphrase"] = f"Keep it under {MAX_PASSPHRASE} characters."
        default = self._default_folder()

        def save(s: Session) -> BackupsView:
            principal = require(s, actor, Action.MANAGE_BACKUPS)  # refused before any form error
            if errors:
                raise UserError(field_errors=errors)
            assert interval is not None and keep is not None
            cfg = settings_row(s) or BackupSettings()
            now = utcnow()
            if form.enabled and not cfg.enabled:
                cfg.enabled_since = now
            elif not form.enabled:
                cfg.enabled_since = None
            cfg.enabled, cfg.interval_hours, cfg.keep, cfg.folder = form.enabled, interval, keep, folder
            passphrase_change = ""
            if form.clear_passphrase:
                passphrase_change = "cleared" if cfg.passphrase_enc else ""
                cfg.passphrase_enc = None
            elif passphrase:
                cfg.passphrase_enc, passphrase_change = BACKUP_PASSPHRASE.seal(passphrase), "set"
            cfg.updated_by_id, cfg.updated_at = principal.user_id, now
            s.add(cfg)
            after = {"enabled": cfg.enabled, "interval_hours": interval, "keep": keep, "folder": folder}
            if passphrase_change:
                after["passphrase"] = passphrase_change
            audit.record(
                s, principal, "backup.settings", "backup", cfg.id, "Changed the backup schedule", after=after
            )
            s.flush()
            return _view(s, default)

        view = await self._db(save)
        self.bus.publish(Kind.BACKUP, {"state": "requested"})  # the leader looks again (due time)
        return view

    async def run_backup_now(self, actor: Principal | None) -> BackupsView:
        default = self._default_folder()

        def ask(s: Session) -> BackupsView:
            principal = require(s, actor, Action.MANAGE_BACKUPS)
            cfg = settings_row(s) or BackupSettings()
            last = latest_run(s)
            if cfg.run_requested_at is not None or (last is not None and last.finished_at is None):
                raise UserError("A backup is already running; wait for it to finish.")
            cfg.run_requested_at, cfg.run_requested_by_id = utcnow(), principal.user_id
            s.add(cfg)
            audit.record(s, principal, "backup.run", "backup", cfg.id, "Asked for a backup now")
            s.flush()
            return _view(s, default)

        view = await self._db(ask)
        self.bus.publish(Kind.BACKUP, {"state": "requested"})
        return view
