"""The persistent delivery queue's worker: POSTs each pending `Delivery`, signed as its sender.

Runs on the leader only (`runtime._lead`), so with several web workers each delivery is sent by
one process. Everything lives in the database: a restart (or a new leader) finds the pending
rows and carries on. A claimed row's `next_attempt_at` is pushed a lease ahead before it is
sent, so a leader that dies mid-send has it retried after the lease, not lost.

- 2xx: done; the host's failures reset (`last_success_at`).
- 4xx other than 408/429: a permanent refusal, the delivery is dead (`last_error` kept).
- anything else (5xx, timeouts, refused connections): retried after `backoff` (1 min, 5 min,
  30 min, 2 h, 6 h, 12 h, then every 12 h) until 48 h after it was queued, then dead.
- A host failing for more than 48 h is marked dead: its deliveries wait, not attempted, until an
  admin retries it (`retry_host`) or it is heard from (`mark_alive`, the inbox).
- A blocked host's deliveries are dropped (dead, "host blocked").
At most `per_host` requests to one host at once and `overall` in all.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

import certifi
import httpx
import sqlalchemy as sa
from sqlmodel import Session, col, select

from clawnet.aio import wait_for
from clawnet.controlplane.alert_delivery import webhook_url_problem
from clawnet.db import run_in_session
from clawnet.models import Profile, utcnow
from clawnet.models.federation import Delivery, FederationHost
from clawnet.settings import Settings
from clawnet.social.federation import keys, outgoing, signatures

log = logging.getLogger(__name__)
T = TypeVar("T")

BACKOFF_STEPS = (1, 5, 30, 120, 360, 720)  # times the first retry (settings.federation_retry_s)
BACKOFF: tuple[timedelta, ...] = tuple(timedelta(seconds=60 * s) for s in BACKOFF_STEPS)


def backoff_of(settings: Settings) -> tuple[timedelta, ...]:
    return tuple(timedelta(seconds=settings.federation_retry_s * s) for s in BACKOFF_STEPS)


GIVE_UP = timedelta(hours=48)
HOST_DEAD_AFTER = timedelta(hours=48)
LEASE = timedelta(minutes=5)
TIMEOUT_S = 15.0
PER_HOST = 4
OVERALL = 32
POLL_S = 2.0
BATCH_S = 0.01
MAX_POOLS = 512  # hosts with an open connection pool
SWEEP_S = 10.0  # how often blocked hosts' and expired deliveries are swept out
CONTENT_TYPE = "application/activity+json"
BLOCKED = "host blocked"
USER_AGENT = "ClawNet (ActivityPub)"

_current: DeliveryWorker | None = None


def wake() -> None:
    """Tell this process's running worker that something was queued (safe from any thread)."""
    worker = _current
    if worker is not None:
        worker.wake()


def wake_if_enqueued() -> None:
    """Called after a social write committed: wake the worker when the write queued deliveries."""
    if outgoing.enqueued.is_set():
        outgoing.enqueued.clear()
        wake()


@dataclass(frozen=True)
class _Job:
    id: int
    host: str
    inbox_url: str
    body: str
    sender_profile_id: int
    attempts: int
    created_at: datetime


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every host's pool (loading the CA bundle takes ~50 ms)."""
    return ssl.create_default_context(cafile=certifi.where())


def mark_alive(session: Session, host: str) -> None:
    """A host was heard from (a delivery or inbox contact succeeded): clear its failures and
    its dead mark."""
    row = session.exec(select(FederationHost).where(FederationHost.host == host)).first()
    if row is None:
        row = FederationHost(host=host)
    row.failures, row.first_failure_at, row.dead_at, row.last_error = 0, None, None, ""
    row.last_success_at = utcnow()
    session.add(row)


def revive(session: Session, host: str) -> None:
    """`mark_alive` for a host that failed or was given up on (one indexed read otherwise)."""
    row = session.exec(select(FederationHost).where(FederationHost.host == host)).first()
    if row is not None and (row.failures or row.dead_at is not None):
        mark_alive(session, host)


def _host_row(session: Session, host: str) -> FederationHost:
    row = session.exec(select(FederationHost).where(FederationHost.host == host)).first()
    if row is None:
        row = FederationHost(host=host)
        session.add(row)
    return row


