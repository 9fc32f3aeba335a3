"""What a `/metrics` scrape returns, and who may scrape.

The database figures are read on a worker thread (`db.run_in_session`) in a few aggregate
queries and cached for `CACHE_S` seconds, so scrapes from several Prometheus servers (or a
scraper hammering the endpoint) cost one read per few seconds. The histograms are live.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Iterator

from prometheus_client import generate_latest
from prometheus_client.metrics_core import Metric
from sqlmodel import Session

from clawnet.db import run_in_session
from clawnet.metrics import fleet
from clawnet.metrics.instruments import REGISTRY
from clawnet.metrics.sources import sources

log = logging.getLogger(__name__)

CACHE_S = 5.0


def token_accepted(authorization: str | None, token: str) -> bool:
    """`Authorization: Bearer <token>` matches the configured scrape token (constant time). An
    empty configured token accepts nothing: the endpoint is off."""
    if not token or not authorization:
        return False
    scheme, _, given = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def _read(s: Session) -> list[Metric]:
    out = list(fleet.families(fleet.read_snapshot(s)))
    for name, source in sources():
        try:
            out.extend(source(s))
        except Exception:
            log.exception("metrics source %s failed; its figures are left out of this scrape", name)
    return out


class _Cached:
    """A collector replaying the families of the last database read."""

    def __init__(self) -> None:
        self.families: list[Metric] = []
        self.read_at = 0.0
        self.lock = asyncio.Lock()

    def collect(self) -> Iterator[Metric]:
        yield from self.families

    def describe(self) -> list[Metric]:
        return []  # unchecked: the families vary with what the hooks add


_cached = _Cached()
REGISTRY.register(_cached)


async def refresh(max_age_s: float = CACHE_S) -> None:
    async with _cached.lock:
        if time.monotonic() - _cached.read_at < max_age_s:
            return
        _cached.families = await run_in_session(_read)
        _cached.read_at = time.monotonic()


async def scrape_text(max_age_s: float = CACHE_S) -> bytes:
    """The exposition text (Prometheus text format 0.0.4)."""
    await refresh(max_age_s)
    return await asyncio.to_thread(generate_latest, REGISTRY)
