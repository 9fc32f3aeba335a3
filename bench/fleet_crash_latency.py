"""Gateway `kill -9` -> event on the bus: how fast a crash is noticed.

Kills a real gateway N times (default 20), each time measuring the time from the kill to the
`gateway.exited` event, then waiting for the restart. The restart policy is relaxed so that the
kills, which come faster than any real crash loop, are not treated as one.

    .venv/bin/python bench/fleet_crash_latency.py [--kills 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import time

from _fleet import bench_fleet, describe

from clawnet.controlplane.health import RestartPolicy
from clawnet.db import session_scope
from clawnet.enums import BotStatus
from clawnet.events import Kind
from clawnet.models import Bot, Gateway


async def main(kills: int) -> None:
    policy = RestartPolicy(base_delay_s=0.2, max_delay_s=0.2, crash_loop_after=10_000)
    async with bench_fleet(policy=policy) as fleet:
        bot_id = await fleet.service.create_bot(fleet.admin, fleet.bot("Crash Dummy"))
        await fleet.service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=300)
        latencies, recoveries = [], []
        for n in range(kills):
            with session_scope() as s:
                gw = s.get(Gateway, s.get(Bot, bot_id).gateway_id)
                pid = gw.pid
            with fleet.controller.bus.subscribe([Kind.GATEWAY_EXITED]) as exits:
                killed_at = time.perf_counter()
                os.kill(pid, signal.SIGKILL)
                await exits.get(timeout=30)
                latencies.append(time.perf_counter() - killed_at)
            await fleet.service.wait_for_bot(bot_id, BotStatus.ERROR, timeout=30)
            await fleet.service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=300)
            recoveries.append(time.perf_counter() - killed_at)
            print(
                f"kill {n + 1}/{kills}: event after {latencies[-1] * 1000:.1f} ms, running again after "
                f"{recoveries[-1]:.1f} s",
                flush=True,
            )
        print(describe("kill -9 -> gateway.exited event", latencies))
        print(describe("kill -9 -> bot running again", recoveries, unit="s", scale=1.0))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kills", type=int, default=20)
    asyncio.run(main(parser.parse_args().kills))
