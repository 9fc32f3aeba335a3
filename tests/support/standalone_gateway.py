"""An OpenClaw gateway ClawNet did not start (as on another host), for remote-gateway tests."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from clawnet.controlplane.openclaw_cli import openclaw_env
from clawnet.settings import Settings
from tests.support.server import free_port_range


@contextlib.contextmanager
def standalone_gateway(settings: Settings, root: Path) -> Iterator[tuple[str, str, subprocess.Popen[bytes]]]:
    """Run a real gateway in `root` until the block ends: (ws url, token, process)."""
    for folder in ("home", "state"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    port = free_port_range()
    token = secrets.token_urlsafe(32)
    config = root / "openclaw.json5"
    config.write_text(
        json.dumps(
            {
                "gateway": {
                    "mode": "local",
                    "port": port,
                    "bind": "loopback",
                    "auth": {"mode": "token", "token": token},
                },
                "logging": {"file": str(root / "openclaw.log")},
            }
        )
    )
    env = openclaw_env(
        settings, config_path=config, state_dir=root / "state", home=root / "home", has_channels=False
    )
    with (root / "stdout.log").open("wb") as out:
        proc = subprocess.Popen(
            [str(settings.openclaw_bin), "gateway", "run"],
            env=env,
            cwd=root,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError((root / "stdout.log").read_text()[-2000:])
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as resp:
                    if json.loads(resp.read()).get("ready"):
                        break
            except OSError:
                pass
            time.sleep(0.3)
        else:
            raise RuntimeError(
                "the standalone gateway was not ready within 180 s:\n"
                + (root / "stdout.log").read_text()[-2000:]
            )
        yield f"ws://127.0.0.1:{port}", token, proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
