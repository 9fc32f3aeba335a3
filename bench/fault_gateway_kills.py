"""`kill -9` a real gateway 50 times in a row under the real restart policy (backoff 1, 2, 4 ...
60 s; a crash-loop state after 5 failures within a minute of starting).

Each kill comes as soon as the bot runs again, so every failure is a fast one: after the fifth
ClawNet must stop restarting and show the crash loop; an operator's Restart clears it and the kills
go on. Checked throughout and printed at the end: every kill noticed, each restart waited at least
the policy's delay, no gateway process left over from an earlier life, and the conversation from
before the first kill still in the session history and the database.

    .venv/bin/python bench/fault_gateway_kills.py [--kills 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import time

import psutil
from _fleet import bench_fleet, describe
from sqlmodel import func, select

from clawnet.db import session_scope
from clawnet.enums import BotStatus, GatewayStatus
from clawnet.events import Kind
from clawnet.models import TranscriptMessage
from tests.factories import gateway_of


def gateway_processes(gateways_dir: str) -> list[int]:
    """Every live openclaw process started for this fleet (found by its config path)."""
    found = []
    for proc in psutil.process_iter(["pid", "environ", "status"]):
        try:
            env = proc.info["environ"] or {}
        except (psutil.AccessDenied, psutil.NoSuchProcess):
            continue
        if proc.info["status"] != psutil.STATUS_ZOMBIE and str(
            env.get("OPENCLAW_CONFIG_PATH", "")
        ).startswith(gateways_dir):
            found.append(proc.info["pid"])
    return found


async def main(kills: int) -> None:
    async with bench_fleet() as fleet:
        policy = fleet.controller.health.policy
        gateways_dir = str(fleet.controller.settings.gateways_dir)
        bot_id = await fleet.service.create_bot(fleet.admin, fleet.bot("Crash Dummy"))
        await fleet.service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=300)
        turn = await fleet.service.chat(fleet.admin, bot_id, "REPLY WITH: remember me")
        assert await turn.result(120) == "remember me"
        with session_scope() as s:
            messages_before = s.exec(select(func.count()).select_from(TranscriptMessage)).one()

        noticed, waited, recovered = [], [], []
        crash_loops = orphans = 0
        for n in range(kills):
            gw = gateway_of(bot_id)
            assert gw.pid is not None
            pid = gw.pid
            with fleet.controller.bus.subscribe([Kind.GATEWAY_EXITED, Kind.GATEWAY_STATUS]) as events:
                killed_at = time.perf_counter()
                os.kill(pid, signal.SIGKILL)
                while (event := await events.get(timeout=30)).kind != Kind.GATEWAY_EXITED:
                    pass
                noticed.append(time.perf_counter() - killed_at)
                # What the controller decided: a delayed restart or the crash-loop state.
                while True:
                    event = await events.get(timeout=30)
                    status = event.payload.get("status")
                    if status in (GatewayStatus.CRASH_LOOP.value, GatewayStatus.STARTING.value):
                        break
                failures = gateway_of(bot_id).consecutive_failures  # as recorded for this exit
            if status == GatewayStatus.CRASH_LOOP.value:
                crash_loops += 1
                assert policy.is_crash_loop(failures), failures
                await asyncio.sleep(5)
                assert gateway_of(bot_id).pid is None, "restarted although in a crash loop"
                print(
                    f"kill {n + 1}: crash loop after {failures} fast failures; operator restarts it",
                    flush=True,
                )
                await fleet.service.restart_bot(fleet.admin, bot_id)
            else:
                waited.append(time.perf_counter() - killed_at)
                expected = policy.delay(failures)
                assert waited[-1] >= expected * 0.9, (waited[-1], expected)
            await fleet.service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=300)
            recovered.append(time.perf_counter() - killed_at)
            live = gateway_processes(gateways_dir)
            current_pid = gateway_of(bot_id).pid
            assert current_pid is not None
            family = {current_pid, *(c.pid for c in psutil.Process(current_pid).children(recursive=True))}
            leftovers = [p for p in live if p not in family]  # helpers of an earlier life included
            orphans += len(leftovers)
            print(
                f"kill {n + 1}/{kills}: noticed {noticed[-1] * 1000:.0f} ms, failures {failures}, "
                f"running again {recovered[-1]:.1f} s, gateway processes {len(live)}, leftovers {leftovers}",
                flush=True,
            )

        gw = gateway_of(bot_id)
        assert gw.id is not None
        history = await fleet.controller.links[gw.id].client.call(
            "chat.history", {"sessionKey": "agent:crash-dummy:main"}
        )
        with session_scope() as s:
            messages_after = s.exec(select(func.count()).select_from(TranscriptMessage)).one()
        kept = "remember me" in str(history)
        print(describe("kill -9 -> gateway.exited event", noticed))
        print(describe("kill -9 -> restart begins (backoff)", waited, unit="s", scale=1.0))
        print(describe("kill -9 -> bot running again", recovered, unit="s", scale=1.0))
        print(
            f"kills {kills}, noticed {len(noticed)}, crash-loop states {crash_loops}, leftover processes {orphans}, "
            f"conversation kept in gateway history: {kept}, transcript rows {messages_before} -> {messages_after}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kills", type=int, default=50)
    asyncio.run(main(parser.parse_args().kills))
