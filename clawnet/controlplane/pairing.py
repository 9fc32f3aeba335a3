"""Access requests (OpenClaw's DM pairing), on the control plane's side.

OpenClaw announces no event when a stranger asks for access, so `AccessRequestSync` polls
`channels.pairing.list` on every connected gateway that has a channel with DM policy "pairing"
(once a second, and at once when a gateway's log says "... pairing request", which Telegram
writes as it creates one). It keeps the `access_requests` table equal to what each gateway
answers and publishes `access.requests` for each bot whose requests changed, only then: pages
in any process read the table and follow the event (over Redis when scaled out).

What OpenClaw tells about a request: channel, account, the sender's id, its metadata (Telegram:
username, first and last name), when it was made and last seen, when it expires, and whether
the channel can notify the sender on approval. It keeps no copy of the message that triggered
the request (its ingress queue stores no payload for it), so neither does ClawNet.

Approved senders live in each gateway's pairing store (`channel_pairing_allow_entries` in the
state folder's `openclaw.sqlite`). No gateway method or CLI command removes one, so revoking a
sender deletes it from the stores of the gateways ClawNet runs here (`forget_paired_sender`);
ClawNet's own record of it is the channel's allow_from, which the generated config carries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, col, select

from clawnet.controlplane.db_runner import DbRunner
from clawnet.controlplane.gateway_api import PairingRequest
from clawnet.controlplane.links import GatewayLink, GatewayLinks
from clawnet.controlplane.protocol import GatewayError
from clawnet.controlplane.tasks import stop_loops
from clawnet.enums import DmPolicy, GatewayKind
from clawnet.events import EventBus, FleetEvent, Kind
from clawnet.models import AccessRequest, Bot, BotChannel, Gateway, utcnow
from clawnet.settings import Settings

log = logging.getLogger(__name__)

POLL_INTERVAL_S = 1.0
TARGETS_REFRESH_S = 5.0
LOG_TRIGGER = "pairing request"  # Telegram logs "telegram pairing request" as it creates one
POLL_WAIT_S = 2.0  # a gateway slower than this to answer does not hold up the others
RESOLVED_MEMORY_S = 30.0  # a decided request a poll already under way saw is not shown again


def sender_name(metadata: dict[str, str]) -> str:
    """A readable name from OpenClaw's request metadata ("Mallory Smith (@mallory)")."""
    full = " ".join(p for p in (metadata.get("firstName", ""), metadata.get("lastName", "")) if p)
    full = full or metadata.get("name", "") or metadata.get("displayName", "")
    handle = metadata.get("username", "") or metadata.get("handle", "")
    if handle:
        handle = handle if handle.startswith("@") else "@" + handle
        return f"{full} ({handle})" if full else handle
    return full


def parse_time(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return utcnow()
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Observed:
    """A pending request and the bot it belongs to."""

    bot_id: int
    request: PairingRequest

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.request.channel, self.request.account_id, self.request.request_id)


def store_requests(session: Session, gateway_id: int, observed: list[Observed]) -> dict[int, int]:
    """Make the gateway's rows equal to `observed`; {bot id: its pending count} for each bot
    whose rows changed."""
    rows = session.exec(select(AccessRequest).where(AccessRequest.gateway_id == gateway_id)).all()
    existing = {(r.channel, r.account_id, r.request_id): r for r in rows}
    wanted = {o.key: o for o in observed}
    changed: set[int] = set()
    for key, gone in existing.items():
        if key not in wanted:
            changed.add(gone.bot_id)
            session.delete(gone)
    for key, o in wanted.items():
        r = o.request
        found = existing.get(key)
        last_seen = parse_time(r.last_seen_at)
        if found is not None and found.last_seen_at == last_seen and found.bot_id == o.bot_id:
            continue
        row = found or AccessRequest(
            gateway_id=gateway_id,
            bot_id=o.bot_id,
            channel=r.channel,
            account_id=r.account_id,
            request_id=r.request_id,
            sender_id=r.sender_id,
            requested_at=parse_time(r.created_at),
            last_seen_at=last_seen,
            expires_at=parse_time(r.expires_at),
        )
        row.bot_id = o.bot_id
        row.sender_id = r.sender_id[:200]
        row.sender_name = sender_name(r.metadata)[:300]
        row.sender_details = dict(r.metadata)
        row.notify_supported = r.notify_supported
        row.last_seen_at = last_seen
        row.expires_at = parse_time(r.expires_at)
        session.add(row)
        changed.add(o.bot_id)
    session.flush()
    counts = {bot_id: 0 for bot_id in changed}
    for bot_id in session.exec(
        select(AccessRequest.bot_id).where(col(AccessRequest.bot_id).in_(changed))
    ).all():
        counts[bot_id] = counts.get(bot_id, 0) + 1
    return counts


