"""The cost of the budget check per turn, next to the turn itself.

After each stored assistant message the leader runs `controlplane.budgets.check_bot` in one
transaction on its DB thread: the bot's budgets and its owner's, their usage this UTC day and
month (a sum over the transcript), crossings, pause state. This seeds a fresh installation
(SQLite by default, or DATABASE_URL) with one owner, B bots (default 20) each with four budgets
plus four owner budgets, and M transcript messages this month (default 200,000), then times the
check (N samples, p50/p95), and, for comparison, the check of a bot without any budget.

With `--turns K` it also starts a real gateway with the local echo model and times K chat turns
end to end (send -> final reply) of a bot with budgets, with the checks those turns triggered.

    .venv/bin/python bench/budget_check.py [--bots 20] [--messages 200000] [--samples 200] [--turns 5]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from clawnet import db
from clawnet.bots.session_analytics import percentile
from clawnet.controlplane import budgets as enforcement
from clawnet.controlplane.budget_rules import day_key
from clawnet.enums import DesiredStatus, Role
from clawnet.models import Bot, BotSession, Budget, TranscriptMessage, UsageDay, utcnow
from clawnet.settings import get_settings
from tests.factories import make_user


def seed(bots: int, messages: int) -> tuple[list[int], int]:
    with db.session_scope() as s:
        owner = make_user(s, Role.OPERATOR)
        bare = Bot(owner_id=make_user(s, Role.OPERATOR).id, name="Bare", agent_id="bare")
        s.add(bare)
        ids = []
        for i in range(bots):
            bot = Bot(
                owner_id=owner.id, name=f"B{i}", agent_id=f"b{i}", desired_status=DesiredStatus.STOPPED.value
            )
            s.add(bot)
            s.flush()
            ids.append(bot.id)
            for period in ("day", "month"):
                for metric, limit in (("cost", 1e9), ("tokens", 1e12)):
                    s.add(
                        Budget(
                            scope="bot",
                            bot_id=bot.id,
                            owner_id=owner.id,
                            period=period,
                            metric=metric,
                            limit_amount=limit,
                        )
                    )
        for period in ("day", "month"):
            for metric, limit in (("cost", 1e9), ("tokens", 1e12)):
                s.add(
                    Budget(scope="owner", owner_id=owner.id, period=period, metric=metric, limit_amount=limit)
                )
        s.flush()
        sessions = []
        for bot_id in ids:
            row = BotSession(bot_id=bot_id, key=f"agent:b{bot_id}:main")
            s.add(row)
            s.flush()
            sessions.append(row.id)
        assert bare.id is not None
        bare_id = bare.id
    now = utcnow()
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    span = max(1.0, (now - start).total_seconds())
    rows = [
        {
            "session_id": sessions[i % len(sessions)],
            "seq": i // len(sessions) + 1,
            "role": "assistant" if i % 2 else "user",
            "text": "hello",
            "external_id": "",
            "model": "m",
            "input_tokens": random.randint(100, 12000),
            "output_tokens": random.randint(1, 400),
            "cost_usd": random.random() / 100,
            "created_at": start + (now - start) * (random.random() * span / span),
        }
        for i in range(messages)
    ]
    engine = db.get_engine()
    with engine.begin() as conn:
        for i in range(0, len(rows), 20000):
            conn.execute(sa.insert(TranscriptMessage), rows[i : i + 20000])
    # The daily rollup session sync keeps as it stores them.
    bot_of = dict(zip(sessions, ids, strict=True))
    days: dict[tuple[int, str], list[float]] = {}
    for r in rows:
        total = days.setdefault((bot_of[r["session_id"]], day_key(r["created_at"])), [0.0, 0])
        total[0] += r["cost_usd"]
        total[1] += r["input_tokens"] + r["output_tokens"]
    with engine.begin() as conn:
        conn.execute(
            sa.insert(UsageDay),
            [{"bot_id": b, "day": d, "cost_usd": c, "tokens": int(t)} for (b, d), (c, t) in days.items()],
        )
    return ids, bare_id


def time_checks(bot_ids: list[int], samples: int) -> list[float]:
    out = []
    for i in range(samples):
        bot_id = bot_ids[i % len(bot_ids)]
        t0 = time.perf_counter()
        with db.session_scope() as s:
            enforcement.check_bot(s, bot_id)
        out.append(time.perf_counter() - t0)
    return out


def show(label: str, values: list[float]) -> None:
    ms = [v * 1000 for v in values]
    print(f"{label:<44} p50 {percentile(ms, 50):8.2f} ms   p95 {percentile(ms, 95):8.2f} ms   (n={len(ms)})")


async def turns(count: int) -> None:
    from clawnet.bots.forms import BotInput
    from clawnet.bots.providers import ensure_local_echo_provider
    from clawnet.bots.service import BotsService
    from clawnet.controlplane.controller import FleetController
    from clawnet.enums import BotStatus
    from clawnet.security.permissions import Principal

    # The gateway it starts ends with it (ClawNet itself leaves gateways running when it stops).
    settings = dataclasses.replace(get_settings(), stop_gateways_on_exit=True)
    with db.session_scope() as s:
        admin = Principal.of(make_user(s, Role.ADMIN))
        provider_id = ensure_local_echo_provider(s).id
    controller = FleetController(settings, start_timeout_s=180)
    await controller.start()
    checks: list[float] = []
    original = enforcement.check_bot

    def timed(s, bot_id):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        try:
            return original(s, bot_id)
        finally:
            checks.append(time.perf_counter() - t0)

    enforcement.check_bot = timed  # type: ignore[assignment]
    try:
        service = BotsService(settings, controller.bus, controller)
        bot_id = await service.create_bot(
            admin, BotInput(name="Timed", provider_id=provider_id, model_id="echo-1")
        )
        await service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=180)
        await service.save_bot_budgets(admin, bot_id, {"day_cost": "1000", "month_tokens": "1000000000"})
        times = []
        for i in range(count):
            t0 = time.perf_counter()
            turn = await service.chat(admin, bot_id, f"REPLY WITH: turn {i}", timeout_s=120)
            await asyncio.wait_for(turn.done.wait(), 120)
            times.append(time.perf_counter() - t0)
        await asyncio.sleep(2)  # the last message's check
        show(f"chat turn end to end ({count} turns)", times)
        show("budget check those turns triggered", checks)
    finally:
        enforcement.check_bot = original  # type: ignore[assignment]
        await controller.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bots", type=int, default=20)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--turns", type=int, default=0)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="clawnet-budget-bench-")
    os.environ.setdefault("CLAWNET_DATA_DIR", tmp)
    os.environ.setdefault("CLAWNET_RATE_LIMITS", "off")  # it measures the budget check, not the limits
    if "DATABASE_URL" not in os.environ:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.db"
    get_settings.cache_clear()
    db.migrate()
    t0 = time.perf_counter()
    bot_ids, bare = seed(args.bots, args.messages)
    print(
        f"seeded {args.bots} bots, {args.messages:,} messages this month in {time.perf_counter() - t0:.1f} s"
    )
    show("budget check, bot without budgets", time_checks([bare], args.samples))
    show("budget check, 4 bot + 4 owner budgets", time_checks(bot_ids, args.samples))
    if args.turns:
        asyncio.run(turns(args.turns))


if __name__ == "__main__":
    main()
