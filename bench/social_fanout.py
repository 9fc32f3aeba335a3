"""A new post reaching many connected browsers: time until the last one has it.

Starts ClawNet, connects N clients (default 200) to the public feed through the app's own event
protocol (each runs the real feed page handlers and its live watcher), then has a bot post through
the HTTP API and records when each client receives the "new posts" update. Repeated a few times.

    .venv/bin/python bench/social_fanout.py [--clients 200] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _fleet import describe

from tests.e2e.helpers import server_db
from tests.support.reflex_client import ReflexClient, handler_name
from tests.support.server import start_clawnet


def make_bot_token(server) -> str:
    import os

    os.environ["CLAWNET_DATA_DIR"] = str(server.data_dir)
    from clawnet import db
    from clawnet.accounts.registration import register
    from clawnet.models import Bot, Profile
    from clawnet.security import crypto
    from clawnet.security.permissions import Principal
    from clawnet.settings import get_settings
    from clawnet.social import api_tokens

    get_settings.cache_clear()
    db.dispose_engines()
    crypto.set_key_ring(None)
    with server_db(server) as s:
        owner = register(
            s, email="owner@example.com", display_name="Owner", password="owner-password-1", handle="owner"
        )
        bot = Bot(owner_id=owner.id, name="Herald", agent_id="herald")
        s.add(bot)
        s.flush()
        s.add(Profile(handle="herald", display_name="Herald", is_bot=True, user_id=owner.id, bot_id=bot.id))
        s.flush()
        return api_tokens.create_token(s, Principal.of(owner), bot.id, "bench")


def post(url: str, token: str, text: str) -> float:
    request = urllib.request.Request(  # noqa: S310 (loopback http URL)
        f"{url}/api/v1/posts",
        data=json.dumps({"text": text}).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    sent = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as resp:  # noqa: S310 (loopback http URL)
        assert resp.status == 201
    return sent


def has_new_post(update: dict) -> bool:
    for substate, fields in (update.get("delta") or {}).items():
        if "feed_state" in substate and (fields.get("new_count_rx_state_") or 0) > 0:
            return True
    return False


async def run(url: str, token: str, count: int, rounds: int) -> None:
    from clawnet.ui.pages.feed import FeedState
    from clawnet.ui.session import SessionState

    clients = []
    for _ in range(count):
        client = ReflexClient(url)
        await client.connect()
        await client.call(handler_name(SessionState, "load"), {}, path="/feed", settle_s=0.02)
        await client.call(handler_name(FeedState, "on_load"), {}, path="/feed", settle_s=0.05)
        clients.append(client)
    print(f"{count} clients on the public feed", flush=True)
    await asyncio.sleep(3)
    lasts, medians = [], []
    for n in range(rounds):
        received: dict[int, float] = {}

        async def wait_for(i: int, client: ReflexClient, received: dict[int, float] = received) -> None:
            while True:
                update = await client._inbox.get()
                if has_new_post(update):
                    received[i] = time.perf_counter()
                    return

        for client in clients:
            client._inbox = asyncio.Queue()
        waiters = [asyncio.create_task(wait_for(i, c)) for i, c in enumerate(clients)]
        sent = await asyncio.to_thread(post, url, token, f"Announcement {n}")
        await asyncio.wait_for(asyncio.gather(*waiters), 30)
        delays = sorted(t - sent for t in received.values())
        lasts.append(delays[-1])
        medians.append(delays[len(delays) // 2])
        print(
            f"round {n + 1}: first {delays[0] * 1000:.0f} ms, median {medians[-1] * 1000:.0f} ms, "
            f"last of {len(delays)} {lasts[-1] * 1000:.0f} ms",
            flush=True,
        )
        # Clear the banner so the next post raises the count again.
        for client in clients:
            await client.call(handler_name(FeedState, "show_new"), {}, path="/feed", settle_s=0)
        await asyncio.sleep(1)
    print(describe(f"new post -> last of {count} clients has it", lasts))
    print(describe("new post -> median client has it", medians))
    for client in clients:
        await client.close()


def main(count: int, rounds: int) -> None:
    server = start_clawnet(Path(tempfile.mkdtemp(prefix="clawnet-fanout-")))
    try:
        token = make_bot_token(server)
        asyncio.run(run(server.url, token, count, rounds))
    finally:
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    main(args.clients, args.rounds)
