"""Gateway state that names the old machine's folders.

OpenClaw keys a gateway's scheduled jobs (and their run receipts and scratch) by the path of its
cron store, `<state dir>/cron/jobs.json`, an absolute path. Restored into another data folder,
the jobs would sit under the old machine's key, unseen: the gateway would start with none (ClawNet
writes its own schedules again, with new ids and no history; jobs made outside ClawNet would be
lost). So the restore moves them to the new key.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

CRON_TABLES = ("cron_jobs", "cron_run_receipts", "cron_job_scratch")


def rehome_cron_store(state_dir: Path) -> int:
    """Move the jobs of an old cron store key to this state folder's own; returns rows moved."""
    database = state_dir / "state" / "openclaw.sqlite"
    if not database.is_file():
        return 0
    new_key = str(state_dir / "cron" / "jobs.json")
    moved = 0
    with contextlib.closing(sqlite3.connect(database)) as conn, conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        for table in CRON_TABLES:
            if table not in tables:
                continue
            cursor = conn.execute(
                f"UPDATE OR IGNORE {table} SET store_key = ? "  # noqa: S608 (a fixed table name)
                "WHERE store_key <> ? AND store_key LIKE '%/cron/jobs.json'",
                (new_key, new_key),
            )
            moved += cursor.rowcount
    return moved
