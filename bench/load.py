"""Load: 200 bots in pooled gateways and 200 live clients for 10 minutes, with chat turns and posts.

Starts ClawNet (production build) with N bots, opens C protocol-level clients (the app's own event
WebSocket, as browsers use it): half on the public feed, half on the dashboard. Then, for the
duration, people post through the feed composer and chat with random bots through the bot page.
Checked at the end: every post in the database and counted by every feed client, every chat
answered with its own text, no error shown to anyone, no traceback in the server log. Printed:
throughput, p50/p95 latencies, and memory (ClawNet and gateways) over time.

    .venv/bin/python bench/load.py [--bots 200] [--clients 200] [--minutes 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _fleet import describe
from dashboard import create_bots, wait_all_running

from tests.e2e.helpers import server_db
from tests.support.reflex_client import ReflexClient, handler_name
from tests.support.server import start_clawnet

PEOPLE = 20


def make_people(server, count: int) -> tuple[str, list[str]]:
    """An admin cookie and `count` members' cookies (sessions made in the database)."""
    from clawnet.accounts import registration, sign_in
    from clawnet.enums import Role

    cookies = []
    with server_db(server) as s:
        for n in range(count + 1):
            user = registration.register(
                s,
                email=f"p{n}@example.com",
                display_name=f"Person {n}",
                password="load-password-1",
                handle=f"p{n}",
            )
            if n == 0:
                user.role = Role.ADMIN.value
            s.add(user)
            s.flush()
            issued = sign_in.redeem_login_ticket(s, sign_in.issue_login_ticket(s, user))
            cookies.append(f"clawnet_session={issued.token}")
    return cookies[0], cookies[1:]


def tree_rss(pid: int) -> float:
    try:
        root = psutil.Process(pid)
        return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)]) / 2**20
    except psutil.Error:
        return 0.0


def new_count(update: dict) -> int | None:
    for substate, fields in (update.get("delta") or {}).items():
        if "feed_state" in substate and "new_count_rx_state_" in fields:
            return int(fields["new_count_rx_state_"] or 0)
    return None


def errors_in(update: dict) -> list[str]:
    text = json.dumps(update.get("events") or [])
    return [text[:200]] if ("toast" in text and '"error"' in text) or "An error occurred" in text else []


