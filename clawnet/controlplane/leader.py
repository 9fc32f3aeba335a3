"""The control plane runs exactly once per installation, however many web workers start it.

Whoever holds the controller lock runs it: an exclusive `flock` on a file in the data folder (all
workers of one machine share it) and, on PostgreSQL, a session advisory lock as well (workers on
several machines share the database). Both are released by the kernel or the database server when
the holder dies, so a `kill -9`'d leader is replaced by the next worker that tries.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from typing import Any

import sqlalchemy as sa

from clawnet.settings import Settings

log = logging.getLogger(__name__)

ADVISORY_KEY = 724002  # the migration lock is 724001


class ControllerLock:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._fd: int | None = None
        self._conn: Any = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        if self.held:
            return True
        path = self.settings.data_dir / "controller.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        if self.settings.database_url.startswith("postgresql"):
            from clawnet.db import get_engine

            conn = get_engine(self.settings.database_url).connect()
            got = conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)").bindparams(k=ADVISORY_KEY)).scalar()
            conn.commit()
            if not got:
                conn.close()
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
                return False
            self._conn = conn
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.execute(sa.text("SELECT pg_advisory_unlock(:k)").bindparams(k=ADVISORY_KEY))
                self._conn.commit()
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
        if self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
