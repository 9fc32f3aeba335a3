"""The delivery queue and the hosts it talks to (health, admin block)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from clawnet.db import run_in_session
from clawnet.errors import UserError
from clawnet.events import EventBus
from clawnet.humanize import ago
from clawnet.models import utcnow
from clawnet.models.federation import Delivery, FederationHost
from clawnet.security.permissions import Action, Principal, require
from clawnet.settings import Settings
from clawnet.social.federation import delivery

T = TypeVar("T")
MAX_REASON = 500


@dataclass(frozen=True)
class HostView:
    """One server this instance talks to, as the admin panel shows it."""

    host: str
    state: str  # ok | failing | dead | blocked
    pending: int
    delivered: int
    dead: int
    failures: int
    last_error: str
    last_success: str  # "3 minutes ago", or "" when never
    block_reason: str


@dataclass(frozen=True)
class FederationStatus:
    enabled: bool
    host: str


def _state(row: FederationHost | None) -> str:
    if row is None:
        return "ok"
    if row.blocked:
        return "blocked"
    if row.dead_at is not None:
        return "dead"
    return "failing" if row.failures else "ok"


def _clean_host(host: str) -> str:
    host = (host or "").strip().lower()
    if not host or len(host) > 255 or any(c in host for c in " /@?#"):
        raise UserError("Enter a host name, such as mastodon.social.")
    return host


class FederationSending:
    def __init__(self, settings: Settings, bus: EventBus) -> None:
        self.settings = settings
        self.bus = bus

    async def _sending_db(self, fn: Callable[[Session], T]) -> T:
        return await run_in_session(fn, self.settings.database_url)

    def status(self) -> FederationStatus:
        return FederationStatus(self.settings.federation_enabled, self.settings.federation_host)

    async def hosts(self, actor: Principal | None) -> list[HostView]:
        """Every host with deliveries or a record (admins only), the troubled ones first."""

        def read(session: Session) -> list[HostView]:
            require(session, actor, Action.MODERATE_SOCIAL)
            counts: dict[str, dict[str, int]] = {}
            for host, state, n in session.exec(
                select(Delivery.host, Delivery.state, func.count()).group_by(
                    col(Delivery.host), col(Delivery.state)
                )
            ).all():
                counts.setdefault(host, {})[state] = n
            rows = {r.host: r for r in session.exec(select(FederationHost)).all()}
            views = []
            for host in sorted(set(counts) | set(rows)):
                row, c = rows.get(host), counts.get(host, {})
                views.append(
                    HostView(
                        host=host,
                        state=_state(row),
                        pending=c.get("pending", 0),
                        delivered=c.get("done", 0),
                        dead=c.get("dead", 0),
                        failures=row.failures if row else 0,
                        last_error=row.last_error if row else "",
                        last_success=ago(row.last_success_at) if row and row.last_success_at else "",
                        block_reason=row.block_reason if row else "",
                    )
                )
            order = {"dead": 0, "failing": 1, "blocked": 2, "ok": 3}
            return sorted(views, key=lambda v: (order[v.state], v.host))

        return await self._sending_db(read)

    async def block_host(self, actor: Principal | None, host: str, reason: str = "") -> None:
        """Block a server: its queued deliveries are dropped, nothing more is sent to it, and its
        accounts' posts leave every timeline (moderation hides them at query time)."""
        host = _clean_host(host)
        reason = " ".join((reason or "").split())
        if len(reason) > MAX_REASON:
            raise UserError(f"Keep the reason under {MAX_REASON} characters.")

        def write(session: Session) -> None:
            require(session, actor, Action.MODERATE_SOCIAL)
            if host == self.settings.federation_host.lower():
                raise UserError("This is this instance's own host.")
            row = session.exec(select(FederationHost).where(FederationHost.host == host)).first()
            row = row or FederationHost(host=host)
            row.blocked, row.block_reason = True, reason
            session.add(row)
            session.exec(
                sa.update(Delivery)
                .where(col(Delivery.host) == host, col(Delivery.state) == "pending")
                .values(state="dead", last_error=delivery.BLOCKED)
            )

        await self._sending_db(write)

    async def unblock_host(self, actor: Principal | None, host: str) -> None:
        host = _clean_host(host)

        def write(session: Session) -> None:
            require(session, actor, Action.MODERATE_SOCIAL)
            row = session.exec(select(FederationHost).where(FederationHost.host == host)).first()
            if row is not None:
                row.blocked, row.block_reason = False, ""
                session.add(row)

        await self._sending_db(write)

    async def retry_host(self, actor: Principal | None, host: str) -> int:
        """A dead host is given another chance: its dead mark cleared, its deliveries that gave
        up (not those it refused, nor those dropped by a block) pending again now, each with a
        fresh 48 hours. Returns how many."""
        host = _clean_host(host)

        def write(session: Session) -> int:
            require(session, actor, Action.MODERATE_SOCIAL)
            row = session.exec(select(FederationHost).where(FederationHost.host == host)).first()
            if row is not None and row.blocked:
                raise UserError("Unblock the host first.")
            if row is not None:
                row.dead_at, row.first_failure_at, row.failures = None, None, 0
                session.add(row)
            now = utcnow()
            revived = session.exec(
                sa.update(Delivery)
                .where(
                    col(Delivery.host) == host,
                    sa.or_(
                        col(Delivery.state) == "pending",
                        sa.and_(
                            col(Delivery.state) == "dead",
                            sa.or_(
                                col(Delivery.last_error) == "gave up",
                                ~col(Delivery.last_error).startswith("HTTP 4"),
                            ),
                            col(Delivery.last_error) != delivery.BLOCKED,
                            ~col(Delivery.last_error).startswith("refused address"),
                        ),
                    ),
                )
                .values(state="pending", next_attempt_at=now, created_at=now)
            )
            return int(revived.rowcount or 0)

        count = await self._sending_db(write)
        delivery.wake()
        return count
