"""Mentions of remote accounts (`@user@host`) in what people write here.

Before a post, comment or edit is written, the addresses it names that this instance does not know
yet are looked up (WebFinger, then the actor document) and stored as remote profiles, so the
rendering links them like local handles and the Note tags and addresses them. The lookups run on
the event loop before the write's transaction, bounded (at most `MAX_LOOKUPS` addresses, all within
`TOTAL_S` seconds), and fail softly: an address that cannot be found stays plain text and the
write goes on. Nothing is looked up when federation is off for the instance or for the author,
for an author who may not write, or on a server an admin blocked.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from clawnet.db import run_in_session
from clawnet.errors import UserError
from clawnet.models import Profile
from clawnet.security.sanitize import remote_addresses
from clawnet.settings import Settings
from clawnet.social.federation import remote
from clawnet.social.federation.inbox_base import blocked
from clawnet.social.federation.outgoing import sends

log = logging.getLogger(__name__)

MAX_LOOKUPS = 5
TOTAL_S = 10.0


def profiles(session: Session, handles: Iterable[str]) -> list[Profile]:
    """The profiles (local or remote) with these handles, in the order given."""
    wanted = list(dict.fromkeys(handles))
    if not wanted:
        return []
    found = {p.handle: p for p in session.exec(select(Profile).where(col(Profile.handle).in_(wanted))).all()}
    return [found[h] for h in wanted if h in found]


async def _fetch(settings: Settings, address: str) -> dict[str, Any]:
    return await remote.fetch_actor(settings, await remote.lookup(settings, address))


def _store(session: Session, settings: Settings, address: str, doc: dict[str, Any]) -> bool:
    """Store one fetched actor (in a savepoint: a refused or concurrent one spoils no other)."""
    try:
        with session.begin_nested():
            return remote.store_actor(session, settings, doc).handle == address
    except (remote.RemoteError, IntegrityError) as exc:
        log.info("mention of %s not stored: %s", address, exc)
        return False


async def learn(settings: Settings, text: str, author: Callable[[Session], Profile | None]) -> list[str]:
    """Look up and store the remote accounts `text` mentions that are not known here yet, when
    the instance and the author (`author(session)`; None or a `UserError` when there is none)
    federate. Returns the addresses now known that were not before; never raises for an address
    that fails (it stays plain text)."""
    if not settings.federation_enabled:
        return []
    typed = remote_addresses(text, settings.federation_host)[:MAX_LOOKUPS]
    if not typed:
        return []

    def unknown(session: Session) -> list[str]:
        try:
            if not sends(settings, author(session)):
                return []
        except UserError:  # no author, or one who may not write: the write itself will say so
            return []
        known = set(session.exec(select(Profile.handle).where(col(Profile.handle).in_(typed))).all())
        return [a for a in typed if a not in known and blocked(session, {a.split("@", 1)[1]}) is None]

    todo = await run_in_session(unknown, settings.database_url)
    if not todo:
        return []
    tasks = {asyncio.ensure_future(_fetch(settings, a)): a for a in todo}
    try:
        done, pending = await asyncio.wait(tasks, timeout=TOTAL_S)
    finally:
        for task in tasks:
            task.cancel()  # a no-op for those done; the rest ran out of time (or we were cancelled)
    if pending:
        log.info("mentions of %s: no answer within %s s", sorted(tasks[t] for t in pending), TOTAL_S)
        await asyncio.wait(pending)
    fetched: list[tuple[str, dict[str, Any]]] = []
    for task in done:
        if task.exception() is not None:
            log.info("mention of %s not found: %s", tasks[task], task.exception())
        else:
            fetched.append((tasks[task], task.result()))
    if not fetched:
        return []
    stored = await run_in_session(
        lambda s: [a for a, doc in fetched if _store(s, settings, a, doc)], settings.database_url
    )
    return stored
