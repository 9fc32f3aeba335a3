"""Running the `openclaw` CLI: the environment a gateway or a one-off command gets, and config
validation by the real binary (so "config rejected" names the field and the reason)."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clawnet.aio import wait_for
from clawnet.controlplane.openclaw_config import render
from clawnet.controlplane.plugins import ensure_installed, plugins_in
from clawnet.settings import Settings


@functools.cache
def installed_version(openclaw_bin: Path) -> str:
    """The version of the installed OpenClaw (its package.json next to the CLI), or ""."""
    try:
        package = json.loads((openclaw_bin.resolve().parent / "package.json").read_text())
    except (OSError, ValueError):
        return ""
    return str(package.get("version") or "")


def openclaw_env(
    settings: Settings, *, config_path: Path, state_dir: Path, home: Path, has_channels: bool = True
) -> dict[str, str]:
    """The environment of one gateway: its own config, state and HOME (caches under $HOME would
    otherwise be shared), Node 24 first on PATH, and the variables for a supervised child."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OPENCLAW_", "CLAWNET_", "REFLEX_"))}
    env = {
        **base,
        "PATH": f"{settings.node_bin_dir}{os.pathsep}{base.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(home),
        "OPENCLAW_CONFIG_PATH": str(config_path),
        "OPENCLAW_STATE_DIR": str(state_dir),
        "OPENCLAW_DISABLE_BONJOUR": "1",
        "OPENCLAW_NO_RESPAWN": "1",
        "OPENCLAW_EXEC_SHELL_SNAPSHOT": "0",
        "OPENCLAW_OFFLINE": "1",  # only stops downloads of helper binaries
        "OPENCLAW_NO_AUTO_UPDATE": "1",
        "NO_COLOR": "1",
        # Two malloc arenas instead of one per thread: an agent's SQLite handles (opened by the
        # main thread and several workers) cost ~3.5 MB instead of ~8 MB (bench/pool_size.py).
        "MALLOC_ARENA_MAX": base.get("MALLOC_ARENA_MAX", "2"),
    }
    if settings.gateway_heap_mb and "max-old-space-size" not in base.get("NODE_OPTIONS", ""):
        # V8 collects before garbage piles up to its ~4 GB default: a ceiling on RSS.
        heap = f"--max-old-space-size={settings.gateway_heap_mb}"
        env["NODE_OPTIONS"] = f"{base.get('NODE_OPTIONS', '')} {heap}".strip()
    if not has_channels:
        env["OPENCLAW_SKIP_CHANNELS"] = "1"
    # Fakes of the channels' services on loopback, in tests (the variables the plugins read).
    for name, value in (
        ("DISCORD_API_URL", settings.discord_api_url),
        ("SLACK_API_URL", settings.slack_api_url),
        ("OPENCLAW_WHATSAPP_WEB_SOCKET_URL", settings.whatsapp_web_socket_url),
    ):
        if value:
            env[name] = value
    return env


@dataclass(frozen=True)
class ValidationResult:
    valid: bool
    issues: tuple[tuple[str, str], ...]  # (config path, message)
    error: str = ""

    def describe(self) -> str:
        if self.valid:
            return "valid"
        if self.issues:
            return "; ".join(f"{path}: {message}" for path, message in self.issues)
        return self.error or "invalid"


async def validate_config(
    settings: Settings, config: Mapping[str, Any], timeout: float = 60.0
) -> ValidationResult:
    """Ask the real `openclaw config validate` about `config` (about 2 s)."""
    with tempfile.TemporaryDirectory(prefix="clawnet-validate-") as tmp:
        root = Path(tmp)
        config_path = root / "openclaw.json5"
        config_path.write_text(render(config))
        (root / "home").mkdir()
        needed = plugins_in(config)
        if needed:  # validate as a gateway would run it: with the plugins' own schemas
            await asyncio.to_thread(ensure_installed, settings.openclaw_plugins_dir, root / "state", needed)
        env = openclaw_env(settings, config_path=config_path, state_dir=root / "state", home=root / "home")
        proc = await asyncio.create_subprocess_exec(
            str(settings.openclaw_bin),
            "config",
            "validate",
            "--json",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await wait_for(proc.communicate(), timeout)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            return ValidationResult(
                False, (), f"openclaw config validate did not answer within {timeout:.0f} s"
            )
    text = out.decode(errors="replace").strip()
    try:
        data = json.loads(text[text.index("{") :]) if "{" in text else {}
    except ValueError:
        data = {}
    if data.get("valid") is True:
        return ValidationResult(True, ())
    issues = tuple((str(i.get("path", "")), str(i.get("message", ""))) for i in data.get("issues") or [])
    message = (data.get("error") or {}).get("message") or err.decode(errors="replace").strip()[-500:]
    return ValidationResult(False, issues, message)
