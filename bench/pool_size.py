"""Pool size: how many agents one OpenClaw gateway holds well.

Grows ONE pooled gateway in steps (every bot of one owner lands on it: the pool capacity is set
above the last step) and prints, at each step: agents, the time for the step's bots to run, the
gateway tree RSS idle and after every agent so far answered one turn (per-agent memory = slope
between steps), first-turn latency of the step's new agents, warm (second) turn latency over a
sample, `status` round trips idle and while 4 turns run (with OpenClaw's own event-loop figures
from `status`: `eventLoop.delayP99Ms` and `utilization`), `health` round trips during the first
turns (ClawNet's health probe gives up after 5 s), stop/start -> status on the bus (a hot config
patch each), and the load average. The growth stops early when the machine runs short of
memory or the gateway looks unhealthy.

In the same run, the other way: 3 bots with a dedicated gateway each, their tree RSS after one
turn, and how many such gateways fit in 16 GiB and in this machine's memory.

    .venv/bin/python bench/pool_size.py [--steps 25,50,100,200,300,400] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import time

import psutil
from _fleet import bench_fleet, describe, percentile, toggle, tree_rss

from clawnet.db import session_scope
from clawnet.enums import BotStatus, Placement
from clawnet.events import Kind
from clawnet.models import Bot

GiB = 2**30
MiB = 2**20
MIN_AVAILABLE = 3 * GiB  # stop growing below this much available memory


def gateway_of(bot_id: int) -> int:
    with session_scope() as s:
        bot = s.get(Bot, bot_id)
        assert bot is not None and bot.gateway_id is not None
        return bot.gateway_id


def p(values: list[float], pct: float, scale: float = 1.0) -> float:
    return percentile(values, pct) * scale if values else float("nan")


async def create_running(fleet, names: list[str], **kw) -> tuple[list[int], float]:
    """Create bots and wait until the bus reports every one RUNNING; (ids, seconds)."""
    with fleet.controller.bus.subscribe([Kind.BOT_STATUS], maxsize=100_000) as statuses:
        t0 = time.perf_counter()
        ids = [await fleet.service.create_bot(fleet.admin, fleet.bot(name, **kw)) for name in names]
        wanted, running = set(ids), set()
        while not wanted <= running:
            event = await statuses.get(timeout=900)
            if event.payload["status"] == BotStatus.RUNNING.value:
                running.add(event.bot_id)
            elif event.payload["status"] == BotStatus.ERROR.value and event.bot_id in wanted:
                raise RuntimeError(f"bot {event.bot_id} failed: {event.payload}")
        return ids, time.perf_counter() - t0


async def turn(fleet, bot_id: int) -> float:
    t0 = time.perf_counter()
    result = await fleet.service.chat(fleet.admin, bot_id, "REPLY WITH: ok")
    answer = await result.result(600)
    if answer != "ok":
        raise RuntimeError(f"bot {bot_id} answered {answer!r}")
    return time.perf_counter() - t0


async def turns(fleet, bot_ids: list[int], concurrency: int) -> list[float]:
    gate = asyncio.Semaphore(concurrency)

    async def one(bot_id: int) -> float:
        async with gate:
            return await turn(fleet, bot_id)

    return list(await asyncio.gather(*(one(b) for b in bot_ids)))


async def status_rtts(link, calls: int) -> tuple[list[float], list[dict]]:
    rtts, loops = [], []
    for _ in range(calls):
        t0 = time.perf_counter()
        payload = await link.client.call("status", {})
        rtts.append(time.perf_counter() - t0)
        if isinstance(payload, dict) and isinstance(payload.get("eventLoop"), dict):
            loops.append(payload["eventLoop"])
        await asyncio.sleep(0.05)
    return rtts, loops


async def status_under_load(fleet, link, bot_ids: list[int], calls: int) -> tuple[list, list, list]:
    """`status` round trips while 4 turns run at all times (warm turns on random agents)."""
    stop = asyncio.Event()
    loaded: list[float] = []

    async def keep_busy(mine: list[int]) -> None:
        while mine and not stop.is_set():  # its own agents: two turns never share a session
            loaded.append(await turn(fleet, random.choice(mine)))

    workers = [asyncio.create_task(keep_busy(bot_ids[k::4])) for k in range(4)]
    await asyncio.sleep(1.0)  # let the turns get going
    try:
        rtts, loops = await status_rtts(link, calls)
    finally:
        stop.set()
        await asyncio.gather(*workers)
    return rtts, loops, loaded


async def health_during(link, work):
    """Await `work` while calling `health` every 5 s (ClawNet's probe allows 5 s); (result, RTTs)."""
    rtts: list[float] = []
    done = asyncio.Event()

    async def probe() -> None:
        while not done.is_set():
            t0 = time.perf_counter()
            try:
                await link.client.call("health", {}, timeout=120)
            except Exception as exc:  # a timeout counts as its 120 s
                print(f"   health failed: {type(exc).__name__}: {exc}", flush=True)
            rtts.append(time.perf_counter() - t0)
            await asyncio.sleep(5)

    prober = asyncio.create_task(probe())
    try:
        return await work, rtts
    finally:
        done.set()
        await prober


def loop_figure(loops: list[dict]) -> str:
    delays = [float(x["delayP99Ms"]) for x in loops if isinstance(x.get("delayP99Ms"), int | float)]
    utils = [float(x["utilization"]) for x in loops if isinstance(x.get("utilization"), int | float)]
    if not delays and not utils:
        return "n/a"
    return f"{max(delays, default=float('nan')):.0f}ms/{max(utils, default=float('nan')):.2f}"


async def dedicated(fleet, count: int) -> None:
    ids, took = await create_running(
        fleet, [f"Dedicated {n}" for n in range(count)], placement=Placement.DEDICATED.value
    )
    latencies = [await turn(fleet, b) for b in ids]
    await asyncio.sleep(5)
    rss = []
    for bot_id in ids:
        proc = fleet.controller.supervisor.processes[gateway_of(bot_id)]
        rss.append(tree_rss(proc.pid))
    mean = sum(rss) / len(rss)
    total = psutil.virtual_memory().total
    print(
        f"one gateway per bot: {count} dedicated bots running in {took:.1f} s; first turn "
        f"{', '.join(f'{x:.1f}' for x in latencies)} s; tree RSS after one turn "
        f"{', '.join(f'{r / GiB:.2f}' for r in rss)} GiB (mean {mean / GiB:.2f}) -> "
        f"{int(16 * GiB // mean)} fit in 16 GiB, {int(total // mean)} in this machine's "
        f"{total / GiB:.1f} GiB (gateway memory alone); load {os.getloadavg()[0]:.2f}",
        flush=True,
    )


async def main(steps: list[int], concurrency: int, warm_sample: int, calls: int, toggles: int) -> None:
    # No warm spare: the only gateways are the pool and the dedicated ones measured here.
    os.environ["CLAWNET_WARM_SPARES"] = "0"
    async with bench_fleet(pool_capacity=max(steps) + 10) as fleet:
        print(
            f"machine: {psutil.cpu_count()} cores, {psutil.virtual_memory().total / GiB:.1f} GiB", flush=True
        )
        await dedicated(fleet, 3)

        header = (
            "agents | up s | idle RSS GiB | RSS after turns GiB | MiB/agent idle, used | first turn p50/p95 s | "
            "warm p50/p95 s | status idle p50/p95 ms | status 4 turns p50/p95 ms | loaded turn p50/p95 s | "
            "OpenClaw eventLoop delayP99/util idle, loaded | stop/start p50/p95 ms | load 1m"
        )
        rows = [header]
        print(header, flush=True)
        ids: list[int] = []
        gateway_id = None
        last = None  # (agents, idle, used)
        for target in steps:
            if psutil.virtual_memory().available < MIN_AVAILABLE:
                print(
                    f"stopping before {target}: {psutil.virtual_memory().available / GiB:.1f} GiB available"
                )
                break
            new, up = await create_running(fleet, [f"Pool {n:04d}" for n in range(len(ids), target)])
            ids += new
            if gateway_id is None:
                gateway_id = gateway_of(ids[0])
            assert all(gateway_of(b) == gateway_id for b in (new[0], new[-1])), "bots left the pool"
            pid = fleet.controller.supervisor.processes[gateway_id].pid
            link = fleet.controller.links.get(gateway_id)
            await asyncio.sleep(10)
            idle = tree_rss(pid)

            try:
                first, health = await health_during(link, turns(fleet, new, concurrency))
            except Exception as exc:
                print(f"stopping at {target}: a first turn failed: {type(exc).__name__}: {exc}", flush=True)
                break
            await asyncio.sleep(5)
            used = tree_rss(pid)
            warm = [await turn(fleet, b) for b in random.sample(ids, min(warm_sample, len(ids)))]
            rtt_idle, loop_idle = await status_rtts(link, calls)
            rtt_load, loop_load, loaded = await status_under_load(fleet, link, ids, calls)
            toggled: list[float] = []
            for bot_id in random.sample(ids, min(toggles, len(ids))):
                toggled += await toggle(fleet, bot_id)
            load = os.getloadavg()[0]

            slope = "-"
            if last is not None:
                n = target - last[0]
                slope = f"{(idle - last[1]) / n / MiB:.1f}, {(used - last[2]) / n / MiB:.1f}"
            last = (target, idle, used)
            row = (
                f"{target} | {up:.1f} | {idle / GiB:.2f} | {used / GiB:.2f} | {slope} | "
                f"{p(first, 50):.1f}/{p(first, 95):.1f} | {p(warm, 50):.1f}/{p(warm, 95):.1f} | "
                f"{p(rtt_idle, 50, 1e3):.0f}/{p(rtt_idle, 95, 1e3):.0f} | "
                f"{p(rtt_load, 50, 1e3):.0f}/{p(rtt_load, 95, 1e3):.0f} | "
                f"{p(loaded, 50):.1f}/{p(loaded, 95):.1f} | {loop_figure(loop_idle)}, {loop_figure(loop_load)} | "
                f"{p(toggled, 50, 1e3):.0f}/{p(toggled, 95, 1e3):.0f} | {load:.2f}"
            )
            rows.append(row)
            print(row, flush=True)
            print(
                "   " + describe(f"first turns of agents {target - len(new) + 1}-{target}", first, "s", 1.0)
            )
            slow = sum(1 for x in health if x > 5)
            print(
                "   "
                + describe("`health` every 5 s during those turns", health, "s", 1.0)
                + f", {slow} over 5 s"
            )
            print(f"   available memory {psutil.virtual_memory().available / GiB:.1f} GiB", flush=True)
            if p(rtt_load, 95) > 2.0 or p(warm, 95) > 60:
                print(f"stopping after {target}: the gateway looks unhealthy", flush=True)
                break
        print("\n" + "\n".join(rows), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", default="25,50,100,200,300,400")
    parser.add_argument("--concurrency", type=int, default=4, help="first turns in flight at once")
    parser.add_argument("--warm-sample", type=int, default=10)
    parser.add_argument("--calls", type=int, default=30, help="`status` calls per measurement")
    parser.add_argument("--toggles", type=int, default=5)
    args = parser.parse_args()
    steps = sorted(int(s) for s in args.steps.split(","))
    asyncio.run(main(steps, args.concurrency, args.warm_sample, args.calls, args.toggles))
