"""Create a bot -> its first reply (fake LLM), on a cold gateway and on a warm pool.

Cold: the bot's pool has no gateway yet, so the time includes OpenClaw's own start-up (measured
separately as spawn -> ready, for comparison). Warm: a new bot joins a running pool (a hot
config patch). Each is repeated (default 3 cold, 5 warm).

    .venv/bin/python bench/fleet_first_reply.py [--cold 3] [--warm 5]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from _fleet import bench_fleet, describe

from clawnet.fleet.events import Kind
from clawnet.models.enums import BotStatus


async def first_reply(fleet, name: str, **kw) -> tuple[float, float | None]:
    """(create -> first reply seconds, gateway spawn -> ready seconds if it started one)."""
    with fleet.controller.bus.subscribe([Kind.GATEWAY_STATUS, Kind.CONFIG_APPLIED]) as events:
        started = time.perf_counter()
        bot_id = fleet.service.create_bot(fleet.admin, fleet.bot(name, **kw))
        await fleet.service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=600)
        turn = await fleet.service.chat(fleet.admin, bot_id, "REPLY WITH: hello")
        assert await turn.result(600) == "hello"
        total = time.perf_counter() - started
        spawn_at = ready_at = None
        while (event := events.get_nowait()) is not None:
            if (
                event.kind == Kind.GATEWAY_STATUS
                and event.payload["status"] == "starting"
                and spawn_at is None
            ):
                spawn_at = event.at
            if event.kind == Kind.CONFIG_APPLIED and event.payload.get("how") == "start":
                ready_at = event.at
    return total, (ready_at - spawn_at) if spawn_at and ready_at else None


async def main(cold: int, warm: int) -> None:
    async with bench_fleet() as fleet:
        cold_totals, startups = [], []
        for n in range(cold):
            total, startup = await first_reply(fleet, f"Cold {n}", placement="dedicated")
            cold_totals.append(total)
            if startup is not None:
                startups.append(startup)
            print(
                f"cold {n + 1}: first reply after {total:.2f} s (gateway start-up {startup or 0:.2f} s)",
                flush=True,
            )
        warm_totals = []
        for n in range(warm):
            total, _ = await first_reply(fleet, f"Warm {n}")
            if n == 0:
                print(f"(pool warm-up: first pooled bot took {total:.2f} s, not counted)")
                continue
            warm_totals.append(total)
            print(f"warm {n}: first reply after {total:.2f} s", flush=True)
        print(describe("cold: create -> first reply", cold_totals, unit="s", scale=1.0))
        print(describe("cold: OpenClaw start-up (spawn -> ready)", startups, unit="s", scale=1.0))
        overhead = [t - s for t, s in zip(cold_totals, startups, strict=False)]
        print(describe("cold: first reply minus OpenClaw start-up", overhead, unit="s", scale=1.0))
        print(describe("warm pool: create -> first reply", warm_totals, unit="s", scale=1.0))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cold", type=int, default=3)
    parser.add_argument("--warm", type=int, default=6)
    args = parser.parse_args()
    asyncio.run(main(args.cold, args.warm))
