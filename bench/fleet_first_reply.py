"""Create a bot -> its first reply (fake LLM), on a cold gateway and on a warm pool.

Cold: the bot gets a new gateway, so the time includes OpenClaw's start-up. To know what OpenClaw
alone costs, the same thing is done without ClawNet, alternately with the ClawNet runs: write the
same kind of config, spawn `openclaw gateway run`, wait for /readyz, connect, send the first
message, wait for the reply. ClawNet's overhead is the difference.
Warm: a new bot joins a running pool (a hot config patch), then answers.
Spare: a new owner's first bot, with a warm spare gateway ready (CLAWNET_WARM_SPARES=1): the spare
becomes the owner's pool by a hot change (each round waits until the next spare is ready, and says
how long that took, then lets it idle `--settle` seconds: its warm-up turn done, as a spare that
waited for its owner is). The cold rounds above are the same thing with no spare.

    .venv/bin/python bench/fleet_first_reply.py [--cold 3] [--warm 6] [--spare 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from _fleet import bench_fleet, describe, free_base_port
from sqlmodel import col, select

from clawnet.controlplane import openclaw_config as oc
from clawnet.controlplane.echo_llm import FakeLLM
from clawnet.controlplane.openclaw_cli import openclaw_env
from clawnet.controlplane.protocol import GatewayConnection
from clawnet.db import session_scope
from clawnet.enums import BotStatus, GatewayStatus, ProviderKind, Role
from clawnet.models import Gateway
from clawnet.security.permissions import Principal
from clawnet.settings import get_settings
from tests.factories import make_user


async def clawnet_first_reply(fleet, name: str, **kw) -> float:
    started = time.perf_counter()
    bot_id = await fleet.service.create_bot(fleet.admin, fleet.bot(name, **kw))
    await fleet.service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=600)
    turn = await fleet.service.chat(fleet.admin, bot_id, "REPLY WITH: hello")
    assert await turn.result(600) == "hello"
    return time.perf_counter() - started


async def openclaw_first_reply(llm: FakeLLM) -> float:
    """The same cold start without ClawNet: OpenClaw's own cost."""
    settings = get_settings()
    with tempfile.TemporaryDirectory(prefix="openclaw-baseline-") as tmp:
        root = Path(tmp)
        for folder in ("home", "state", "ws"):
            (root / folder).mkdir()
        port, token = free_base_port(), secrets.token_urlsafe(32)
        started = time.perf_counter()
        spec = oc.GatewaySpec(
            local=True,
            port=port,
            token=token,
            log_file=str(root / "openclaw.log"),
            workspace_root=str(root / "ws"),
            providers=(
                oc.ProviderSpec(
                    "echo", ProviderKind.LOCAL_ECHO, llm.base_url, "x", (oc.ModelSpec("echo-1"),)
                ),
            ),
            agents=(
                oc.AgentSpec("baseline", "Baseline", "echo/echo-1", workspace=str(root / "ws" / "baseline")),
            ),
        )
        (root / "openclaw.json5").write_text(oc.render(oc.build_config(spec)))
        env = openclaw_env(
            settings,
            config_path=root / "openclaw.json5",
            state_dir=root / "state",
            home=root / "home",
            has_channels=False,
        )
        with (root / "out.log").open("wb") as out:
            proc = subprocess.Popen(
                [str(settings.openclaw_bin), "gateway", "run"],
                env=env,
                cwd=root,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            async with httpx.AsyncClient(timeout=2) as http:
                while True:
                    try:
                        if (await http.get(f"http://127.0.0.1:{port}/readyz")).json().get("ready"):
                            break
                    except (httpx.HTTPError, ValueError):
                        pass
                    await asyncio.sleep(0.05)
            final = asyncio.get_running_loop().create_future()

            def on_event(name: str, payload: dict, _seq: int | None) -> None:
                if name == "chat" and payload.get("state") == "final" and not final.done():
                    final.set_result(payload)

            conn = await GatewayConnection.open(
                f"ws://127.0.0.1:{port}", token, on_event=on_event, timeout=120
            )
            await conn.call(
                "chat.send",
                {
                    "sessionKey": "agent:baseline:main",
                    "message": "REPLY WITH: hello",
                    "idempotencyKey": str(uuid.uuid4()),
                },
            )
            await asyncio.wait_for(final, 600)
            elapsed = time.perf_counter() - started
            await conn.close()
            return elapsed
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


async def spare_ready(timeout_s: float = 600) -> float:
    """Wait until a spare gateway runs; returns how long that took."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout_s:
        with session_scope() as s:
            ready = s.exec(
                select(Gateway.id).where(
                    col(Gateway.spare).is_(True), Gateway.actual_status == GatewayStatus.RUNNING.value
                )
            ).first()
        if ready is not None:
            return time.perf_counter() - started
        await asyncio.sleep(0.1)
    raise RuntimeError("no spare gateway became ready")


async def spare_rounds(rounds: int, settle_s: float) -> tuple[list[float], list[float]]:
    os.environ["CLAWNET_WARM_SPARES"] = "1"
    try:
        async with bench_fleet() as fleet:
            firsts, refills, arrivals = [], [], []
            for n in range(rounds):
                refills.append(await spare_ready())
                # A spare waits idle (minutes, usually) with its warm-up turn done: let it settle.
                await asyncio.sleep(settle_s)
                with session_scope() as s:
                    owner = Principal.of(make_user(s, Role.ADMIN))  # a new owner: no pool yet
                started = time.perf_counter()
                bot_id = await fleet.service.create_bot(owner, fleet.bot(f"Spare {n}"))
                await fleet.service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=600)
                arrivals.append(time.perf_counter() - started)
                turn = await fleet.service.chat(owner, bot_id, "REPLY WITH: hello")
                assert await turn.result(600) == "hello"
                firsts.append(time.perf_counter() - started)
                print(
                    f"spare {n + 1}: running after {arrivals[-1]:.2f} s, first reply after {firsts[-1]:.2f} s "
                    f"(the spare was ready {refills[-1]:.1f} s after the round began; load {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
            print(describe("  of which: create bot -> running on the spare", arrivals, unit="s", scale=1.0))
            return firsts, refills
    finally:
        os.environ["CLAWNET_WARM_SPARES"] = "0"


async def main(cold: int, warm: int, spare: int, settle_s: float) -> None:
    async with bench_fleet() as fleet, FakeLLM() as baseline_llm:
        clawnet_cold, openclaw_cold = [], []
        for n in range(cold):
            openclaw_cold.append(await openclaw_first_reply(baseline_llm))
            clawnet_cold.append(await clawnet_first_reply(fleet, f"Cold {n}", placement="dedicated"))
            print(
                f"cold {n + 1}: OpenClaw alone {openclaw_cold[-1]:.2f} s, through ClawNet {clawnet_cold[-1]:.2f} s",
                flush=True,
            )
        warm_totals = []
        for n in range(warm + 1):
            total = await clawnet_first_reply(fleet, f"Warm {n}")
            if n == 0:
                print(f"(the first pooled bot starts the pool: {total:.2f} s, not counted)")
                continue
            warm_totals.append(total)
            print(f"warm {n}: first reply after {total:.2f} s", flush=True)
        print(describe("cold, OpenClaw alone: spawn -> first reply", openclaw_cold, unit="s", scale=1.0))
        print(describe("cold, through ClawNet: create bot -> first reply", clawnet_cold, unit="s", scale=1.0))
        overhead = [c - o for c, o in zip(clawnet_cold, openclaw_cold, strict=True)]
        print(describe("cold, ClawNet's overhead (paired runs)", overhead, unit="s", scale=1.0))
        print(describe("warm pool: create bot -> first reply", warm_totals, unit="s", scale=1.0))
    if spare:
        firsts, refills = await spare_rounds(spare, settle_s)
        print(describe("new owner, no spare (the cold rounds above)", clawnet_cold, unit="s", scale=1.0))
        print(describe("new owner, warm spare ready: create bot -> first reply", firsts, unit="s", scale=1.0))
        print(describe("the next spare ready after a round (background)", refills[1:], unit="s", scale=1.0))
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cold", type=int, default=3)
    parser.add_argument("--warm", type=int, default=6)
    parser.add_argument("--spare", type=int, default=5)
    parser.add_argument("--settle", type=float, default=20.0, help="seconds a ready spare idles first")
    args = parser.parse_args()
    asyncio.run(main(args.cold, args.warm, args.spare, args.settle))
