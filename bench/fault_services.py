"""PostgreSQL and Redis outages under a scaled-out ClawNet (two web workers and the control plane
on real servers from Debian's packages, one running bot on the echo model).

Each round: a post (through a page's event handler) and a chat turn (asked for by a worker over
Redis) are made, then PostgreSQL is stopped for `--down` seconds and started again, then Redis.
Printed: the time from PostgreSQL back to `/healthz` answering 200 and to a page's post being
saved, and the messages lost across each outage (posts and chat turns made before that are
missing after; goal 0), and chats asked for during a Redis outage that were answered anyway.

    .venv/bin/python bench/fault_services.py [--rounds 3] [--down 5]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _fleet import describe

from clawnet.controlplane.chat import ChatError
from tests.faults.test_services_down import (
    Install,
    chat_turns,
    chat_via_worker,
    posts,
    scaled_out_install,
    submit_post,
    wait_until,
)
from tests.support.reflex_client import ReflexClient
from tests.support.server import http_get


async def post_and_wait(install: Install, text: str) -> float:
    """Seconds from a page's connection to its post being in the database."""
    from clawnet.ui.pages.feed import FeedState

    started = time.perf_counter()
    client = ReflexClient(install.server.url, install.cookie)
    await client.connect()
    try:
        await client.call(f"{FeedState.get_full_name()}.on_load", {}, path="/feed", settle_s=0.05)
        await client.call(
            f"{FeedState.get_full_name()}.submit",
            {"form": {"text": text, "visibility": "public"}},
            path="/feed",
            settle_s=0.05,
        )
        await asyncio.to_thread(wait_until, lambda: posts(text) == 1, 120, "never saved", 0.05)
        return time.perf_counter() - started
    finally:
        await client.close()


def healthy(install: Install) -> bool:
    return http_get(f"{install.server.url}/healthz", 10)[0] == 200


async def postgres_round(install: Install, n: int, down_s: float) -> tuple[float, float, int]:
    await submit_post(install, f"bench post {n} before")
    await chat_via_worker(install, f"REPLY WITH: bench chat {n} before")
    await asyncio.to_thread(wait_until, lambda: posts(f"bench post {n} before") == 1, 60, "not saved")
    install.pg.stop()
    await asyncio.sleep(down_s)
    install.pg.start()
    back = time.perf_counter()
    await asyncio.to_thread(wait_until, lambda: healthy(install), 120, "never healthy")
    health_s = time.perf_counter() - back
    await post_and_wait(install, f"bench post {n} after")
    post_s = time.perf_counter() - back
    lost = (posts(f"bench post {n} before") != 1) + (chat_turns(f"bench chat {n} before") != 1)
    return health_s, post_s, lost


async def redis_round(install: Install, n: int, down_s: float) -> tuple[int, int]:
    await chat_via_worker(install, f"REPLY WITH: bench redis chat {n} before")
    install.redis.stop()
    try:
        await chat_via_worker(install, f"REPLY WITH: bench redis chat {n} during", accept_timeout_s=6)
        answered_during = 1
    except ChatError:
        answered_during = 0
    await asyncio.sleep(max(0.0, down_s - 6))
    install.redis.start()
    for _ in range(10):
        try:
            await chat_via_worker(install, f"REPLY WITH: bench redis chat {n} after", accept_timeout_s=10)
            break
        except ChatError:
            continue
    lost = (chat_turns(f"bench redis chat {n} before") != 1) + (
        chat_turns(f"bench redis chat {n} after") != 1
    )
    late = chat_turns(f"bench redis chat {n} during") - answered_during  # answered after it failed
    return lost, late


async def main(rounds: int, down_s: float, install: Install) -> None:
    health, saved, lost_pg, lost_redis, late = [], [], 0, 0, 0
    for n in range(rounds):
        h, p, lost = await postgres_round(install, n, down_s)
        health.append(h)
        saved.append(p)
        lost_pg += lost
        lost, late_n = await redis_round(install, n, down_s)
        lost_redis += lost
        late += late_n
        print(f"round {n + 1}: PostgreSQL back -> healthy {h:.1f} s, post saved {p:.1f} s", flush=True)
    print(describe("PostgreSQL back -> /healthz 200", health, unit="s", scale=1.0))
    print(describe("PostgreSQL back -> a page's post saved", saved, unit="s", scale=1.0))
    print(
        f"messages lost across PostgreSQL outages: {lost_pg}; across Redis outages: {lost_redis}; "
        f"chats answered after being reported failed: {late}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--down", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="clawnet-bench-") as folder:
        for install in scaled_out_install(Path(folder) / "data"):
            asyncio.run(main(args.rounds, args.down, install))
