"""Scheduled backups without the engine (an injected writer stands in for
`clawnet.backup.create_backup`, real files in a temporary folder): when a backup is due, that
due time comes from the runs in the database (a restarted ClawNet keeps the rhythm), one run at a
time, retention, "Run backup now" from the service reaching the scheduler through the database,
the `backup_failed` alert opening for admins and resolving after a success, and non-admins
refused by the service."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from clawnet.bots.backups import BackupSettingsInput
from clawnet.bots.service import BotsService
from clawnet.controlplane.alerts import AlertMonitor
from clawnet.controlplane.backup_schedule import STOPPED_DURING_RUN, next_due
from clawnet.controlplane.backups import BackupScheduler
from clawnet.controlplane.db_runner import DbRunner
from clawnet.controlplane.tasks import TaskSet
from clawnet.db import session_scope
from clawnet.enums import Role
from clawnet.errors import PermissionDenied, UserError
from clawnet.events import EventBus
from clawnet.models import Alert, AlertSettings, BackupRun, BackupSettings, utcnow
from clawnet.security.permissions import Principal
from clawnet.security.secret_fields import BACKUP_PASSPHRASE
from clawnet.settings import Settings
from tests.factories import make_user

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def cfg(enabled: bool = True, hours: int = 6, since: datetime = T0) -> BackupSettings:
    return BackupSettings(enabled=enabled, interval_hours=hours, enabled_since=since, updated_at=since)


def run(started: datetime, ok: bool = True, finished: bool = True) -> BackupRun:
    return BackupRun(
        started_at=started, finished_at=started + timedelta(minutes=1) if finished else None, ok=ok
    )


def test_the_next_backup_is_due_an_interval_after_the_last_one_and_sooner_after_a_failure():
    assert next_due(cfg(enabled=False), None) is None  # no schedule
    assert next_due(cfg(), None) == T0  # turned on, none yet: at once
    assert next_due(cfg(), run(T0 - timedelta(days=3))) == T0  # the last one predates the schedule
    assert next_due(cfg(), run(T0 + timedelta(hours=1))) == T0 + timedelta(hours=7)
    assert next_due(cfg(), run(T0, ok=False)) == T0 + timedelta(
        hours=1
    )  # a failure is retried within an hour
    assert next_due(cfg(hours=1), run(T0, ok=False)) == T0 + timedelta(hours=1)
    assert next_due(cfg(), run(T0, finished=False)) is None  # one is running


@dataclass(frozen=True)
class FakeArchive:
    path: Path
    size_bytes: int
    encrypted: bool


class FakeEngine:
    """Writes a small file per backup; `gate` (if set) holds each backup until it is opened."""

    def __init__(self, fail: str = "") -> None:
        self.calls: list[tuple[Path | None, str | None]] = []
        self.fail = fail
        self.gate: threading.Event | None = None
        self.active = 0
        self.most_active = 0
        self._lock = threading.Lock()

    def create(self, settings, to_dir, passphrase):
        with self._lock:
            self.active += 1
            self.most_active = max(self.most_active, self.active)
        try:
            self.calls.append((to_dir, passphrase))
            if self.gate is not None:
                assert self.gate.wait(10)
            if self.fail:
                raise UserError(self.fail)
            path = Path(to_dir) / f"clawnet-backup-{len(self.calls):03d}.tar"
            path.write_bytes(b"x" * 2048)
            return FakeArchive(path, 2048, passphrase is not None)
        finally:
            with self._lock:
                self.active -= 1

    @staticmethod
    def prune(to_dir: Path, keep: int, keep_also: Path | None = None) -> list[Path]:
        assert keep_also is not None and keep_also.exists(), "the archive just written is named"
        archives = sorted(to_dir.glob("clawnet-backup-*.tar"))
        gone = archives[: max(0, len(archives) - keep)]
        for p in gone:
            p.unlink()
        return gone


@dataclass
class Parts:
    settings: Settings
    runner: DbRunner
    bus: EventBus
    engine: FakeEngine
    scheduler: BackupScheduler
    folder: Path


@pytest.fixture
async def parts(migrated, tmp_path):
    runner = DbRunner(migrated.database_url)
    bus = EventBus()
    engine = FakeEngine()
    scheduler = BackupScheduler(migrated, runner, bus, create=engine.create, prune=engine.prune, poll_s=0.05)
    yield Parts(migrated, runner, bus, engine, scheduler, tmp_path / "backups")
    await scheduler.stop()
    runner.shutdown()


def set_schedule(folder: Path, *, enabled=True, hours=6, keep=2, since=None, passphrase=None) -> None:
    with session_scope() as s:
        row = s.get(BackupSettings, 1) or BackupSettings()
        row.enabled, row.interval_hours, row.keep, row.folder = enabled, hours, keep, str(folder)
        row.enabled_since = since or utcnow()
        row.passphrase_enc = BACKUP_PASSPHRASE.seal(passphrase) if passphrase else None
        s.add(row)


def runs() -> list[BackupRun]:
    with session_scope() as s:
        return list(s.exec(select(BackupRun).order_by(BackupRun.id)).all())


async def test_a_due_backup_runs_once_and_retention_keeps_the_newest(parts):
    set_schedule(parts.folder, keep=2, passphrase="correct horse")
    assert await parts.scheduler.tick() is not None  # just turned on: due
    assert await parts.scheduler.tick() is None  # not due again for 6 hours
    (first,) = runs()
    assert first.ok and first.trigger == "scheduled" and first.size_bytes == 2048 and first.encrypted
    assert Path(first.path).parent == parts.folder and parts.engine.calls[0][1] == "correct horse"
    for _ in range(3):
        await parts.scheduler.run("manual")
    assert sorted(p.name for p in parts.folder.iterdir()) == [
        "clawnet-backup-003.tar",
        "clawnet-backup-004.tar",
    ]
    assert [r.pruned for r in runs()] == [0, 0, 1, 1]


async def test_only_one_backup_runs_at_a_time(parts):
    set_schedule(parts.folder)
    parts.engine.gate = threading.Event()
    first = asyncio.create_task(parts.scheduler.run("manual"))
    deadline = time.monotonic() + 10
    while not parts.engine.calls and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert await parts.scheduler.run("manual") is None  # refused while the first is being written
    assert await parts.scheduler.tick() is None
    parts.engine.gate.set()
    assert await first is not None
    assert len(parts.engine.calls) == 1 and parts.engine.most_active == 1


async def test_the_schedule_survives_a_restart_from_the_runs_in_the_database(parts):
    set_schedule(parts.folder, hours=6, since=utcnow() - timedelta(days=1))
    with session_scope() as s:  # the previous process ran one 2 h ago, and was killed during another
        s.add(run(utcnow() - timedelta(hours=2)))
    fresh = BackupScheduler(
        parts.settings,
        parts.runner,
        parts.bus,
        create=parts.engine.create,
        prune=parts.engine.prune,
        poll_s=0.05,
    )
    assert await fresh.tick() is None and not parts.engine.calls  # due in 4 h, not "at start"
    with session_scope() as s:
        s.add(BackupRun(started_at=utcnow() - timedelta(hours=7)))  # both left unfinished by killed leaders
        s.add(run(utcnow() - timedelta(minutes=1), finished=False))
    fresh.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(r.finished_at is None for r in runs()):
        await asyncio.sleep(0.05)
    await fresh.stop()
    stale = [r for r in runs() if r.error == STOPPED_DURING_RUN]
    assert len(stale) == 2 and not any(r.ok for r in stale)
    # The failed one is the latest: retried within the hour, not now.
    assert not parts.engine.calls


async def test_run_now_from_a_web_worker_reaches_the_leader_through_the_database(parts):
    set_schedule(parts.folder, enabled=False)
    with session_scope() as s:
        admin = Principal.of(make_user(s, Role.ADMIN))
    worker = BotsService(parts.settings, EventBus())  # another process: no bus to the leader
    view = await worker.run_backup_now(admin)
    assert view.requested
    with pytest.raises(UserError, match="already running"):
        await worker.run_backup_now(admin)
    assert await parts.scheduler.tick() is not None  # the leader's periodic look finds the request
    (done,) = runs()
    assert done.trigger == "manual" and done.requested_by_id == admin.user_id and done.ok
    view = await worker.backups(admin)
    assert not view.requested and view.last is not None and view.last.state == "ok"
    assert view.last.size == "2.0 KB" and view.last.path == done.path


async def test_a_failed_backup_alerts_admins_and_a_later_success_resolves_it(parts):
    set_schedule(parts.folder)
    with session_scope() as s:
        admin, other_admin = make_user(s, Role.ADMIN), make_user(s, Role.ADMIN)
        operator = make_user(s, Role.OPERATOR)
        s.add(AlertSettings(owner_id=other_admin.id, rules={"backup_failed": {"enabled": False}}))
        ids = admin.id, other_admin.id, operator.id
    monitor = AlertMonitor(parts.settings, parts.runner, parts.bus, links=None, tasks=TaskSet())  # type: ignore[arg-type]
    parts.engine.fail = "The disk is full: 0 bytes free in /backups."
    await parts.scheduler.run("scheduled")
    await monitor.evaluate()
    with session_scope() as s:
        alerts = s.exec(select(Alert).where(Alert.rule == "backup_failed")).all()
        assert [(a.owner_id, a.state, a.urgent) for a in alerts] == [(ids[0], "open", True)]
        assert "The disk is full" in alerts[0].detail
    await monitor.evaluate()  # still failed: still one alert
    parts.engine.fail = ""
    await parts.scheduler.run("manual")
    await monitor.evaluate()
    with session_scope() as s:
        states = [a.state for a in s.exec(select(Alert).where(Alert.rule == "backup_failed")).all()]
    assert states == ["resolved"]
    monitor.tasks.cancel_all()


async def test_no_successful_backup_in_twice_the_interval_is_an_alert(parts):
    set_schedule(parts.folder, hours=1, since=utcnow() - timedelta(hours=3))
    with session_scope() as s:
        admin = make_user(s, Role.ADMIN)
    monitor = AlertMonitor(parts.settings, parts.runner, parts.bus, links=None, tasks=TaskSet())  # type: ignore[arg-type]
    await monitor.evaluate()
    with session_scope() as s:
        (a,) = s.exec(select(Alert).where(Alert.rule == "backup_overdue")).all()
        assert a.owner_id == admin.id and a.state == "open" and not a.urgent
    await parts.scheduler.run("manual")
    await monitor.evaluate()
    with session_scope() as s:
        assert s.exec(select(Alert.state).where(Alert.rule == "backup_overdue")).all() == ["resolved"]
    monitor.tasks.cancel_all()


async def test_only_admins_see_or_change_backups_and_each_field_says_what_is_wrong(migrated, tmp_path):
    service = BotsService(migrated, EventBus())
    with session_scope() as s:
        admin = Principal.of(make_user(s, Role.ADMIN))
        others = [Principal.of(make_user(s, role)) for role in (Role.OPERATOR, Role.VIEWER, Role.MEMBER)]
    good = BackupSettingsInput(True, "12", "5", str(tmp_path / "b"), passphrase="a long passphrase")
    for who in [None, *others]:
        with pytest.raises(PermissionDenied):
            await service.backups(who)
        with pytest.raises(PermissionDenied):
            await service.save_backup_settings(who, good)
        with pytest.raises(PermissionDenied):
            await service.run_backup_now(who)
    with session_scope() as s:
        assert s.get(BackupSettings, 1) is None and not s.exec(select(BackupRun)).all()

    bad = BackupSettingsInput(True, "0", "many", str(migrated.data_dir / "b"), passphrase="short")
    with pytest.raises(UserError) as caught:
        await service.save_backup_settings(admin, bad)
    assert set(caught.value.field_errors) == {"interval_hours", "keep", "folder", "passphrase"}
    assert "outside ClawNet's data folder" in caught.value.field_errors["folder"]
    view = await service.save_backup_settings(admin, good)
    assert view.enabled and view.interval_hours == 12 and view.keep == 5 and view.has_passphrase
    assert view.next_due == "now"  # the first one runs as soon as the schedule is on
    assert "a long passphrase" not in repr(view)
    with session_scope() as s:
        row = s.get(BackupSettings, 1)
        assert row is not None and BACKUP_PASSPHRASE.unseal(row.passphrase_enc or "") == "a long passphrase"
    kept = await service.save_backup_settings(admin, BackupSettingsInput(True, "12", "5", "", passphrase=""))
    assert kept.has_passphrase and kept.folder == "" and kept.default_folder.endswith("backups")
    cleared = await service.save_backup_settings(
        admin, BackupSettingsInput(False, "12", "5", "", clear_passphrase=True)
    )
    assert not cleared.has_passphrase and not cleared.enabled and cleared.next_due == ""
    # The backup alert rules are offered to admins only (only admins receive them).
    admin_rules = {r.name for r in (await service.alert_settings(admin)).rules}
    operator_rules = {r.name for r in (await service.alert_settings(others[0])).rules}
    assert {"backup_failed", "backup_overdue"} <= admin_rules
    assert not {"backup_failed", "backup_overdue"} & operator_rules