async def run(
    server, admin: str, members: list[str], bot_ids: list[int], clients: int, minutes: float
) -> None:
    from clawnet.ui.pages.bot_detail import BotDetailState
    from clawnet.ui.pages.dashboard import DashboardState
    from clawnet.ui.pages.feed import FeedState
    from clawnet.ui.session import SessionState

    feed_clients: list[ReflexClient] = []
    dash_clients: list[ReflexClient] = []
    for n in range(clients):
        on_feed = n % 2 == 0
        # Feed readers are anonymous visitors of the public timeline (a signed-in reader would not
        # count their own posts as new); dashboards belong to the admin.
        client = ReflexClient(server.url, "" if on_feed else admin)
        await client.connect()
        if on_feed:
            await client.call(handler_name(SessionState, "load"), {}, path="/feed", settle_s=0.02)
            await client.call(
                handler_name(FeedState, "on_load"), {}, path="/feed?timeline=public", settle_s=0.05
            )
            feed_clients.append(client)
        else:
            await client.call(handler_name(DashboardState, "on_load"), {}, path="/", settle_s=0.05)
            dash_clients.append(client)
    print(f"{len(feed_clients)} feed clients and {len(dash_clients)} dashboards open", flush=True)
    await asyncio.sleep(3)
    for client in feed_clients + dash_clients:
        client.updates.clear()

    posters = [ReflexClient(server.url, cookie) for cookie in members]
    chatters = [ReflexClient(server.url, admin) for _ in range(4)]
    for c in posters + chatters:
        await c.connect()
    # Posters open no live feed of their own: the first update after a post is its answer.

    posted: list[str] = []
    post_lat: list[float] = []
    chat_lat: list[float] = []
    chat_failures: list[str] = []
    rss: list[tuple[float, float, float]] = []
    started = time.monotonic()
    deadline = started + minutes * 60
    gateway_pids: list[int] = []

    def gateways() -> list[int]:
        from sqlmodel import select

        from clawnet.models import Gateway

        with server_db(server) as s:
            return [g for g in s.exec(select(Gateway.pid)).all() if g]

    async def post_loop(n: int) -> None:
        while time.monotonic() < deadline:
            text = f"load post {n}-{len(posted)}-{random.randrange(10**6)}"
            poster = posters[n]
            while not poster._inbox.empty():
                poster._inbox.get_nowait()
            t0 = time.perf_counter()
            await poster.call(
                handler_name(FeedState, "submit"),
                {"form": {"text": text, "visibility": "public"}},
                path="/feed",
                settle_s=0.0,
            )
            await asyncio.wait_for(poster._inbox.get(), 30)  # the composer's answer
            posted.append(text)
            post_lat.append(time.perf_counter() - t0)
            await asyncio.sleep(random.uniform(4, 8))

    async def chat_loop(n: int) -> None:
        chatter = chatters[n]
        while time.monotonic() < deadline:
            bot = random.choice(bot_ids)
            word = f"w{random.randrange(10**9)}"
            await chatter.call(handler_name(BotDetailState, "on_load"), {}, path=f"/bots/{bot}", settle_s=0.3)
            chatter.updates.clear()
            t0 = time.perf_counter()
            await chatter.call(
                handler_name(BotDetailState, "send_chat"),
                {"form": {"message": f"REPLY WITH: {word}"}},
                path=f"/bots/{bot}",
                settle_s=0.0,
            )
            answered = False
            while time.perf_counter() - t0 < 120:
                if word in json.dumps(
                    [u.get("delta") for u in chatter.updates if "chat_reply_rx_state_" in json.dumps(u)]
                ):
                    answered = True
                    break
                await asyncio.sleep(0.05)
            if answered:
                chat_lat.append(time.perf_counter() - t0)
            else:
                chat_failures.append(f"bot {bot}: no answer to {word}")

    async def sample_memory() -> None:
        while time.monotonic() < deadline:
            gateway_pids[:] = await asyncio.to_thread(gateways)  # a restarted gateway has a new PID
            gateways_mib = sum(tree_rss(p) for p in gateway_pids)
            # Gateways are the server's children: ClawNet's own share is the rest of its tree.
            rss.append(
                (time.monotonic() - started, tree_rss(server.process.pid) - gateways_mib, gateways_mib)
            )
            print(
                f"t={rss[-1][0]:5.0f}s posts {len(posted)} chats {len(chat_lat)} "
                f"ClawNet {rss[-1][1]:.0f} MiB gateways {rss[-1][2] / 1024:.2f} GiB",
                flush=True,
            )
            await asyncio.sleep(30)

    gateway_pids = await asyncio.to_thread(gateways)
    await asyncio.gather(
        *(post_loop(n) for n in range(len(posters))),
        *(chat_loop(n) for n in range(len(chatters))),
        sample_memory(),
    )
    await asyncio.sleep(5)  # the last fan-out

    elapsed = time.monotonic() - started
    with server_db(server) as s:
        from sqlmodel import col, select

        from clawnet.models import Post

        stored = set(
            s.exec(select(Post.content_text).where(col(Post.content_text).like("load post %"))).all()
        )
    lost_posts = [p for p in posted if p not in stored]
    short = []
    for client in feed_clients:
        counts = [c for u in client.updates if (c := new_count(u)) is not None]
        if (max(counts) if counts else 0) < len(posted):
            short.append(max(counts) if counts else 0)
    shown_errors = [
        e for c in feed_clients + dash_clients + posters + chatters for u in c.updates for e in errors_in(u)
    ]
    tracebacks = server.log_path.read_text(errors="replace").count("Traceback")

    print(f"\nran {elapsed / 60:.1f} min with {len(bot_ids)} bots and {clients} live clients")
    print(
        f"posts: {len(posted)} ({len(posted) / elapsed:.2f}/s), lost {len(lost_posts)}; feed clients that missed any: {len(short)}"
    )
    print(describe("post submitted -> the poster's page updated", post_lat))
    print(
        f"chats: {len(chat_lat)} answered ({len(chat_lat) / elapsed:.2f}/s), unanswered {len(chat_failures)}"
    )
    print(describe("chat sent -> reply on the client", chat_lat, unit="s", scale=1.0))
    print(f"errors shown to clients: {len(shown_errors)}; tracebacks in the server log: {tracebacks}")
    print(
        "memory (t s, ClawNet MiB, gateways GiB): "
        + ", ".join(f"({t:.0f}, {a:.0f}, {b / 1024:.2f})" for t, a, b in rss)
    )
    if chat_failures[:3] or shown_errors[:3]:
        print("examples:", chat_failures[:3], shown_errors[:3])
    for c in feed_clients + dash_clients + posters + chatters:
        await c.close()


def main(bots: int, clients: int, minutes: float) -> None:
    # Rate limits off: four chatters as one admin would hit the chat limit; this measures load.
    server = start_clawnet(Path(tempfile.mkdtemp(prefix="clawnet-load-")), {"CLAWNET_RATE_LIMITS": "off"})
    try:
        admin, members = make_people(server, PEOPLE)
        t0 = time.monotonic()
        bot_ids = create_bots(server, bots)
        took = wait_all_running(server, bots)
        print(f"{bots} bots running after {time.monotonic() - t0:.0f} s (waited {took:.0f} s)", flush=True)
        asyncio.run(run(server, admin, members, bot_ids, clients, minutes))
    finally:
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bots", type=int, default=200)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--minutes", type=float, default=10.0)
    args = parser.parse_args()
    main(args.bots, args.clients, args.minutes)