def pairing_gateways(session: Session) -> set[int]:
    """Gateways hosting a bot with an enabled channel whose DM policy is "pairing", and those
    with requests on record (so that rows a policy change made stale get cleared)."""
    hosting = session.exec(
        select(Bot.gateway_id)
        .join(BotChannel, col(BotChannel.bot_id) == col(Bot.id))
        .where(BotChannel.dm_policy == DmPolicy.PAIRING.value, col(BotChannel.enabled).is_(True))
        .where(col(Bot.gateway_id).is_not(None))
    ).all()
    recorded = session.exec(select(AccessRequest.gateway_id).distinct()).all()
    return {g for g in hosting if g is not None} | set(recorded)


class AccessRequestSync:
    """Keeps `access_requests` equal to the gateways' pending pairing requests."""

    def __init__(
        self,
        settings: Settings,
        bus: EventBus,
        links: GatewayLinks,
        *,
        interval_s: float = POLL_INTERVAL_S,
    ) -> None:
        self.settings = settings
        self.bus = bus
        self.links = links
        self.interval_s = interval_s
        self.db = DbRunner(settings.database_url)  # its own thread: a request is never queued
        self._seen: dict[int, frozenset[tuple[str, str, str, str]]] = {}  # behind session sync
        self._targets: set[int] = set()
        self._targets_at = 0.0
        self._resolved: dict[tuple[int, str, str, str], float] = {}
        self._inflight: dict[int, asyncio.Task[None]] = {}
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="access-requests")

    async def stop(self) -> None:
        self._stopping = True
        await stop_loops([self._task, *self._inflight.values()])
        self.db.shutdown()

    def forget(self, gateway_id: int) -> None:
        """Poll this gateway as if for the first time (it reconnected, or its bots changed)."""
        self._seen.pop(gateway_id, None)

    async def _run(self) -> None:
        def wakes(e: FleetEvent) -> bool:
            if e.kind == Kind.GATEWAY_LOG:
                return LOG_TRIGGER in str(e.payload.get("message", "")).lower()
            if e.kind == Kind.ACCESS_REQUESTS:
                return bool(e.payload.get("resolved"))
            return True

        kinds = [Kind.GATEWAY_LOG, Kind.ACCESS_REQUESTS, Kind.FLEET_CHANGED, Kind.CONFIG_APPLIED]
        with self.bus.subscribe(kinds, where=wakes) as wake:
            while not self._stopping:
                try:
                    await self.poll_all()
                except Exception:
                    log.exception("polling access requests failed")
                with contextlib.suppress(TimeoutError):
                    self._note(await wake.get(timeout=self.interval_s))
                while (more := wake.get_nowait()) is not None:
                    self._note(more)

    def _note(self, event: FleetEvent) -> None:
        if event.kind == Kind.GATEWAY_LOG:
            return  # a request was just made: poll now
        if event.kind == Kind.ACCESS_REQUESTS:
            channel, account_id, request_id = [*event.payload["resolved"], "", "", ""][:3]
            now = asyncio.get_running_loop().time()
            self._resolved[(event.gateway_id or 0, str(channel), str(account_id), str(request_id))] = now
            self._resolved = {k: t for k, t in self._resolved.items() if now - t < RESOLVED_MEMORY_S}
            return
        self._targets_at = 0.0  # bots or configs changed: look again
        if event.gateway_id is not None:
            self.forget(event.gateway_id)

    async def poll_all(self) -> None:
        loop = asyncio.get_running_loop()
        if loop.time() - self._targets_at > TARGETS_REFRESH_S:
            self._targets = await self.db.run(pairing_gateways)
            self._targets_at = loop.time()
        polls = []
        for gateway_id in self._targets:
            task = self._inflight.get(gateway_id)
            if task is None or task.done():
                task = asyncio.create_task(self._poll_logged(gateway_id), name=f"access-poll-{gateway_id}")
                self._inflight[gateway_id] = task
            polls.append(task)
        if polls:
            await asyncio.wait(polls, timeout=POLL_WAIT_S)

    async def _poll_logged(self, gateway_id: int) -> None:
        try:
            await self.poll(gateway_id)
        except Exception:
            log.exception("polling access requests of gateway %s failed", gateway_id)

    async def poll(self, gateway_id: int) -> None:
        link = self.links.connected(gateway_id)
        if link is None:
            self._seen.pop(gateway_id, None)
            return
        try:
            requests = await link.api.pairing_requests()
        except GatewayError as exc:
            log.debug("gateway %s: channels.pairing.list failed: %s", gateway_id, exc)
            return
        observed = [o for o in self._observe(link, requests) if (gateway_id, *o.key) not in self._resolved]
        snapshot = frozenset((*o.key, o.request.last_seen_at) for o in observed)
        if self._seen.get(gateway_id) == snapshot:
            return
        counts = await self.db.run(lambda s: store_requests(s, gateway_id, observed))
        self._seen[gateway_id] = snapshot
        for bot_id, count in counts.items():
            self.bus.publish(Kind.ACCESS_REQUESTS, {"pending": count}, bot_id=bot_id, gateway_id=gateway_id)

    @staticmethod
    def _observe(link: GatewayLink, requests: Iterable[PairingRequest]) -> list[Observed]:
        out = []
        for r in requests:
            bot_id = link.bot_of(r.account_id)
            if bot_id is not None and r.request_id:
                out.append(Observed(bot_id, r))
        return out

    # --- approved senders -------------------------------------------------------------------

    async def forget_paired_sender(
        self, gateway_id: int | None, channel: str, account_id: str, sender: str
    ) -> str:
        """Remove `sender` from the pairing stores of the gateways ClawNet runs here. Returns
        what happened, in plain words, when something is left to say (else "")."""
        remote = False
        if gateway_id:
            kind = await self.db.run(lambda s: getattr(s.get(Gateway, gateway_id), "kind", ""))
            remote = kind == GatewayKind.REMOTE.value
        roots = sorted(self.settings.gateways_dir.glob("gw-*")) if self.settings.gateways_dir.exists() else []
        try:
            await asyncio.to_thread(_forget_everywhere, roots, channel, account_id, sender)
        except sqlite3.Error as exc:
            log.warning("removing %s/%s %s from pairing stores failed: %s", channel, account_id, sender, exc)
            return f"The gateway's pairing store could not be changed ({exc}); try again."
        if remote:
            return (
                "This bot's gateway runs elsewhere, and OpenClaw offers no way to remove an approved "
                "sender remotely: remove it there with OpenClaw's own tools."
            )
        return ""


def pairing_store(root: Path) -> Path:
    """A local gateway's pairing store: OpenClaw's state database in its state folder."""
    return root / "state" / "state" / "openclaw.sqlite"


def _forget_everywhere(roots: list[Path], channel: str, account_id: str, sender: str) -> int:
    removed = 0
    for root in roots:
        path = pairing_store(root)
        if path.exists():
            removed += forget_in_store(path, channel, account_id, sender)
    return removed


def forget_in_store(path: Path, channel: str, account_id: str, sender: str) -> int:
    """Delete one approved sender from an OpenClaw state database (OpenClaw reads the table on
    every message, so the next one from that sender is asked to pair again)."""
    with contextlib.closing(sqlite3.connect(path, timeout=10)) as conn:
        conn.execute("PRAGMA busy_timeout = 10000")
        try:
            cursor = conn.execute(
                "DELETE FROM channel_pairing_allow_entries WHERE channel_key = ? AND account_id = ? "
                "AND entry = ?",
                (channel.lower(), account_id.lower(), sender),
            )
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return 0
            raise
        conn.commit()
        return cursor.rowcount
