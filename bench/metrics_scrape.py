"""`/metrics` scrape time at 200 bots (no gateways started: the rows are seeded in a fresh SQLite
database, as a fleet of that size leaves them: gateways with metric samples, sessions, chat turns
and status changes).

Measures, through the real HTTP route (token check, DB snapshot off the event loop, rendering):
- cold scrapes (the database read every time: the figure for a scraper arriving after the cache
  expired), and
- cached scrapes (within the 5 s cache: histograms and cached families rendered).

    .venv/bin/python bench/metrics_scrape.py [--bots 200] [--samples 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TOKEN = "bench-scrape-token-0123456789"


def seed(n_bots: int) -> None:
    from clawnet import db
    from clawnet.enums import Role, TurnStatus
    from clawnet.models import BotSession, BotStatusChange, ChatTurn, Gateway, GatewayMetric, utcnow
    from tests.factories import make_bot, make_user

    now = utcnow()
    with db.session_scope() as s:
        owner = make_user(s, Role.ADMIN)
        gateways = []
        for g in range(max(1, n_bots // 50)):
            gw = Gateway(name=f"pool-{g}", token_enc="x", actual_status="running")
            s.add(gw)
            s.flush()
            gateways.append(gw.id)
            for k in range(200):  # a day of samples every ~7 minutes
                s.add(GatewayMetric(gateway_id=gw.id, at=now - timedelta(minutes=7 * k), rss_bytes=10**8))
        for i in range(n_bots):
            bot = make_bot(s, owner)
            bot.gateway_id = gateways[i % len(gateways)]
            bot.actual_status = "running"
            s.add(bot)
            s.flush()
            for k in range(5):
                s.add(
                    BotSession(bot_id=bot.id, key=f"s{k}", message_count=10, total_tokens=500, cost_usd=0.01)
                )
            for k in range(20):
                s.add(
                    ChatTurn(
                        bot_id=bot.id,
                        session_key="s0",
                        idempotency_key=f"{i}-{k}",
                        status=TurnStatus.DONE.value,
                    )
                )
            for k in range(10):
                s.add(
                    BotStatusChange(
                        bot_id=bot.id,
                        status="running" if k % 2 == 0 else "error",
                        at=now - timedelta(days=3 * k),
                    )
                )


async def measure(samples: int) -> tuple[list[float], list[float], int]:
    import httpx

    from clawnet.api import build_api, request_timer

    app = request_timer(build_api())
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    from clawnet.metrics import scrape

    cold, cached = [], []
    size = 0
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for _ in range(samples):
            scrape._cached.read_at = 0.0  # force the database read
            t0 = time.perf_counter()
            r = await client.get("/metrics", headers=headers)
            cold.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200, r.text
            size = len(r.content)
        for _ in range(samples):
            t0 = time.perf_counter()
            r = await client.get("/metrics", headers=headers)
            cached.append((time.perf_counter() - t0) * 1000)
    return cold, cached, size


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bots", type=int, default=200)
    parser.add_argument("--samples", type=int, default=50)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="clawnet-metrics-bench-"))
    os.environ["CLAWNET_DATA_DIR"] = str(data_dir)
    os.environ.pop("DATABASE_URL", None)
    os.environ["CLAWNET_METRICS_TOKEN"] = TOKEN
    try:
        from clawnet import db

        db.migrate()
        t0 = time.perf_counter()
        seed(args.bots)
        print(f"seeded {args.bots} bots in {time.perf_counter() - t0:.1f} s")
        cold, cached, size = asyncio.run(measure(args.samples))
        print(f"/metrics at {args.bots} bots: {size / 1024:.1f} KiB of text")
        print(f"  cold scrape (DB read):  p50 {statistics.median(cold):.1f} ms, p95 {p95(cold):.1f} ms")
        print(f"  cached scrape:          p50 {statistics.median(cached):.1f} ms, p95 {p95(cached):.1f} ms")
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
