"""Density: many bots in pools on this machine.

Creates N bots (default 200) for one owner; with the default pool capacity of 100 they share 2
gateways. Reports the time until all are running, total RSS (every gateway process tree plus
this ClawNet process), RSS again after a sample of bots answered one message, and status-update
latency while they run: stopping and starting bots (a hot config patch each) until the bus
reports the new status, and `status` round trips to each gateway. `--turns all` gives every bot
one conversation; `--concurrency` turns run at once; `--pool-capacity` sets the agents per pooled
gateway (CLAWNET_POOL_CAPACITY); `--batch N` creates the bots N at a time, each batch running
before the next. The load average is printed with each figure.

    .venv/bin/python bench/fleet_density.py [--bots 200] [--turns 20|all] [--concurrency 1]
        [--toggles 20] [--pool-capacity 100] [--batch 0]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import time

import psutil
from _fleet import bench_fleet, describe, toggle, tree_rss

from clawnet.enums import BotStatus
from clawnet.events import Kind


def fleet_rss(fleet) -> tuple[int, int]:
    gateways = sum(tree_rss(p.pid) for p in fleet.controller.supervisor.processes.values())
    return gateways, psutil.Process(os.getpid()).memory_info().rss


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


async def run_turns(fleet, sample: list[int], concurrency: int) -> tuple[list[float], list[str]]:
    """One turn for each bot of `sample`, `concurrency` at once: (latencies, failures)."""
    gate = asyncio.Semaphore(concurrency)
    times: list[float] = []
    failures: list[str] = []
    started = time.perf_counter()

    async def one(bot_id: int) -> None:
        async with gate:
            if psutil.virtual_memory().available < 1.5 * 2**30:
                raise RuntimeError("memory nearly exhausted: stopping the turns")
            t0 = time.perf_counter()
            try:
                turn = await fleet.service.chat(fleet.admin, bot_id, "REPLY WITH: ok")
                answer = await turn.result(600)
                if answer != "ok":
                    raise RuntimeError(f"answered {answer!r}")
            except Exception as exc:  # counted and reported, the other turns go on
                failures.append(f"bot {bot_id}: {type(exc).__name__}: {exc}")
                return
            times.append(time.perf_counter() - t0)
            done = len(times) + len(failures)
            if done % 100 == 0:
                print(
                    f"  {done}/{len(sample)} turns after {time.perf_counter() - started:.0f} s "
                    f"({len(failures)} failed), {psutil.virtual_memory().available / 2**30:.1f} GiB "
                    f"available, {load()}",
                    flush=True,
                )

    await asyncio.gather(*(one(b) for b in sample))
    return times, failures


async def main(
    count: int, turns: int | None, toggles: int, concurrency: int, pool_capacity: int, batch: int
) -> None:
    async with bench_fleet(pool_capacity=pool_capacity) as fleet:
        with fleet.controller.bus.subscribe([Kind.BOT_STATUS], maxsize=100_000) as statuses:
            started = time.perf_counter()
            ids: list[int] = []
            running: set[int] = set()
            creating = 0.0
            for first in range(0, count, batch):  # each batch running before the next is created
                t0 = time.perf_counter()
                new = [
                    await fleet.service.create_bot(fleet.admin, fleet.bot(f"Density {n:03d}"))
                    for n in range(first, min(first + batch, count))
                ]
                creating += time.perf_counter() - t0
                ids += new
                while not running >= set(ids):
                    event = await statuses.get(timeout=900)
                    if event.payload["status"] == BotStatus.RUNNING.value:
                        running.add(event.bot_id)
                    elif event.payload["status"] == BotStatus.ERROR.value:
                        raise RuntimeError(
                            f"bot {event.bot_id} failed {time.perf_counter() - started:.0f} s in, "
                            f"{len(ids)} bots created, {len(running)} running: {event.payload}"
                        )
                if batch < count:
                    print(
                        f"  {len(ids)} bots running after {time.perf_counter() - started:.1f} s "
                        f"(this batch {time.perf_counter() - t0:.1f} s); {load()}",
                        flush=True,
                    )
            created = creating
            all_up = time.perf_counter() - started
        gateways = len(fleet.controller.supervisor.processes)
        print(
            f"{count} bots created in {created:.1f} s; all running after {all_up:.1f} s on {gateways} gateways "
            f"(pool capacity {pool_capacity}); {load()}",
            flush=True,
        )
        pids = {gid: proc.pid for gid, proc in fleet.controller.supervisor.processes.items()}
        await asyncio.sleep(10)
        gw_rss, own_rss = fleet_rss(fleet)
        print(
            f"idle RSS: gateways {gw_rss / 2**30:.2f} GiB + ClawNet {own_rss / 2**20:.0f} MiB = "
            f"{(gw_rss + own_rss) / 2**30:.2f} GiB; {load()}",
            flush=True,
        )

        # in random order: the turns in flight spread over the gateways
        sample = random.sample(ids, count if turns is None else min(turns, count))
        started = time.perf_counter()
        turn_times, failures = await run_turns(fleet, sample, concurrency)
        took = time.perf_counter() - started
        gw_rss, own_rss = fleet_rss(fleet)
        print(
            describe(
                f"chat turn on a {count}-bot fleet (first turn of each bot, {concurrency} at once)",
                turn_times,
                unit="s",
                scale=1.0,
            )
        )
        print(
            f"{len(turn_times)} of {len(sample)} bots answered in {took:.0f} s, {len(failures)} failed; {load()}",
            flush=True,
        )
        for failure in failures[:10]:
            print(f"  failed: {failure}", flush=True)
        now = {gid: proc.pid for gid, proc in fleet.controller.supervisor.processes.items()}
        restarted = sorted(gid for gid, pid in pids.items() if now.get(gid) != pid)
        print(
            f"gateways restarted during the turns: {restarted or 'none'}; tree RSS per gateway (GiB): "
            + ", ".join(f"{gid}: {tree_rss(pid) / 2**30:.2f}" for gid, pid in sorted(now.items())),
            flush=True,
        )
        print(
            f"RSS after {len(turn_times)} bots answered: gateways {gw_rss / 2**30:.2f} GiB + ClawNet "
            f"{own_rss / 2**20:.0f} MiB = {(gw_rss + own_rss) / 2**30:.2f} GiB",
            flush=True,
        )

        toggle_latencies = []
        for bot_id in random.sample(ids, min(toggles, count)):
            toggle_latencies += await toggle(fleet, bot_id)
        print(describe("stop/start a bot -> new status on the bus (hot patch)", toggle_latencies), load())

        rtts = []
        for _ in range(10):
            for link in fleet.controller.links.all():
                t0 = time.perf_counter()
                await link.client.call("status", {})
                rtts.append(time.perf_counter() - t0)
        print(describe("`status` round trip to a gateway while all bots run", rtts), load(), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bots", type=int, default=200)
    parser.add_argument("--turns", default="20", help="bots that get one turn, or `all`")
    parser.add_argument("--concurrency", type=int, default=1, help="turns in flight at once")
    parser.add_argument("--toggles", type=int, default=20)
    parser.add_argument("--pool-capacity", type=int, default=100, help="agents per pooled gateway")
    parser.add_argument(
        "--batch",
        type=int,
        default=0,
        help="create bots N at a time, each batch running first (0: all at once)",
    )
    args = parser.parse_args()
    turns = None if args.turns == "all" else int(args.turns)
    batch = args.batch or args.bots
    asyncio.run(main(args.bots, turns, args.toggles, args.concurrency, args.pool_capacity, batch))
