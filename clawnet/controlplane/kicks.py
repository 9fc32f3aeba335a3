"""Kicks across processes, with or without Redis: a process that changed the desired state but
does not run the control plane (another web worker, or any of them when the control plane is
`clawnet controller`) writes a new value into one row; the controller polls that row and
reconciles at once.

One small upsert per change and one indexed read per poll: cheap on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable

from sqlmodel import Session

from clawnet.controlplane.db_runner import DbRunner
from clawnet.controlplane.tasks import TaskSet
from clawnet.db import session_scope
from clawnet.events import EventBus, Kind
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


KICK_POLL_S = 0.5  # how often a controller in its own process looks for kicks from web workers


async def listen_for_kicks(bus: EventBus, db: DbRunner, kick: Callable[[], None], tasks: TaskSet) -> None:
    """Call `kick()` whenever a process asks for a reconcile: on the bus (`fleet.kick`, which
    crosses processes over Redis) or through the database flag (no Redis needed)."""
    tasks.spawn(_poll_database_kicks(db, kick), "fleet-db-kicks")
    with bus.subscribe([Kind.FLEET_KICK]) as kicks:
        async for _ in kicks:
            kick()


async def _poll_database_kicks(db: DbRunner, kick: Callable[[], None]) -> None:
    seen = await db.run(read_kick)
    while True:
        await asyncio.sleep(KICK_POLL_S)
        try:
            current = await db.run(read_kick)
        except Exception as exc:  # a locked or unavailable database: try again next time
            log.debug("reading the kick flag failed: %s", exc)
            continue
        if current != seen:
            seen = current
            kick()
