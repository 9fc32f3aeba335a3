"""The database part of a backup: SQLite through its online backup API, PostgreSQL through
`pg_dump` (custom format) and `pg_restore`; and whether an installation already holds data."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from clawnet.errors import UserError


class DatabaseToolError(UserError):
    """pg_dump / pg_restore missing or failing; the message says what they said."""


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite database (any writer may keep writing): SQLite's
    online backup API, in one step, so the copy is one committed state. Never the -wal/-shm."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            dst.close()
    finally:
        src.close()


def sqlite_path(database_url: str) -> Path:
    return Path(database_url.removeprefix("sqlite:///"))


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return str(candidates[-1])
    raise DatabaseToolError(
        f"{name} was not found (looked on PATH and in /usr/lib/postgresql/*/bin): install the "
        "PostgreSQL client tools of your server's version."
    )


def _pg_env(database_url: str) -> dict[str, str]:
    """libpq's variables for `database_url`, so the password never shows on a command line."""
    url = make_url(database_url)
    env = dict(os.environ)
    for var, value in (
        ("PGHOST", url.host or url.query.get("host")),
        ("PGPORT", str(url.port) if url.port else None),
        ("PGUSER", url.username),
        ("PGPASSWORD", url.password),
        ("PGDATABASE", url.database),
    ):
        if isinstance(value, tuple):
            value = value[0]
        if value:
            env[var] = str(value)
    return env


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    proc = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603 (fixed argv)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise DatabaseToolError(f"{what} failed: " + " ".join(tail))


def dump_postgres(database_url: str, target: Path) -> None:
    _run(
        [_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", "--file", str(target)],
        _pg_env(database_url),
        "pg_dump",
    )


# Drops every table, view and sequence of the target's schema; runs in the restore's transaction.
CLEAR_SQL = """DO $$DECLARE r record; BEGIN
FOR r IN SELECT n.nspname, c.relname, c.relkind FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') LOOP
  EXECUTE format('DROP %s IF EXISTS %I.%I CASCADE', CASE r.relkind WHEN 'v' THEN 'VIEW'
    WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE'
    ELSE 'TABLE' END, r.nspname, r.relname);
END LOOP; END$$;"""


def restore_postgres(database_url: str, dump: Path, scratch: Path) -> None:
    """Replace the target database's tables with `dump`'s, in ONE transaction: the dump is turned
    into SQL first (`pg_restore --file`), then `psql --single-transaction` clears the old tables
    and runs it; any failure rolls back to the database as it was."""
    env = _pg_env(database_url)
    script = scratch / "restore.sql"
    try:
        _run(
            [_pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--file", str(script), str(dump)],
            env,
            "pg_restore",
        )
        _run(
            [
                _pg_tool("psql"),
                "--no-psqlrc",
                "--quiet",
                "--single-transaction",
                "--set",
                "ON_ERROR_STOP=1",
                "--command",
                CLEAR_SQL,
                "--file",
                str(script),
            ],
            env,
            "psql",
        )
    finally:
        script.unlink(missing_ok=True)


def user_count(database_url: str) -> int:
    """How many accounts the installation's database holds (0 when it or the table is missing)."""
    if database_url.startswith("sqlite"):
        path = sqlite_path(database_url)
        if not path.exists():
            return 0
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)) as conn:
            has = conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='users'").fetchone()
            return int(conn.execute("SELECT count(*) FROM users").fetchone()[0]) if has else 0
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("users"):
                return 0
            return int(conn.execute(sa.text("SELECT count(*) FROM users")).scalar() or 0)
    finally:
        engine.dispose()


def alembic_revision(database_url: str) -> str | None:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("alembic_version"):
                return None
            value = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
            return str(value) if value else None
    finally:
        engine.dispose()
