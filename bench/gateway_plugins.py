"""What OpenClaw's four channel plugins cost a gateway: start time and memory.

Starts a plain `openclaw gateway run` (the environment and config ClawNet gives its gateways)
alternately without channels and with one account each of Discord, Slack, WhatsApp and Signal
(plugins recorded in its state the way ClawNet does it; their services pointed at a closed
loopback port, so each channel fails fast instead of reaching the internet). Reports, per run,
the time to "serving" (/readyz ready, or only channels failing) and the process tree's RSS
15 s later; then medians.

    .venv/bin/python bench/gateway_plugins.py [--runs 3] [--each]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
from _fleet import tree_rss

from clawnet.controlplane.openclaw_cli import openclaw_env
from clawnet.controlplane.plugins import ensure_installed, plugins_in
from clawnet.controlplane.supervisor import core_ready
from clawnet.settings import load_settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


ALL = ("discord", "slack", "whatsapp", "signal")


def config(port: int, token: str, log: Path, with_plugins: bool, only: tuple[str, ...] = ALL) -> dict:
    cfg: dict = {
        "gateway": {
            "mode": "local",
            "port": port,
            "bind": "loopback",
            "auth": {"mode": "token", "token": token},
        },
        "logging": {"file": str(log)},
        "meta": {"lastTouchedVersion": "2026.9.6"},
    }
    if with_plugins:
        cfg["plugins"] = {"entries": {p: {"enabled": True} for p in only}}
        channels = {
            "discord": {
                "enabled": True,
                "token": "MTIz.fake." + "x" * 60,
                "applicationId": "123456789012345678",
            },
            "slack": {"enabled": True, "botToken": "xoxb-1-fake", "appToken": "xapp-1-fake"},
            "whatsapp": {"enabled": True},
            "signal": {"enabled": True, "account": "+15555550123"},
        }
        cfg["channels"] = {k: v for k, v in channels.items() if k in only}
    return cfg


async def one_run(with_plugins: bool, only: tuple[str, ...] = ALL) -> tuple[float, int]:
    settings = load_settings()
    dead = free_port()
    settings = dataclasses.replace(
        settings,
        discord_api_url=f"http://127.0.0.1:{dead}/api/v10",
        slack_api_url=f"http://127.0.0.1:{dead}/api/",
    )
    with tempfile.TemporaryDirectory(prefix="bench-plugins-") as tmp:
        root = Path(tmp)
        for d in ("state", "home"):
            (root / d).mkdir()
        port, token = free_port(), secrets.token_hex(16)
        cfg = config(port, token, root / "openclaw.log", with_plugins, only)
        (root / "openclaw.json5").write_text(json.dumps(cfg))
        ensure_installed(settings.openclaw_plugins_dir, root / "state", plugins_in(cfg))
        env = openclaw_env(
            settings,
            config_path=root / "openclaw.json5",
            state_dir=root / "state",
            home=root / "home",
            has_channels=with_plugins,
        )
        started = time.monotonic()
        proc = subprocess.Popen(
            [str(settings.openclaw_bin), "gateway", "run", "--port", str(port), "--bind", "loopback"],
            cwd=root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            async with httpx.AsyncClient(timeout=3) as http:
                while True:
                    try:
                        r = await http.get(f"http://127.0.0.1:{port}/readyz")
                        if core_ready(r.status_code, r.json()):
                            break
                    except (httpx.HTTPError, ValueError):
                        pass
                    if proc.poll() is not None or time.monotonic() - started > 300:
                        raise RuntimeError("the gateway did not start")
                    await asyncio.sleep(0.1)
            ready_s = time.monotonic() - started
            await asyncio.sleep(15)
            return ready_s, tree_rss(proc.pid)
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()


async def main(runs: int, each: bool) -> None:
    if each:  # which plugin costs what: one channel at a time
        for plugin in ALL:
            ready_s, rss = await one_run(True, (plugin,))
            print(f"only {plugin:9}: serving after {ready_s:5.1f} s, RSS {rss / 2**20:6.0f} MiB", flush=True)
        print()
    results: dict[bool, list[tuple[float, int]]] = {False: [], True: []}
    for i in range(runs):
        for with_plugins in (False, True):
            ready_s, rss = await one_run(with_plugins)
            results[with_plugins].append((ready_s, rss))
            label = "4 plugin channels" if with_plugins else "no channels     "
            print(
                f"run {i + 1} {label}: serving after {ready_s:5.1f} s, RSS {rss / 2**20:6.0f} MiB", flush=True
            )
    print()
    for with_plugins, rows in results.items():
        if not rows:
            continue
        label = "with Discord+Slack+WhatsApp+Signal" if with_plugins else "without plugins (plain gateway) "
        print(
            f"{label}: median start {statistics.median(r[0] for r in rows):5.1f} s, "
            f"median RSS {statistics.median(r[1] for r in rows) / 2**20:6.0f} MiB"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--each", action="store_true", help="also start with each plugin channel alone")
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.each))
