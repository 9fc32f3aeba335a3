"""Density: many bots in pools on this machine.

Creates N bots (default 200) for one owner; with the default pool capacity of 50 they share 4
gateways. Reports the time until all are running, total RSS (every gateway process tree plus
this ClawNet process), RSS again after a sample of bots answered one message, and status-update
latency while they run: stopping and starting bots (a hot config patch each) until the bus
reports the new status, and `status` round trips to each gateway.

    .venv/bin/python bench/fleet_density.py [--bots 200] [--turns 20] [--toggles 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import time

import psutil
from _fleet import bench_fleet, describe

from clawnet.enums import BotStatus
from clawnet.events import Kind


def tree_rss(pid: int) -> int:
    try:
        main = psutil.Process(pid)
        return sum(p.memory_info().rss for p in [main, *main.children(recursive=True)])
    except psutil.Error:
        return 0


def fleet_rss(fleet) -> tuple[int, int]:
    gateways = sum(tree_rss(p.pid) for p in fleet.controller.supervisor.processes.values())
    return gateways, psutil.Process(os.getpid()).memory_info().rss


async def main(count: int, turns: int, toggles: int) -> None:
    async with bench_fleet() as fleet:
        with fleet.controller.bus.subscribe([Kind.BOT_STATUS], maxsize=100_000) as statuses:
            started = time.perf_counter()
            ids = [
                await fleet.service.create_bot(fleet.admin, fleet.bot(f"Density {n:03d}"))
                for n in range(count)
            ]
            created = time.perf_counter() - started
            running: set[int] = set()
            while len(running) < count:
                event = await statuses.get(timeout=900)
                if event.payload["status"] == BotStatus.RUNNING.value:
                    running.add(event.bot_id)
                elif event.payload["status"] == BotStatus.ERROR.value:
                    raise RuntimeError(f"bot {event.bot_id} failed: {event.payload}")
            all_up = time.perf_counter() - started
        gateways = len(fleet.controller.supervisor.processes)
        print(
            f"{count} bots created in {created:.1f} s; all running after {all_up:.1f} s on {gateways} gateways",
            flush=True,
        )
        await asyncio.sleep(10)
        gw_rss, own_rss = fleet_rss(fleet)
        print(
            f"idle RSS: gateways {gw_rss / 2**30:.2f} GiB + ClawNet {own_rss / 2**20:.0f} MiB = "
            f"{(gw_rss + own_rss) / 2**30:.2f} GiB",
            flush=True,
        )

        sample = random.sample(ids, min(turns, count))
        turn_times = []
        for bot_id in sample:
            t0 = time.perf_counter()
            turn = await fleet.service.chat(fleet.admin, bot_id, "REPLY WITH: ok")
            assert await turn.result(600) == "ok"
            turn_times.append(time.perf_counter() - t0)
        gw_rss, own_rss = fleet_rss(fleet)
        print(
            describe(
                f"chat turn on a {count}-bot fleet (first turn of each bot)", turn_times, unit="s", scale=1.0
            )
        )
        print(f"RSS after {len(sample)} bots answered: {(gw_rss + own_rss) / 2**30:.2f} GiB", flush=True)

        toggle_latencies = []
        for bot_id in random.sample(ids, min(toggles, count)):
            for running_wanted, status in ((False, BotStatus.STOPPED), (True, BotStatus.RUNNING)):
                with fleet.controller.bus.subscribe([Kind.BOT_STATUS], bot_ids=[bot_id]) as events:
                    t0 = time.perf_counter()
                    await fleet.service.set_running(fleet.admin, bot_id, running_wanted)
                    while (await events.get(timeout=120)).payload["status"] != status.value:
                        pass
                    toggle_latencies.append(time.perf_counter() - t0)
        print(describe("stop/start a bot -> new status on the bus (hot patch)", toggle_latencies))

        rtts = []
        for _ in range(10):
            for link in fleet.controller.links.all():
                t0 = time.perf_counter()
                await link.client.call("status", {})
                rtts.append(time.perf_counter() - t0)
        print(describe("`status` round trip to a gateway while all bots run", rtts))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bots", type=int, default=200)
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--toggles", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.bots, args.turns, args.toggles))
