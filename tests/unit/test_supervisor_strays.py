"""A gateway process nobody supervises (spawned by a ClawNet killed before it saved the PID) is
found by its config path and ended with its process group; other processes are left alone."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import psutil
import pytest

from clawnet.controlplane.paths import gateway_paths
from clawnet.controlplane.supervisor import Supervisor


def spawn_fake_gateway(config_path: str) -> subprocess.Popen[bytes]:
    # A parent with a helper child, like `openclaw gateway run` and its helpers.
    code = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); time.sleep(60)  # openclaw stand-in"
    return subprocess.Popen(
        [sys.executable, "-c", code],
        env={**os.environ, "OPENCLAW_CONFIG_PATH": config_path},
        start_new_session=True,
    )


async def test_strays_of_this_installation_are_ended_with_their_helpers(clawnet_env, tmp_path):
    ours = spawn_fake_gateway(str(clawnet_env.gateways_dir / "gw-7" / "openclaw.json"))
    theirs = spawn_fake_gateway(str(tmp_path / "another-install" / "gateways" / "gw-7" / "openclaw.json"))
    try:
        for _ in range(600):  # generous: a loaded machine starts Python slowly
            if psutil.Process(ours.pid).children():
                break
            await asyncio.sleep(0.1)
        helper = psutil.Process(ours.pid).children()[0].pid
        supervisor = Supervisor(clawnet_env, on_exit=lambda _exit: None)
        assert supervisor.stray_pids() == [ours.pid]
        assert await supervisor.kill_strays() == [ours.pid]
        ours.wait(timeout=30)
        for _ in range(300):  # the helper got the signal with its group; it ends in its own time
            if not psutil.pid_exists(helper) or psutil.Process(helper).status() == psutil.STATUS_ZOMBIE:
                break
            await asyncio.sleep(0.1)
        assert not psutil.pid_exists(helper) or psutil.Process(helper).status() == psutil.STATUS_ZOMBIE
        assert theirs.poll() is None  # another installation's process is not ours to end
    finally:
        for proc in (ours, theirs):
            if proc.poll() is None:
                os.killpg(proc.pid, 9)
                proc.wait()


async def test_a_surviving_gateway_is_known_by_its_config_even_when_a_clock_step_moved_its_start(clawnet_env):
    ours = spawn_fake_gateway(str(gateway_paths(clawnet_env, 7).config))
    other = spawn_fake_gateway(str(gateway_paths(clawnet_env, 9).config))
    supervisor = Supervisor(clawnet_env, on_exit=lambda _exit: None)
    try:
        stepped = psutil.Process(ours.pid).create_time() + 3600  # recorded before an NTP step
        assert supervisor.adopt(7, ours.pid, stepped, port=1) is not None
        # A process that is not this gateway's, with another start time: a reused PID.
        moved = psutil.Process(other.pid).create_time() + 3600
        assert supervisor.adopt(8, other.pid, moved, port=2) is None
    finally:
        for proc in (ours, other):
            if proc.poll() is None:
                os.killpg(proc.pid, 9)
                proc.wait()
        await asyncio.sleep(0.2)  # the supervisor's watch sees the exit


async def test_after_stop_all_no_gateway_can_be_started(clawnet_env):
    """A start still under way when ClawNet stops must not leave a gateway nobody stops."""
    from clawnet.controlplane.supervisor import GatewayStartError

    supervisor = Supervisor(clawnet_env, on_exit=lambda _exit: None)
    await supervisor.stop_all()
    with pytest.raises(GatewayStartError, match="stopping"):
        await supervisor.spawn(1, 1, has_channels=False)
    assert supervisor.processes == {}
