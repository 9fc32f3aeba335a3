"""Kicks across processes, with or without Redis: a process that changed the desired state but
does not run the control plane (another web worker, or any of them when the control plane is
`clawnet controller`) writes a new value into one row; the controller polls that row and
reconciles at once.

One small upsert per change and one indexed read per poll: cheap on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import logging
import uuid

from sqlmodel import Session

from clawnet.db import session_scope
from clawnet.models import SystemFlag, utcnow

log = logging.getLogger(__name__)

KICK_FLAG = "fleet.kick"


def write_kick(database_url: str | None = None) -> None:
    try:
        with session_scope(database_url) as session:
            flag = session.get(SystemFlag, KICK_FLAG) or SystemFlag(name=KICK_FLAG)
            flag.value, flag.set_at = uuid.uuid4().hex, utcnow()
            session.add(flag)
    except Exception:  # the change itself is saved; the periodic pass will pick it up
        log.warning(
            "could not signal the control plane; it will notice the change within 30 s", exc_info=True
        )


def read_kick(session: Session) -> str:
    flag = session.get(SystemFlag, KICK_FLAG)
    return flag.value if flag is not None else ""
