"""Exec approvals: how fast the inbox learns of one, and how fast an answer lets the command run.

Runs a real gateway with one bot whose exec tool asks first; N times (default 10) the fake model
calls `exec` with `touch <file>`. Measured:
- gateway -> ClawNet: from OpenClaw's `createdAtMs` of the request (same machine clock) to the
  `approvals` event on the bus (the row is written then; open inboxes follow that event);
- answer -> ran: from `BotsService.resolve_approval` being called to the file existing;
- answer -> turn finished: the command, the follow-up model call and the reply.

    .venv/bin/python bench/approvals.py [--turns 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from _fleet import bench_fleet, describe

from clawnet.db import session_scope
from clawnet.enums import BotStatus
from clawnet.events import Kind
from clawnet.models import ApprovalRequest


async def main(turns: int) -> None:
    async with bench_fleet() as fleet:
        service, admin = fleet.service, fleet.admin
        bot_id = await service.create_bot(
            admin, fleet.bot("Runner", tools_allow=["exec"], exec_approval=True)
        )
        await service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=300)
        to_recorded, to_ran, whole = [], [], []
        with tempfile.TemporaryDirectory(prefix="clawnet-approvals-") as tmp:
            for n in range(turns):
                target = Path(tmp) / f"ran-{n}.txt"
                with fleet.controller.bus.subscribe(
                    [Kind.APPROVALS], bot_ids=[bot_id], where=lambda e: e.payload.get("state") == "pending"
                ) as events:
                    turn = await service.chat(
                        admin,
                        bot_id,
                        "TOOL CALL: exec " + json.dumps({"command": f"touch {target}"}),
                        timeout_s=300,
                    )
                    event = await events.get(timeout=120)
                    seen_at = datetime.now(UTC)
                with session_scope() as s:
                    row = s.get(ApprovalRequest, event.payload["approval"])
                    assert row is not None
                    to_recorded.append((seen_at - row.requested_at).total_seconds())
                answered = time.perf_counter()
                await service.resolve_approval(admin, int(event.payload["approval"]), "allow-once")
                while not target.exists():  # noqa: ASYNC110 (a file, not an event)
                    await asyncio.sleep(0.005)
                to_ran.append(time.perf_counter() - answered)
                await asyncio.wait_for(turn.done.wait(), 120)
                whole.append(time.perf_counter() - answered)
                print(
                    f"turn {n + 1}/{turns}: recorded {to_recorded[-1] * 1000:.0f} ms after the gateway asked, "
                    f"command ran {to_ran[-1] * 1000:.0f} ms after the answer",
                    flush=True,
                )
        print(f"({turns} exec approvals, one bot on a real gateway, fake model)")
        print(describe("gateway asked -> approvals event (recorded)", to_recorded))
        print(describe("resolve_approval called -> command ran", to_ran))
        print(describe("answer -> turn finished", whole))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--turns", type=int, default=10)
    asyncio.run(main(parser.parse_args().turns))
