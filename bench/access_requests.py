"""A stranger's message -> their access request in ClawNet: how fresh the inbox is.

Runs a real gateway with a Telegram bot (DM policy "pairing") against the fake Telegram Bot API,
then, N times (default 20), a new stranger writes to the bot. Measured from the moment the
message is handed to the fake Telegram (the gateway long-polls it) to:
- the `access.requests` event on the bus (what open pages follow), and
- the request being listed by the inbox service (`BotsService.access_requests`, read from the
  database every 10 ms).
Each request is dismissed before the next stranger writes (OpenClaw keeps at most 3 pending per
channel account). `--no-log-trigger` measures the plain poll alone (without reacting to the
gateway's "pairing request" log line); `--interval` sets the poll interval.

    .venv/bin/python bench/access_requests.py [--strangers 20] [--interval 1.0] [--no-log-trigger]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import time

from _fleet import bench_fleet, describe

from clawnet.bots.forms import ChannelInput
from clawnet.controlplane import pairing
from clawnet.enums import BotStatus
from clawnet.events import Kind
from clawnet.settings import get_settings
from tests.support.fake_telegram import FakeTelegram

TOKEN = "123456789:AAH0f2l4xmPBtBenchTokenForAccess_abcdefg"


async def main(strangers: int, interval_s: float, log_trigger: bool) -> None:
    if not log_trigger:
        pairing.LOG_TRIGGER = "\0never"  # the poll alone
    with FakeTelegram() as telegram:
        telegram.add_bot(TOKEN, "bench_bot")
        os.environ["CLAWNET_TELEGRAM_API_ROOT"] = telegram.api_root
        get_settings.cache_clear()
        async with bench_fleet() as fleet:
            fleet.controller.access.interval_s = interval_s
            service, admin = fleet.service, fleet.admin
            bot_id = await service.create_bot(
                admin,
                fleet.bot("Doorman", channels=[ChannelInput("telegram", {"botToken": TOKEN}, "pairing", [])]),
            )
            await service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=300)
            await asyncio.sleep(5)  # the Telegram channel connects
            to_event, to_listed = [], []
            for n in range(strangers):
                sender = 500_000_000 + n

                async def listed(sender: int = sender) -> float:
                    while True:
                        rows = await service.access_requests(admin, bot_id=bot_id)
                        if any(r.sender_id == str(sender) for r in rows):
                            return time.perf_counter()
                        await asyncio.sleep(0.01)

                with fleet.controller.bus.subscribe(
                    [Kind.ACCESS_REQUESTS],
                    bot_ids=[bot_id],
                    where=lambda e: not e.payload.get("resolved") and e.payload.get("pending", 0) > 0,
                ) as events:
                    sent = time.perf_counter()
                    telegram.push_message(
                        TOKEN, chat_id=sender, from_id=sender, text="hello?", username=f"stranger{n}"
                    )
                    watcher = asyncio.create_task(listed())
                    await events.get(timeout=60)
                    to_event.append(time.perf_counter() - sent)
                    to_listed.append(await asyncio.wait_for(watcher, 60) - sent)
                print(
                    f"stranger {n + 1}/{strangers}: event after {to_event[-1] * 1000:.0f} ms, "
                    f"listed after {to_listed[-1] * 1000:.0f} ms",
                    flush=True,
                )
                [request] = [
                    r
                    for r in await service.access_requests(admin, bot_id=bot_id)
                    if r.sender_id == str(sender)
                ]
                await service.dismiss_access(admin, request.id)
                await asyncio.sleep(random.uniform(0.5, 1.5))  # no phase lock with any poll
            how = f"poll every {interval_s:g} s" + (" + log trigger" if log_trigger else ", no log trigger")
            print(f"({how}, {strangers} strangers, one Telegram bot on a real gateway)")
            print(describe("message -> access.requests event", to_event))
            print(describe("message -> listed by the inbox service", to_listed))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--strangers", type=int, default=20)
    parser.add_argument("--interval", type=float, default=pairing.POLL_INTERVAL_S)
    parser.add_argument("--no-log-trigger", action="store_true")
    args = parser.parse_args()
    asyncio.run(main(args.strangers, args.interval, not args.no_log_trigger))
