"""A gateway that misses health probes is restarted when it is hung (stopped, or doing nothing),
but a busy one (its CPU time grows) gets a longer grace: killing it would lose every conversation
in flight. Real processes stand in for gateways; the probes go to a closed port."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from types import SimpleNamespace

import httpx
import pytest

from clawnet.controlplane.health import BUSY_GRACE, HealthDeps, HealthIntervals, HealthMonitor
from tests.support.server import free_port


@dataclass
class Restarts:
    """Stands in for the restart of a hung gateway: records after how many misses it came."""

    misses: list[int] = field(default_factory=list)

    async def __call__(self, gateway_id: int, misses: int) -> None:
        self.misses.append(misses)


def monitor_of(pid: int) -> tuple[HealthMonitor, Restarts]:
    """A health monitor whose only gateway is the process `pid` (no links, no database)."""
    deps = HealthDeps(
        settings=None,  # type: ignore[arg-type]
        db=None,  # type: ignore[arg-type]
        bus=None,  # type: ignore[arg-type]
        supervisor=SimpleNamespace(processes={1: SimpleNamespace(pid=pid)}),  # type: ignore[arg-type]
        links=SimpleNamespace(get=lambda _gid: None),  # type: ignore[arg-type]
        status=None,  # type: ignore[arg-type]
        scheduler=None,  # type: ignore[arg-type]
        on_log_rotated=lambda _gid: None,
    )
    monitor = HealthMonitor(deps, intervals=HealthIntervals(unresponsive_after=3))
    restarts = Restarts()
    monitor.restart_unresponsive = restarts  # type: ignore[method-assign]
    return monitor, restarts


@pytest.fixture
def process():
    procs = []

    def start(code: str) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


async def miss(monitor: HealthMonitor, port: int, times: int, pause_s: float = 0.6) -> None:
    for _ in range(times):
        assert await monitor.probe(1, "local", port, "running", None, 0) is False
        await asyncio.sleep(pause_s)


async def run_probes(pid: int, misses: int, pause_s: float = 0.6) -> list[int]:
    monitor, restarts = monitor_of(pid)
    monitor._http = httpx.AsyncClient(timeout=0.3)
    try:
        await miss(monitor, free_port(), misses, pause_s)
    finally:
        await monitor._http.aclose()
    return restarts.misses


async def test_a_stopped_gateway_is_restarted_after_three_misses(process):
    spinner = process("while True: pass")
    os.kill(spinner.pid, signal.SIGSTOP)
    assert await run_probes(spinner.pid, 3) == [3]


async def test_an_idle_gateway_that_does_not_answer_is_restarted(process):
    sleeper = process("import time; time.sleep(600)")
    assert await run_probes(sleeper.pid, 3) == [3]


async def test_a_busy_gateway_gets_a_longer_grace_then_is_restarted(process):
    spinner = process("while True: pass")  # works all the time, answers nothing
    assert await run_probes(spinner.pid, 3 * BUSY_GRACE - 1, pause_s=0.25) == []
    assert await run_probes(spinner.pid, 3 * BUSY_GRACE, pause_s=0.25) == [3 * BUSY_GRACE]
