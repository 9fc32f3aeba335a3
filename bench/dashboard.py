"""The dashboard with a big fleet, in a real Chromium against a real ClawNet.

Starts ClawNet (production build) with N bots (default 200, in pooled gateways), then measures:
- first load: navigation until the first page of bot cards (48) is on the page, and beside it
  the plain way, a page with every bot at once (the /bots list);
- next/previous page, the status filter and a typed search: the server answers with the new
  page of cards and it renders (timed inside the page);
- live update latency: "Stop"/"Start" clicked on a card until the card shows the new status
  (this includes the hot config patch on the gateway);
- backend memory with 50 open dashboards (protocol-level clients running the real page handlers,
  each with its live watcher), and the same live latency while they are connected.

    .venv/bin/python bench/dashboard.py [--bots 200] [--dashboards 50] [--samples 30] [--pool-capacity 100] [--batch 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _fleet import describe, tree_rss
from playwright.sync_api import sync_playwright

from tests.e2e.helpers import register, server_db, session_cookie
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.support.reflex_client import ReflexClient, handler_name
from tests.support.server import gateway_pids, start_clawnet

# The server filters, searches and pages: an answer is on screen when the pager's text (or the
# "no match" callout) says what was asked for.
INFO = "[data-testid=dashboard-page-info]"
WAIT_FOR_JS = """(done) => new Promise((resolve) => {
  if (done()) { resolve(); return; }
  const obs = new MutationObserver(() => { if (done()) { obs.disconnect(); resolve(); } });
  obs.observe(document.body, {subtree: true, childList: true, characterData: true});
})"""
CLICK_JS = (
    """async ([value, total]) => {
  const select = document.querySelector('[data-testid=dashboard-status-filter]');
  const info = () => document.querySelector('"""
    + INFO
    + """')?.textContent || '';
  const done = () => value === 'all' ? info().includes(`of ${total} ·`)
    : (document.querySelector('[data-testid=dashboard-no-match]') !== null || info().includes(` of `) && !info().includes(`of ${total} ·`));
  const t0 = performance.now();
  select.value = value;
  select.dispatchEvent(new Event('change', {bubbles: true}));
  await ("""
    + WAIT_FOR_JS
    + """)(done);
  return performance.now() - t0;
}"""
)
# Typing is debounced by Reflex (about 300 ms after the last key) before it is sent: this figure
# includes that wait on purpose, it is what a person typing sees.
SEARCH_JS = (
    """async ([q, want]) => {
  const input = document.querySelector('[data-testid=dashboard-search]');
  const done = () => (document.querySelector('"""
    + INFO
    + """')?.textContent || '').includes(want);
  const t0 = performance.now();
  const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
  setter.call(input, q);
  input.dispatchEvent(new Event('input', {bubbles: true}));
  await ("""
    + WAIT_FOR_JS
    + """)(done);
  return performance.now() - t0;
}"""
)
PAGE_JS = (
    """async ([testid, want]) => {
  const done = () => (document.querySelector('"""
    + INFO
    + """')?.textContent || '').includes(want);
  const t0 = performance.now();
  document.querySelector(`[data-testid=${testid}]`).click();
  await ("""
    + WAIT_FOR_JS
    + """)(done);
  return performance.now() - t0;
}"""
)

STATUS_JS = """async ([id, want]) => {
  const el = document.querySelector(`[data-testid=bot-card-status-${id}]`);
  const t0 = performance.now();
  document.querySelector(`[data-testid=bot-${want === 'Stopped' ? 'stop' : 'start'}-${id}]`).click();
  const shown = await new Promise((resolve) => {
    const check = () => { if (el.textContent === want) { obs.disconnect(); resolve(true); } };
    const obs = new MutationObserver(check);
    obs.observe(el, {subtree: true, childList: true, characterData: true});
    setTimeout(() => { obs.disconnect(); resolve(false); }, 60000);
  });
  return shown ? [performance.now() - t0, Date.now()] : [-1, el.textContent];
}"""


def recorded_at(server, bot_id: int, status: str) -> float:
    """When ClawNet recorded the bot's latest change to `status` (epoch seconds): the moment the
    status changed, published to every dashboard in the same step."""
    from sqlmodel import col, select

    from clawnet.models import BotStatusChange

    with server_db(server) as s:
        at = s.exec(
            select(BotStatusChange.at)
            .where(BotStatusChange.bot_id == bot_id, BotStatusChange.status == status)
            .order_by(col(BotStatusChange.id).desc())
        ).first()
    assert at is not None, (bot_id, status)
    return at.timestamp()


def backend_rss(server) -> int:
    """RSS of ClawNet's own processes (not the gateways, which are a separate figure)."""
    total = 0
    root = psutil.Process(server.process.pid)
    for p in [root, *root.children(recursive=True)]:
        try:
            name = " ".join(p.cmdline())
            if "openclaw" not in name and "node" not in p.name() and "bun" not in p.name():
                total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


async def create_bots(server, count: int, batch: int) -> list[int]:
    os.environ["CLAWNET_DATA_DIR"] = str(server.data_dir)
    from sqlmodel import select

    from clawnet import db
    from clawnet.bots.forms import BotInput
    from clawnet.bots.service import BotsService
    from clawnet.events import EventBus
    from clawnet.models import ModelProvider, User
    from clawnet.security import crypto
    from clawnet.security.permissions import Principal
    from clawnet.settings import get_settings

    get_settings.cache_clear()
    db.dispose_engines()
    crypto.set_key_ring(None)
    with server_db(server) as s:
        admin = Principal.of(s.exec(select(User)).first())
        provider_id = s.exec(select(ModelProvider.id)).first()
    service = BotsService(get_settings(), EventBus())
    ids: list[int] = []
    # In batches, each running before the next: one config change adding hundreds of agents to
    # a gateway takes OpenClaw longer than ClawNet waits for it (bench/fleet_density.py --batch).
    for n in range(count):
        ids.append(
            await service.create_bot(
                admin, BotInput(name=f"Density {n:03d}", provider_id=provider_id, model_id="echo-1")
            )
        )
        if len(ids) % batch == 0 or len(ids) == count:
            await asyncio.to_thread(wait_all_running, server, len(ids))
    return ids


def gateways_rss(server) -> tuple[int, int]:
    """How many gateways of this ClawNet run, and their process trees' RSS."""
    pids = gateway_pids(server.data_dir)
    return len(pids), sum(tree_rss(pid) for pid in pids)


def wait_all_running(server, count: int, timeout: float = 900) -> float:
    from sqlmodel import func, select

    from clawnet.models import Bot

    started = time.monotonic()
    while time.monotonic() - started < timeout:
        with server_db(server) as s:
            running = s.exec(
                select(func.count()).select_from(Bot).where(Bot.actual_status == "running")
            ).one()
        if running >= count:
            return time.monotonic() - started
        time.sleep(1)
    raise TimeoutError("bots did not all start")


class Dashboards:
    """N dashboards held open by protocol-level clients, each in its own event loop thread."""

    def __init__(self, url: str, cookie: str, count: int) -> None:
        self.url, self.cookie, self.count = url, cookie, count
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.clients: list[ReflexClient] = []

    def open(self) -> None:
        from clawnet.ui.pages.dashboard import DashboardState
        from clawnet.ui.session import SessionState

        self.thread.start()

        async def open_all() -> None:
            for _ in range(self.count):
                client = ReflexClient(self.url, self.cookie)
                await client.connect()
                await client.call(handler_name(SessionState, "require_fleet"), {}, settle_s=0.05)
                await client.call(handler_name(DashboardState, "on_load"), {}, settle_s=0.3)
                self.clients.append(client)

        asyncio.run_coroutine_threadsafe(open_all(), self.loop).result(600)

    def close(self) -> None:
        async def close_all() -> None:
            for client in self.clients:
                await client.close()

        asyncio.run_coroutine_threadsafe(close_all(), self.loop).result(60)
        self.loop.call_soon_threadsafe(self.loop.stop)


PER_PAGE = 48  # clawnet.bots.views.CARDS_PER_PAGE


def main(bots: int, dashboards: int, samples: int, pool_capacity: int, batch: int) -> None:
    # Benchmarks measure latency, not the limits (20 starts/stops a minute per person would refuse
    # the clicks of the second round).
    env = {"CLAWNET_POOL_CAPACITY": str(pool_capacity), "CLAWNET_RATE_LIMITS": "off"}
    server = start_clawnet(Path(tempfile.mkdtemp(prefix="clawnet-dash-bench-")), env)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
            page.set_default_timeout(120_000)
            register(page, server.url, "bench@example.com", "Bench", "bench", "bench-password-1")
            page.get_by_test_id("dashboard-page").wait_for()
            cookie = session_cookie(page)
            # Playwright's sync API holds this thread's event loop: the service runs in another.
            with ThreadPoolExecutor(1) as pool:
                t0 = time.perf_counter()
                ids = pool.submit(asyncio.run, create_bots(server, bots, batch)).result()
            count, rss = gateways_rss(server)
            print(
                f"{bots} bots created and running after {time.perf_counter() - t0:.1f} s on {count} gateways "
                f"(pool capacity {pool_capacity}), gateways' RSS {rss / 2**30:.2f} GiB; "
                f"load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
            rss_idle = backend_rss(server)
            shown = min(bots, PER_PAGE)

            loads = []
            for _ in range(samples):
                t0 = time.perf_counter()
                page.goto(server.url + "/")
                page.wait_for_function(
                    f"document.querySelectorAll('[data-testid^=bot-card-status-]').length === {shown}"
                    f" && (document.querySelector('{INFO}')?.textContent || '').includes('of {bots} ·')"
                )
                loads.append(time.perf_counter() - t0)
            print(describe(f"first load of the dashboard ({shown} of {bots} bot cards)", loads), flush=True)
            # The plain way, same run: every bot at once (the Bots list renders all of them).
            every = []
            for _ in range(max(3, samples // 6)):
                t0 = time.perf_counter()
                page.goto(server.url + "/bots")
                page.wait_for_function(
                    f"document.querySelectorAll('[data-testid^=bots-row-link-]').length === {bots}"
                )
                every.append(time.perf_counter() - t0)
            print(describe(f"comparison: a page with all {bots} bots (/bots list)", every), flush=True)
            page.goto(server.url + "/")
            page.wait_for_function(
                f"(document.querySelector('{INFO}')?.textContent || '').includes('of {bots} ·')"
            )

            if bots > PER_PAGE:
                flips = []
                for _ in range(samples // 2):
                    flips.append(page.evaluate(PAGE_JS, ["dashboard-page-next", "page 2 of"]) / 1000)
                    flips.append(page.evaluate(PAGE_JS, ["dashboard-page-previous", "page 1 of"]) / 1000)
                print(describe("next / previous page -> new cards on screen", flips), flush=True)
            clicks = []
            for _ in range(samples):
                clicks.append(page.evaluate(CLICK_JS, ["stopped", bots]) / 1000)
                clicks.append(page.evaluate(CLICK_JS, ["all", bots]) / 1000)
            print(describe("click -> state update -> on screen (status filter)", clicks), flush=True)
            typed = []
            for n in range(samples // 3):
                typed.append(page.evaluate(SEARCH_JS, [f"density {n % bots:03d}", "of 1 ·"]) / 1000)
                typed.append(page.evaluate(SEARCH_JS, ["", f"of {bots} ·"]) / 1000)
            print(
                describe("typed search -> on screen (includes Reflex's ~300 ms input debounce)", typed),
                flush=True,
            )
            on_page = ids[:shown]  # names "Density 000".. sort like their creation order

            def status_latencies(label: str) -> None:
                clicked, pushed = [], []
                for bot_id in random.sample(on_page, min(samples // 2, shown)):
                    for want in ("Stopped", "Running"):
                        took, shown_at = page.evaluate(STATUS_JS, [bot_id, want])
                        if took < 0:  # counted, not waited for forever
                            print(
                                f"  bot {bot_id}: not {want} after 60 s, the card says {shown_at!r}",
                                flush=True,
                            )
                            continue
                        clicked.append(took / 1000)
                        pushed.append(shown_at / 1000 - recorded_at(server, bot_id, want.lower()))
                print(describe(label, clicked), flush=True)
                print(describe("  of which: status changed in ClawNet -> on the card", pushed), flush=True)

            status_latencies("live update: Stop/Start clicked -> card shows the new status")
            held = Dashboards(server.url, cookie, dashboards)
            held.open()
            time.sleep(5)
            rss_open = backend_rss(server)
            print(
                f"backend RSS: {rss_idle / 2**20:.0f} MiB before, {rss_open / 2**20:.0f} MiB with {dashboards} more "
                f"open dashboards ({(rss_open - rss_idle) / dashboards / 2**20:.1f} MiB each)",
                flush=True,
            )
            status_latencies(f"live update with {dashboards} other dashboards open")
            clicks = [
                page.evaluate(CLICK_JS, [value, bots]) / 1000
                for _ in range(samples // 2)
                for value in ("stopped", "all")
            ]
            print(describe(f"click round trip with {dashboards} other dashboards open", clicks), flush=True)
            print(f"load average at the end: {os.getloadavg()}", flush=True)
            held.close()
            browser.close()
    finally:
        server.stop(grace_s=60)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bots", type=int, default=200)
    parser.add_argument("--dashboards", type=int, default=50)
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--pool-capacity", type=int, default=100, help="agents per pooled gateway")
    parser.add_argument("--batch", type=int, default=50, help="bots created before waiting for them to run")
    args = parser.parse_args()
    main(args.bots, args.dashboards, args.samples, args.pool_capacity, args.batch)
