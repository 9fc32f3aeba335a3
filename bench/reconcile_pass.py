"""The database side of one reconcile pass: every gateway's plan (its bots as OpenClaw agents and
the whole config) read and built, as the reconciler does after any change, for N bots in pools of
100 (each with a Telegram channel and a route). Beside it, in the same run, the plain way: each
bot's agent read on its own (a handful of queries per bot). No gateway is started.

    .venv/bin/python bench/reconcile_pass.py [--bots 1000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _fleet import describe


def main(bots: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="clawnet-reconcile-bench-") as tmp:
        os.environ["CLAWNET_DATA_DIR"] = tmp
        os.environ.pop("DATABASE_URL", None)
        from sqlmodel import col, select

        from clawnet import db
        from clawnet.controlplane.plan import agent_spec, load_plan
        from clawnet.controlplane.ports import new_local_gateway_row
        from clawnet.enums import Placement, Role
        from clawnet.models import Binding, Bot, BotChannel, ModelProvider
        from clawnet.settings import get_settings
        from tests.factories import make_user

        get_settings.cache_clear()
        db.dispose_engines()
        db.migrate()
        settings = get_settings()
        gateway_ids: list[int] = []
        with db.session_scope() as s:
            owner = make_user(s, Role.ADMIN)
            for n in range(bots):
                if n % 100 == 0:
                    gw = new_local_gateway_row(
                        s,
                        settings,
                        name=f"pool {n // 100}",
                        owner_id=owner.id,
                        placement=Placement.POOLED,
                        capacity=100,
                        session_settings={},
                        spare=False,
                    )
                    gateway_ids.append(gw.id or 0)
                bot = Bot(owner_id=owner.id, name=f"Bot {n}", agent_id=f"bot-{n}", gateway_id=gateway_ids[-1])
                s.add(bot)
                s.flush()
                s.add(BotChannel(bot_id=bot.id, type="telegram", allow_from=["1"]))
                s.add(Binding(bot_id=bot.id, channel="telegram", peer_kind="direct", peer_id=str(n)))

        def pass_of_plans() -> None:
            for gid in gateway_ids:
                with db.session_scope() as s:
                    load_plan(s, settings, gid)

        def one_by_one() -> None:
            for gid in gateway_ids:
                with db.session_scope() as s:
                    providers = {p.id: p for p in s.exec(select(ModelProvider)).all() if p.id is not None}
                    for bot in s.exec(select(Bot).where(Bot.gateway_id == gid).order_by(col(Bot.id))).all():
                        agent_spec(s, bot, providers, settings, local=True)

        plans, plain = [], []
        for _ in range(rounds):
            for runs, job in ((plans, pass_of_plans), (plain, one_by_one)):
                started = time.perf_counter()
                job()
                runs.append(time.perf_counter() - started)
        label = f"{bots} bots on {len(gateway_ids)} gateways"
        print(describe(f"a reconcile pass's plans ({label}, agents read together)", plans), flush=True)
        print(
            describe(f"plain way: each bot's agent read on its own ({label}, agents only)", plain), flush=True
        )
        print(f"load average: {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bots", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    main(args.bots, args.rounds)
