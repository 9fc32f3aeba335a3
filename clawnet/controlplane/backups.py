"""Scheduled backups, run by the control plane's leader (the controller owns a `BackupScheduler`).

Every few seconds, and at once when a web worker publishes `Kind.BACKUP` "requested", it reads
the settings row and the last run: a "Run backup now" recorded in the database
(`BackupSettings.run_requested_at`, which it clears) or a due scheduled backup
(`backup_schedule.next_due`) starts a run. One at a time: a run in progress makes every other
start a no-op. The archive is written by the backup engine (`clawnet.backup.create_backup`) on a
worker thread, then old archives are pruned to the retention count (`prune_backups`). Each run is
a `BackupRun` row: written when it starts, completed when it ends (ok with path and size, or the
error in plain words); runs a stopped leader left unfinished are failed when the next one starts.
A finished run publishes `Kind.BACKUP`, which makes the alert monitor look at once (the
`backup_failed` rule).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sqlmodel import Session

from clawnet.aio import wait_for
from clawnet.controlplane.backup_schedule import (
    default_folder,
    fail_unfinished_runs,
    is_due,
    latest_run,
    settings_row,
)
from clawnet.controlplane.db_runner import DbRunner
from clawnet.controlplane.tasks import stop_loops
from clawnet.errors import UserError
from clawnet.events import EventBus, Kind
from clawnet.models import BackupRun, utcnow
from clawnet.security.crypto import SecretError
from clawnet.security.secret_fields import BACKUP_PASSPHRASE
from clawnet.settings import Settings

log = logging.getLogger(__name__)

POLL_S = 10.0  # how often the leader looks for a due backup or a request without an event
STOP_WAIT_S = 5.0
KEY_CHANGED_MESSAGE = (
    "The backup passphrase cannot be decrypted (was ClawNet's key changed?). "
    "Set it again in Settings, Backups."
)


class Archive(Protocol):
    """What the engine's `BackupResult` gives the schedule."""

    @property
    def path(self) -> Path: ...
    @property
    def size_bytes(self) -> int: ...
    @property
    def encrypted(self) -> bool: ...


CreateBackup = Callable[[Settings, Path | None, str | None], Archive]


class PruneBackups(Protocol):
    """The engine's `prune_backups`: `keep_also` (the archive just written) is never deleted."""

    def __call__(self, to_dir: Path, keep: int, keep_also: Path | None = None) -> list[Path]: ...


def engine() -> tuple[CreateBackup, PruneBackups]:
    """The backup engine (`clawnet.backup`)."""
    from clawnet import backup

    return backup.create_backup, backup.prune_backups


def plain_error(exc: BaseException) -> str:
    """An error as the Settings page and the alert say it."""
    if isinstance(exc, UserError):
        return exc.message
    if isinstance(exc, OSError) and exc.strerror:
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{exc.strerror}{where}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


@dataclass(frozen=True)
class _Job:
    run_id: int
    folder: Path
    keep: int
    passphrase: str | None
    problem: str  # set: the run fails without writing anything


@dataclass(frozen=True)
class _Outcome:
    ok: bool
    error: str = ""
    path: str = ""
    size_bytes: int = 0
    seconds: float = 0.0
    encrypted: bool = False
    pruned: int = 0