class DeliveryWorker:
    def __init__(
        self,
        settings: Settings,
        *,
        backoff: Sequence[timedelta] = BACKOFF,
        per_host: int = PER_HOST,
        overall: int = OVERALL,
        poll_s: float = POLL_S,
        timeout_s: float = TIMEOUT_S,
        give_up: timedelta = GIVE_UP,
        host_dead_after: timedelta = HOST_DEAD_AFTER,
    ) -> None:
        self.settings = settings
        self.backoff = tuple(backoff)
        self.per_host = per_host
        self.overall = overall
        self.poll_s = poll_s
        self.timeout_s = timeout_s
        self.give_up = give_up
        self.host_dead_after = host_dead_after
        self._event = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._running: dict[int, asyncio.Task[None]] = {}
        self._per_host: dict[str, int] = {}
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._closing: set[asyncio.Future[None]] = set()
        self._stopping = False
        self._keys: dict[int, tuple[str, str]] = {}
        self._results: list[tuple[_Job, int | None, str]] = []
        self._last_sweep = -SWEEP_S
        self._key_lock = asyncio.Lock()

    # --- life cycle ------------------------------------------------------------------------------

    async def _db(self, fn: Callable[[Session], T]) -> T:
        return await run_in_session(fn, self.settings.database_url)

    def wake(self) -> None:
        loop = self._loop
        if loop is None:
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._event.set)

    def _http(self, host: str) -> httpx.AsyncClient:
        """One small connection pool per host (at most `per_host` connections, kept alive): a
        single pool over many hosts spends its time scanning its connections."""
        client = self._clients.pop(host, None)  # re-inserted last: the least recently used go first
        if client is None:
            if len(self._clients) >= MAX_POOLS:  # the oldest pool goes (closed when idle)
                oldest = next(iter(self._clients))
                old = self._clients.pop(oldest)
                self._closing.add(asyncio.ensure_future(old.aclose()))
            client = httpx.AsyncClient(
                verify=_tls(),
                timeout=self.timeout_s,
                follow_redirects=False,
                limits=httpx.Limits(max_connections=self.per_host, max_keepalive_connections=self.per_host),
                headers={"User-Agent": USER_AGENT},
            )
        self._clients[host] = client
        return client

    async def run(self) -> None:
        """Deliver until stopped: record finished sends and fill free slots with due rows (one
        transaction), then wait for a wake-up, a finished send, or the poll interval."""
        global _current
        self._loop = asyncio.get_running_loop()
        _current = self
        try:
            while not self._stopping:
                try:
                    await self.cycle()
                except Exception:  # the database away for a moment: try again at the next poll
                    log.exception("federation delivery: could not read the queue")
                self._event.clear()
                with contextlib.suppress(TimeoutError):
                    await wait_for(self._event.wait(), self.poll_s)
                await asyncio.sleep(BATCH_S)  # let more sends finish: one transaction for them all
        finally:
            if _current is self:
                _current = None

    async def stop(self) -> None:
        """Stop sending; sends cut short keep their lease and are retried after it."""
        self._stopping = True
        self._event.set()
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._results:
            with contextlib.suppress(Exception):
                await self.cycle(start=False)
        clients, self._clients = list(self._clients.values()), {}
        await asyncio.gather(*(c.aclose() for c in clients), *self._closing, return_exceptions=True)

    async def drain(self, timeout: float = 30.0) -> None:
        """Deliver every row due now and wait for those sends (tests, the bench)."""
        self._loop = asyncio.get_running_loop()
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            started = await self.cycle()
            if self._running:
                await asyncio.wait(list(self._running.values()), return_when=asyncio.FIRST_COMPLETED)
            elif not started and not self._results:
                return
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("deliveries still running")

    # --- picking due rows --------------------------------------------------------------------------

    async def cycle(self, *, start: bool = True) -> int:
        """Record the sends that finished and start sends for due rows within the limits, in one
        transaction; returns how many were started."""
        results, self._results = self._results, []
        free = self.overall - len(self._running) if start and not self._stopping else 0
        if not results and free <= 0:
            return 0
        now = asyncio.get_running_loop().time()
        sweep = now - self._last_sweep >= SWEEP_S
        if sweep:
            self._last_sweep = now
        busy_hosts = {h for h, n in self._per_host.items() if n >= self.per_host}
        in_flight, running = dict(self._per_host), list(self._running)

        def work(session: Session) -> list[_Job]:
            for job, status, error in results:
                self._record(session, job, status, error)
            if free <= 0:
                return []
            return self._claim(session, free, busy_hosts, in_flight, running, sweep)

        try:
            jobs = await self._db(work)
        except BaseException:
            self._results = results + self._results  # recorded next time
            raise
        for job in jobs:
            self._per_host[job.host] = self._per_host.get(job.host, 0) + 1
            task = asyncio.create_task(self._send(job), name=f"ap-delivery-{job.id}")
            self._running[job.id] = task
        return len(jobs)

    def _claim(
        self,
        session: Session,
        free: int,
        busy_hosts: set[str],
        in_flight: dict[str, int],
        running: list[int],
        sweep: bool = True,
    ) -> list[_Job]:
        now = utcnow()
        if sweep:
            self._drop_blocked_and_expired(session, now)
        held = select(FederationHost.host).where(
            sa.or_(col(FederationHost.blocked).is_(True), col(FederationHost.dead_at).is_not(None))
        )
        skip = set(session.exec(held).all()) | busy_hosts
        # Each host's first `per_host` due rows (a window per host), so one busy host never
        # starves the others of the batch.
        rank = (
            sa.func.row_number()
            .over(partition_by=Delivery.host, order_by=(col(Delivery.next_attempt_at), col(Delivery.id)))
            .label("rank")
        )
        due = select(col(Delivery.id), rank).where(
            Delivery.state == "pending",
            col(Delivery.next_attempt_at) <= now,
            col(Delivery.id).not_in(running) if running else sa.true(),
        )
        if skip:
            due = due.where(col(Delivery.host).not_in(skip))
        ranked = due.subquery()
        ids = session.exec(
            select(ranked.c.id).where(ranked.c.rank <= self.per_host).order_by(ranked.c.id).limit(free * 4)
        ).all()
        rows = (
            session.exec(select(Delivery).where(col(Delivery.id).in_(ids)).order_by(col(Delivery.id))).all()
            if ids
            else []
        )
        picked: list[_Job] = []
        counts = dict(in_flight)
        for row in rows:
            if len(picked) >= free:
                break
            if counts.get(row.host, 0) >= self.per_host:
                continue
            counts[row.host] = counts.get(row.host, 0) + 1
            assert row.id is not None
            row.next_attempt_at = now + LEASE  # claimed: another leader leaves it alone
            session.add(row)
            picked.append(
                _Job(
                    row.id,
                    row.host,
                    row.inbox_url,
                    row.body,
                    row.sender_profile_id,
                    row.attempts,
                    row.created_at,
                )
            )
        return picked

    def _drop_blocked_and_expired(self, session: Session, now: datetime) -> None:
        blocked = select(FederationHost.host).where(col(FederationHost.blocked).is_(True))
        session.exec(
            sa.update(Delivery)
            .where(col(Delivery.state) == "pending", col(Delivery.host).in_(blocked))
            .values(state="dead", last_error=BLOCKED)
        )
        session.exec(
            sa.update(Delivery)
            .where(col(Delivery.state) == "pending", col(Delivery.created_at) < now - self.give_up)
            .values(
                state="dead", last_error=sa.func.coalesce(sa.func.nullif(Delivery.last_error, ""), "gave up")
            )
        )

    # --- one send ----------------------------------------------------------------------------------

    async def _send(self, job: _Job) -> None:
        try:
            status, error = await self._post(job)
            self._results.append((job, status, error))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("federation delivery %s failed unexpectedly", job.id)
        finally:
            self._running.pop(job.id, None)
            left = self._per_host.get(job.host, 1) - 1
            if left > 0:
                self._per_host[job.host] = left
            else:
                self._per_host.pop(job.host, None)
            self._event.set()

    def _signing_key(self, session: Session, profile_id: int) -> tuple[str, str] | None:
        profile = session.get(Profile, profile_id)
        if profile is None:
            return None
        return keys.actor_key(session, self.settings, profile)

    async def _key(self, profile_id: int) -> tuple[str, str] | None:
        """The sender's (key id, private PEM), read once per worker (made on first use, by one
        send only: the others wait for it)."""
        if (cached := self._keys.get(profile_id)) is not None:
            return cached
        async with self._key_lock:
            if (cached := self._keys.get(profile_id)) is None:
                cached = await self._db(lambda s: self._signing_key(s, profile_id))
                if cached is not None:
                    self._keys[profile_id] = cached
            return cached

    async def _post(self, job: _Job) -> tuple[int | None, str]:
        """(HTTP status or None, error text)."""
        problem = await webhook_url_problem(
            job.inbox_url, allow_private=self.settings.federation_allow_private, unresolved_ok=True
        )
        if problem:  # an internal address (a name that does not resolve is retried: the POST fails)
            return 400, f"refused address: {problem}"  # permanent: never retried
        key = await self._key(job.sender_profile_id)
        if key is None:
            return 410, "the sender no longer exists"
        body = job.body.encode()
        headers = signatures.sign("POST", job.inbox_url, body, key[0], key[1], content_type=CONTENT_TYPE)
        headers["Accept"] = CONTENT_TYPE
        try:
            response = await self._http(job.host).post(job.inbox_url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"[:1000] or type(exc).__name__
        if 200 <= response.status_code < 300:
            return response.status_code, ""
        return response.status_code, f"HTTP {response.status_code}: {response.text[:300]}"

    def _record(self, session: Session, job: _Job, status: int | None, error: str) -> None:
        row = session.get(Delivery, job.id)
        if row is None or row.state != "pending":
            return
        now = utcnow()
        row.attempts += 1
        if status is not None and 200 <= status < 300:
            row.state, row.delivered_at, row.last_error = "done", now, ""
            mark_alive(session, job.host)
        elif status is not None and 400 <= status < 500 and status not in (408, 429):
            row.state, row.last_error = "dead", error[:1000]
        else:
            row.last_error = error[:1000]
            wait = self.backoff[min(row.attempts - 1, len(self.backoff) - 1)]
            created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=now.tzinfo)
            if now + wait > created + self.give_up:
                row.state = "dead"
            else:
                row.next_attempt_at = now + wait
            host = _host_row(session, job.host)
            host.failures += 1
            host.last_error = error[:1000]
            if host.first_failure_at is None:
                host.first_failure_at = now
            else:
                first = host.first_failure_at
                first = first if first.tzinfo else first.replace(tzinfo=now.tzinfo)
                if now - first > self.host_dead_after and host.dead_at is None:
                    host.dead_at = now
            session.add(host)
        session.add(row)
