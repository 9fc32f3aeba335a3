"""The session lists with many sessions and long transcripts.

Seeds a fresh installation (SQLite by default, or DATABASE_URL) with N sessions (default 10,000)
over 20 bots and M transcript messages (default 1,000,000), by bulk inserts, then times through
the service layer (`BotsService.session_page`, the call /sessions makes; permission check and
the one visibility rule included):
- /sessions' first page, for an admin (every bot) and for an operator (2 bots of 20);
- page 20 reached by cursor (keyset paging: as cheap as the first);
- filters: channel + activity window;
- search: a word in session fields only, a common word in message text, a rare one (every
  message is scanned), one that matches nothing;
- a transcript's newest page and a "load older" page deep in a 2,000-message session.
With `--http`, also one real page load of /sessions in Chromium against a ClawNet started on
the seeded data (until the first rows show).

    .venv/bin/python bench/sessions_scale.py [--sessions 10000] [--messages 1000000] [--samples 40] [--http]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from clawnet import db
from clawnet.bots.service import BotsService
from clawnet.bots.session_analytics import percentile
from clawnet.bots.session_views import SessionFilters
from clawnet.enums import DesiredStatus, Role
from clawnet.events import EventBus
from clawnet.models import Bot, BotSession, TranscriptMessage, utcnow
from clawnet.security.permissions import Principal
from clawnet.settings import get_settings
from tests.factories import make_user

WORDS = [
    "order",
    "refund",
    "pizza",
    "delivery",
    "invoice",
    "weather",
    "meeting",
    "report",
    "ticket",
    "password",
    "login",
    "error",
    "shipping",
    "address",
    "discount",
    "coupon",
    "schedule",
    "booking",
    "flight",
    "hotel",
    "payment",
    "card",
    "reset",
    "account",
]
ADMIN_EMAIL = "bench-admin@example.com"
CHANNELS = ["telegram", "discord", "slack", "whatsapp", ""]
KINDS = ["direct", "group", "channel"]


def seed(n_sessions: int, n_messages: int) -> tuple[Principal, Principal, int, int]:
    """Bulk-insert bots, sessions and messages; (admin, operator, a long session's id, its length)."""
    rng = random.Random(12)
    now = utcnow()
    with db.session_scope() as s:
        admin = make_user(s, Role.ADMIN, email=ADMIN_EMAIL)
        operator = make_user(s, Role.OPERATOR)
        bots = []
        for i in range(20):
            # Stopped: ClawNet started for --http places no gateway for them.
            bot = Bot(
                owner_id=(operator if i < 2 else admin).id,
                name=f"Bot {i:02d}",
                agent_id=f"bench{i}",
                desired_status=DesiredStatus.STOPPED.value,
            )
            s.add(bot)
            s.flush()
            bots.append(bot.id)
        principals = Principal.of(admin), Principal.of(operator)
    engine = db.get_engine()
    long_len = min(2000, n_messages // 2)
    per_session, extra = divmod(n_messages - long_len, max(1, n_sessions - 1))

    def length(n: int) -> int:  # messages of the n-th session: the total is exactly n_messages
        return long_len if n == 0 else per_session + (1 if n <= extra else 0)

    t0 = time.perf_counter()
    with engine.begin() as conn:
        rows = []
        for i in range(n_sessions):
            at = now - timedelta(minutes=rng.randint(0, 60 * 24 * 30))
            channel = rng.choice(CHANNELS)
            rows.append(
                {
                    "bot_id": bots[i % len(bots)],
                    "key": f"agent:bench{i % len(bots)}:{channel or 'main'}:direct:{i}",
                    "gateway_session_id": "",
                    "channel": channel,
                    "peer": str(100000 + i),
                    "kind": rng.choice(KINDS),
                    "status": "",
                    "message_count": length(i),
                    "input_tokens": 0,
                    "output_tokens": 0,
                    "total_tokens": 0,
                    "cost_usd": 0.0,
                    "model": "",
                    "preview": " ".join(rng.choices(WORDS, k=6)),
                    "last_message_at": at,
                    "activity_at": at,
                    "created_at": at,
                    "updated_at": at,
                }
            )
        conn.execute(sa.insert(BotSession), rows)
        ids = [r[0] for r in conn.execute(sa.text("SELECT id FROM bot_sessions ORDER BY id"))]
    print(f"seeded {n_sessions} sessions in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    batch: list[dict] = []
    total = 0

    def flush() -> None:
        with engine.begin() as conn:
            conn.execute(sa.insert(TranscriptMessage), batch)
        batch.clear()

    for n, sid in enumerate(ids):
        count = length(n)
        for seq in range(1, count + 1):
            text = " ".join(rng.choices(WORDS, k=8))
            if total % 250_000 == 7:
                text += " zanzibar"  # a rare word: 4 messages in 1M
            batch.append(
                {
                    "session_id": sid,
                    "seq": seq,
                    "role": "user" if seq % 2 else "assistant",
                    "text": text,
                    "external_id": "",
                    "model": "",
                    "input_tokens": 0,
                    "output_tokens": 0,
                    "cost_usd": 0.0,
                    "created_at": now,
                }
            )
            total += 1
            if len(batch) >= 50_000:
                flush()
    if batch:
        flush()
    print(f"seeded {total} messages in {time.perf_counter() - t0:.1f} s")
    return principals[0], principals[1], ids[0], long_len


async def timed(samples: int, fn) -> tuple[float, float, int]:
    times = []
    result = None
    for _ in range(samples):
        t0 = time.perf_counter()
        result = await fn()
        times.append((time.perf_counter() - t0) * 1000)
    rows = len(result.rows) if hasattr(result, "rows") else len(getattr(result, "lines", []))
    return percentile(times, 50), percentile(times, 95), rows


async def measure(admin: Principal, operator: Principal, long_id: int, samples: int) -> None:
    service = BotsService(get_settings(), EventBus())
    first = await service.session_page(admin, SessionFilters())
    cursor = first.next_cursor
    for _ in range(18):
        cursor = (await service.session_page(admin, SessionFilters(), cursor=cursor)).next_cursor
    cases = {
        "first page, admin (50 rows)": lambda: service.session_page(admin, SessionFilters()),
        "first page, operator (2 bots)": lambda: service.session_page(operator, SessionFilters()),
        "page 20 by cursor": lambda: service.session_page(admin, SessionFilters(), cursor=cursor),
        "filter channel+last day": lambda: service.session_page(
            admin, SessionFilters(channel="telegram", active="day")
        ),
        "search 'bench7:' (fields)": lambda: service.session_page(admin, SessionFilters(search="bench7:")),
        "search 'refund' (common)": lambda: service.session_page(admin, SessionFilters(search="refund")),
        "search 'zanzibar' (rare)": lambda: service.session_page(admin, SessionFilters(search="zanzibar")),
        "search, no match": lambda: service.session_page(admin, SessionFilters(search="qqqxyz")),
        "search 'zanzibar', operator": lambda: service.session_page(
            operator, SessionFilters(search="zanzibar")
        ),
        "transcript newest 100": lambda: service.transcript_page(admin, long_id),
        "transcript older (before 200)": lambda: service.transcript_page(admin, long_id, before_seq=200),
    }
    print(f"\n{'query':34} {'p50 ms':>8} {'p95 ms':>8} {'rows':>5}")
    for name, fn in cases.items():
        n = samples if "rare" not in name and "no match" not in name else max(5, samples // 4)
        p50, p95, rows = await timed(n, fn)
        print(f"{name:34} {p50:8.1f} {p95:8.1f} {rows:5d}")


def http_page_load(data_dir: Path) -> None:
    from playwright.sync_api import sync_playwright

    from tests.factories import PASSWORD
    from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
    from tests.support.server import start_clawnet

    server = start_clawnet(data_dir)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(server.url + "/login", timeout=180_000)
            page.get_by_label("Email").fill(ADMIN_EMAIL)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.get_by_test_id("dashboard-page").wait_for(timeout=180_000)
            page.goto(server.url + "/sessions")  # the first visit compiles nothing, but warms caches
            page.locator("[data-testid^=sessions-row-]").first.wait_for(timeout=180_000)
            times = []
            for _ in range(5):
                t0 = time.perf_counter()
                page.goto(server.url + "/sessions")
                page.locator("[data-testid^=sessions-row-]").first.wait_for(timeout=60_000)
                times.append((time.perf_counter() - t0) * 1000)
            print(
                f"\n/sessions page load in Chromium until the first row: p50 {percentile(times, 50):.0f} ms, "
                f"max {max(times):.0f} ms (5 loads)"
            )
            browser.close()
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--http", action="store_true")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="clawnet-sessions-bench-"))
    os.environ.setdefault("CLAWNET_DATA_DIR", str(data_dir))
    get_settings.cache_clear()
    db.migrate()
    admin, operator, long_id, _ = seed(args.sessions, args.messages)
    print(f"database: {get_settings().database_url.split('://')[0]}")
    asyncio.run(measure(admin, operator, long_id, args.samples))
    if args.http:
        http_page_load(Path(os.environ["CLAWNET_DATA_DIR"]))


if __name__ == "__main__":
    main()
