"""Database access: one engine per URL and process, transactional sessions, and migrations.

SQLite is the embedded default: WAL journal (readers never block the writer), foreign keys on,
and a busy timeout so concurrent writers wait instead of failing. PostgreSQL is accepted for
larger installations. Migrations (Alembic, in `alembic/`) run at start-up under a cross-process
lock, so several workers starting together apply them exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from clawnet.errors import UserError, disk_full
from clawnet.settings import PROJECT_ROOT, get_settings

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def _sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_engine_for(url: str) -> Engine:
    """A new engine for `url`, with ClawNet's connection settings."""
    if url.startswith("sqlite"):
        _sqlite_path(url).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 10},
            pool_size=10,
            max_overflow=20,
        )
        sa.event.listen(engine, "connect", _on_sqlite_connect)
        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def get_engine(url: str | None = None) -> Engine:
    """The shared engine for `url` (default: settings.database_url)."""
    url = url or get_settings().database_url
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engines[url] = create_engine_for(url)
        return engine


def dispose_engines() -> None:
    """Close every pooled connection (tests, and before a process forks)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def _forget_engines_in_child() -> None:
    """A forked web worker must not use its parent's pooled connections (two processes talking
    over one socket corrupt each other's results): drop them, without closing the parent's."""
    global _engines_lock
    _engines_lock = threading.Lock()
    for engine in _engines.values():
        engine.dispose(close=False)
    _engines.clear()


os.register_at_fork(after_in_child=_forget_engines_in_child)


@contextlib.contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A session that commits when the block succeeds and rolls back when it raises. A full
    disk is raised as `DiskFull` (a plain message; the transaction was rolled back)."""
    session = Session(get_engine(url), expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException as exc:
        with contextlib.suppress(Exception):  # a full disk can fail the rollback too
            session.rollback()
        if not isinstance(exc, UserError) and (full := disk_full(exc)) is not None:
            raise full from exc
        raise
    finally:
        session.close()


T = TypeVar("T")
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
DB_THREADS = 4


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=DB_THREADS, thread_name_prefix="clawnet-db")
        return _pool


async def run_in_session(fn: Callable[[Session], T], url: str | None = None) -> T:
    """Run `fn(session)` in one transaction on a worker thread, off the event loop (a waiting
    SQLite writer must never freeze the loop that serves every browser and gateway)."""

    def work() -> T:
        with session_scope(url) as session:
            return fn(session)

    return await asyncio.get_running_loop().run_in_executor(_executor(), work)


def _forget_pool_in_child() -> None:
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_pool_in_child)


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@contextlib.contextmanager
def _migration_lock(url: str) -> Iterator[None]:
    if url.startswith("sqlite"):
        lock_path = _sqlite_path(url).with_suffix(".migrate.lock")
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with lock_path.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    # PostgreSQL: a session-level advisory lock held on a dedicated connection.
    with get_engine(url).connect() as conn:
        conn.execute(sa.text("SELECT pg_advisory_lock(724001)"))
        try:
            yield
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(724001)"))


def migrate(url: str | None = None, revision: str = "head") -> None:
    """Bring the database schema to `revision` (default: the newest)."""
    from alembic import command

    url = url or get_settings().database_url
    with _migration_lock(url):
        command.upgrade(alembic_config(url), revision)


def current_revision(url: str | None = None) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with get_engine(url).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
