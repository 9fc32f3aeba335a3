"""Shared set-up for fleet benchmarks: an isolated ClawNet installation in a temporary folder
(its own database, keys, ports), an admin, the local echo model, and a running controller."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from clawnet import db
from clawnet.bots.forms import BotInput
from clawnet.bots.providers import ensure_local_echo_provider
from clawnet.bots.service import BotsService
from clawnet.controlplane.controller import FleetController
from clawnet.controlplane.health import HealthIntervals, RestartPolicy
from clawnet.db import session_scope
from clawnet.enums import BotStatus
from clawnet.events import Kind
from clawnet.security import crypto
from clawnet.security.permissions import Principal
from clawnet.settings import get_settings
from tests.support.server import GATEWAY_PORTS


def tree_rss(pid: int) -> int:
    """RSS of a process and its children (a gateway and its helpers); 0 when it is gone."""
    try:
        main = psutil.Process(pid)
        return sum(p.memory_info().rss for p in [main, *main.children(recursive=True)])
    except psutil.Error:
        return 0


async def toggle(fleet: BenchFleet, bot_id: int) -> list[float]:
    """Stop, then start a bot (a hot config patch each): seconds until the bus reports each."""
    out = []
    for wanted, status in ((False, BotStatus.STOPPED), (True, BotStatus.RUNNING)):
        with fleet.controller.bus.subscribe([Kind.BOT_STATUS], bot_ids=[bot_id]) as events:
            t0 = time.perf_counter()
            await fleet.service.set_running(fleet.admin, bot_id, wanted)
            while (await events.get(timeout=120)).payload["status"] != status.value:
                pass
            out.append(time.perf_counter() - t0)
    return out


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


# `kill <pid>` (SIGTERM) unwinds like Ctrl-C, so every benchmark stops what it started
# (ClawNet servers, gateways) instead of leaving it behind.
signal.signal(signal.SIGTERM, _interrupt)


def _free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_base_port() -> int:
    for _ in range(500):
        base = random.randrange(*GATEWAY_PORTS, 120)  # below the ephemeral range, like the tests
        if all(_free(base + 120 * k) for k in range(6)):
            return base
    raise RuntimeError("no free port range")


@dataclass
class BenchFleet:
    controller: FleetController
    service: BotsService
    admin: Principal
    provider_id: int

    def bot(self, name: str, **kw) -> BotInput:
        return BotInput(name=name, provider_id=self.provider_id, model_id="echo-1", **kw)


@contextlib.asynccontextmanager
async def bench_fleet(
    *, policy: RestartPolicy | None = None, intervals: HealthIntervals | None = None, pool_capacity: int = 100
) -> AsyncIterator[BenchFleet]:
    with tempfile.TemporaryDirectory(prefix="clawnet-bench-") as tmp:
        os.environ.update(
            {
                "CLAWNET_DATA_DIR": tmp,
                "CLAWNET_RATE_LIMITS": "off",  # benchmarks measure throughput, not the limits
                "CLAWNET_GATEWAY_BASE_PORT": str(free_base_port()),
                "CLAWNET_ECHO_PORT": str(free_base_port() + 7),
                "CLAWNET_POOL_CAPACITY": str(pool_capacity),
            }
        )
        os.environ.pop("DATABASE_URL", None)
        get_settings.cache_clear()
        db.dispose_engines()
        crypto.set_key_ring(None)
        db.migrate()
        from clawnet.accounts.registration import register

        with session_scope() as s:
            user = register(
                s,
                email="bench@example.com",
                display_name="Bench",
                password="bench-password-1",
                handle="bench",
            )
            admin = Principal.of(user)
            provider_id = ensure_local_echo_provider(s).id
        assert provider_id is not None
        controller = FleetController(get_settings(), start_timeout_s=600, policy=policy, intervals=intervals)
        await controller.start()
        try:
            yield BenchFleet(
                controller, BotsService(get_settings(), controller.bus, controller), admin, provider_id
            )
        finally:
            await controller.stop()


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * pct / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def describe(label: str, values: list[float], unit: str = "ms", scale: float = 1000.0) -> str:
    scaled = [v * scale for v in values]
    if not scaled:
        return f"{label}: not measured in this run"
    return (
        f"{label}: n={len(scaled)} p50={percentile(scaled, 50):.1f}{unit} p95={percentile(scaled, 95):.1f}{unit} "
        f"min={min(scaled):.1f}{unit} max={max(scaled):.1f}{unit} mean={statistics.mean(scaled):.1f}{unit}"
    )
