"""Gateway `kill -9` -> alert delivered: how long from the fault to the email (received by an
SMTP server on loopback) and to the signed webhook (received by a server on loopback).

Kills a real gateway N times (default 20). Before each kill the previous alert has resolved (the
gateway is back and the "resolved" webhook arrived), so every kill opens a new alert. The owner's
"gateway down" threshold is 0 s and the cooldown 0, so the figure is ClawNet's own latency:
noticing the exit, evaluating the rules, and delivering. The restart policy is relaxed so the
kills are not treated as a crash loop.

    .venv/bin/python bench/alert_latency.py [--kills 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import time

from _fleet import bench_fleet, describe

from clawnet.bots.alerts import AlertSettingsInput
from clawnet.controlplane.health import RestartPolicy
from clawnet.db import session_scope
from clawnet.enums import BotStatus
from clawnet.models import Bot, Gateway
from tests.support.alert_sinks import SmtpSink, WebhookSink


async def main(kills: int) -> None:
    policy = RestartPolicy(base_delay_s=0.5, max_delay_s=0.5, crash_loop_after=10_000)
    with SmtpSink() as smtp, WebhookSink() as hook:
        os.environ.update({"CLAWNET_SMTP_HOST": "127.0.0.1", "CLAWNET_SMTP_PORT": str(smtp.port)})
        async with bench_fleet(policy=policy) as fleet:
            bot_id = await fleet.service.create_bot(fleet.admin, fleet.bot("Alert Dummy"))
            await fleet.service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=300)
            view = await fleet.service.alert_settings(fleet.admin)
            await fleet.service.save_alert_settings(
                fleet.admin,
                AlertSettingsInput(
                    rules={
                        r.name: (r.enabled, "0" if r.name == "gateway_down" else r.threshold)
                        for r in view.rules
                    },
                    email_enabled=True,
                    email_to="",
                    webhook_url=hook.url + "/hook",
                    bot_message_enabled=False,
                    bot_message_bot_id=None,
                    bot_message_channel="telegram",
                    bot_message_to="",
                    quiet_start="00:00",
                    quiet_end="00:00",
                    cooldown_min="0",
                ),
            )
            hook.secret = await fleet.service.rotate_webhook_secret(fleet.admin)
            to_email, to_webhook = [], []
            for n in range(kills):
                with session_scope() as s:
                    pid = s.get(Gateway, s.get(Bot, bot_id).gateway_id).pid
                mails, hooks = len(smtp.messages), len(hook.requests)
                killed_at = time.time()
                os.kill(pid, signal.SIGKILL)
                await asyncio.to_thread(smtp.wait_for, mails + 1, 120)
                await asyncio.to_thread(hook.wait_for, hooks + 1, 120)
                to_email.append(smtp.received_at[mails] - killed_at)
                to_webhook.append(hook.arrived_at[hooks] - killed_at)
                assert (
                    hook.signed(hook.requests[hooks])
                    and hook.requests[hooks].json()["event"] == "alert.opened"
                )
                # Back up and resolved (the "resolved" webhook and email) before the next kill.
                await fleet.service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=300)
                await asyncio.to_thread(hook.wait_for, hooks + 2, 120)
                await asyncio.to_thread(smtp.wait_for, mails + 2, 120)
                print(
                    f"kill {n + 1}/{kills}: email after {to_email[-1] * 1000:.0f} ms, "
                    f"webhook after {to_webhook[-1] * 1000:.0f} ms",
                    flush=True,
                )
            print(describe("kill -9 -> alert email received", to_email))
            print(describe("kill -9 -> alert webhook received", to_webhook))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kills", type=int, default=20)
    asyncio.run(main(parser.parse_args().kills))