class BackupScheduler:
    def __init__(
        self,
        settings: Settings,
        db: DbRunner,
        bus: EventBus,
        *,
        create: CreateBackup | None = None,
        prune: PruneBackups | None = None,
        poll_s: float = POLL_S,
    ) -> None:
        self.settings = settings
        self.db = db
        self.bus = bus
        self._create = create
        self._prune = prune
        self.poll_s = poll_s
        self._running = False
        self._kick = asyncio.Event()
        self._loops: list[asyncio.Task[None]] = []
        self._stopping = False

    @property
    def running(self) -> bool:
        return self._running

    def start(self) -> None:
        self._stopping = False
        self._loops = [
            asyncio.create_task(self._loop(), name="backups-schedule"),
            asyncio.create_task(self._listen(), name="backups-listen"),
        ]

    async def stop(self) -> None:
        """A backup being written on its thread is left to finish; its row stays unfinished and
        the next leader records it as failed."""
        self._stopping = True
        self._kick.set()
        await stop_loops(self._loops, STOP_WAIT_S)
        self._loops = []

    async def _loop(self) -> None:
        try:
            failed = await self.db.run(lambda s: fail_unfinished_runs(s, utcnow()))
            if failed:
                log.warning("%s backup run(s) left unfinished by a stopped ClawNet marked failed", failed)
        except Exception:
            log.exception("checking for unfinished backups failed")
        while not self._stopping:
            try:
                await self.tick()
            except Exception:
                log.exception("backup schedule check failed")
            with contextlib.suppress(TimeoutError):
                await wait_for(self._kick.wait(), self.poll_s)
            self._kick.clear()

    async def _listen(self) -> None:
        with self.bus.subscribe([Kind.BACKUP], maxsize=100) as events:
            while not self._stopping:
                event = await events.get()
                if event.payload.get("state") == "requested":
                    self._kick.set()

    async def tick(self) -> int | None:
        """Start the requested or due backup, if any (and none is running); its run id."""
        if self._running:
            return None
        self._running = True  # taken before the first await: two ticks never both decide
        try:
            now = utcnow()

            def decide(s: Session) -> tuple[str, int | None] | None:
                # Nothing runs here now (the flag above): a run left unfinished (its end not
                # recorded, or by a stopped leader) failed, and must not block the schedule.
                fail_unfinished_runs(s, now)
                cfg = settings_row(s)
                if cfg is None:
                    return None
                if cfg.run_requested_at is not None:
                    by = cfg.run_requested_by_id
                    cfg.run_requested_at, cfg.run_requested_by_id = None, None
                    s.add(cfg)
                    return "manual", by
                return ("scheduled", None) if is_due(cfg, latest_run(s), now) else None

            decided = await self.db.run(decide)
            if decided is None:
                return None
            return await self._run(*decided)
        finally:
            self._running = False

    async def run(self, trigger: str = "manual", requested_by: int | None = None) -> int | None:
        """Run a backup now unless one is running (then None)."""
        if self._running:
            return None
        self._running = True
        try:
            return await self._run(trigger, requested_by)
        finally:
            self._running = False

    async def _run(self, trigger: str, requested_by: int | None) -> int:
        fallback = default_folder(self.settings.data_dir)
        job = await self.db.run(lambda s: _begin(s, trigger, requested_by, fallback))
        self.bus.publish(Kind.BACKUP, {"state": "started", "run_id": job.run_id})
        log.info("backup %s (%s) started", job.run_id, trigger)
        outcome = (
            _Outcome(ok=False, error=job.problem)
            if job.problem
            else await asyncio.to_thread(self._write, job)
        )
        await self.db.run(lambda s: _finish(s, job.run_id, outcome))
        if outcome.ok:
            log.info("backup %s written: %s (%s bytes)", job.run_id, outcome.path, outcome.size_bytes)
        else:
            log.warning("backup %s failed: %s", job.run_id, outcome.error)
        self.bus.publish(Kind.BACKUP, {"state": "finished", "run_id": job.run_id, "ok": outcome.ok})
        return job.run_id

    def _write(self, job: _Job) -> _Outcome:
        """On a worker thread: the archive, then retention."""
        started = time.monotonic()
        try:
            create, prune = self._create, self._prune
            if create is None or prune is None:
                create, prune = engine()
            job.folder.mkdir(parents=True, exist_ok=True)
            archive = create(self.settings, job.folder, job.passphrase)
        except Exception as exc:
            log.debug("backup failed", exc_info=True)
            return _Outcome(ok=False, error=plain_error(exc), seconds=time.monotonic() - started)
        seconds = time.monotonic() - started
        error, pruned = "", 0
        try:
            written = Path(archive.path)
            pruned = len(prune(written.parent, job.keep, keep_also=written))
        except Exception as exc:
            error = f"The backup was written, but removing old backups failed: {plain_error(exc)}"
        return _Outcome(
            ok=True,
            error=error,
            path=str(archive.path),
            size_bytes=int(archive.size_bytes),
            seconds=round(seconds, 3),
            encrypted=bool(archive.encrypted),
            pruned=pruned,
        )


def _begin(s: Session, trigger: str, requested_by: int | None, fallback: Path) -> _Job:
    cfg = settings_row(s)
    run = BackupRun(trigger=trigger, requested_by_id=requested_by, started_at=utcnow())
    s.add(run)
    s.flush()
    assert run.id is not None
    folder = Path(cfg.folder).expanduser() if cfg is not None and cfg.folder else fallback
    keep = cfg.keep if cfg is not None else 7
    passphrase, problem = None, ""
    if cfg is not None and cfg.passphrase_enc:
        try:
            passphrase = BACKUP_PASSPHRASE.unseal(cfg.passphrase_enc)
        except SecretError:
            problem = KEY_CHANGED_MESSAGE
    return _Job(run.id, folder, keep, passphrase, problem)


def _finish(s: Session, run_id: int, outcome: _Outcome) -> None:
    run = s.get(BackupRun, run_id)
    if run is None:
        return
    run.finished_at = utcnow()
    run.ok, run.error = outcome.ok, outcome.error[:2000]
    run.path, run.size_bytes, run.seconds = outcome.path[:1000], outcome.size_bytes, outcome.seconds
    run.encrypted, run.pruned = outcome.encrypted, outcome.pruned
    s.add(run)
