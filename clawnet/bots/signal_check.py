"""The Signal channel's check: is signal-cli there, the way OpenClaw's Signal plugin will reach it?

OpenClaw does not embed Signal: its plugin talks to signal-cli (`channels.signal.transport`):
- "managed-native": the gateway starts `signal-cli` itself, so it must be installed on the
  gateway's host (on its PATH) with the bot's number registered or linked;
- "external-native": a signal-cli daemon someone runs (`signal-cli -a <number> daemon --http
  127.0.0.1:8080`); the plugin probes `GET {url}/api/v1/check`, then JSON-RPC `version` at
  `POST {url}/api/v1/rpc`;
- "container": bbernhard/signal-cli-rest-api in MODE=json-rpc; the plugin probes `GET {url}/v1/about`.
This check asks the same questions, and which numbers signal-cli has, when it says."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from typing import Any

from clawnet.aio import wait_for
from clawnet.bots.checks import CheckResult, Unreachable, call
from clawnet.bots.validation import signal_transport_problems
from clawnet.settings import Settings

VERSION_TIMEOUT_S = 30
SIGNAL_CLI = "signal-cli"
DAEMON_HINT = "is the daemon running (signal-cli -a <number> daemon --http 127.0.0.1:8080)?"


async def test_signal(settings: Settings, kind: str, url: str, account: str) -> CheckResult:
    kind, url, account = (kind.strip() or "managed-native"), url.strip().rstrip("/"), account.strip()
    problems = signal_transport_problems(kind, url)
    if problems:
        return CheckResult(False, next(iter(problems.values())))
    if kind == "managed-native":
        return await _installed(settings, account)
    try:
        if kind == "container":
            return await _container(url, account)
        return await _native_daemon(url, account)
    except Unreachable:
        return CheckResult(False, f"signal-cli could not be reached at {url}: {DAEMON_HINT}")


async def _installed(settings: Settings, account: str) -> CheckResult:
    """signal-cli on the PATH local gateways get (Node's folder first, then ClawNet's own PATH)."""
    path = f"{settings.node_bin_dir}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}"
    found = shutil.which(SIGNAL_CLI, path=path)
    if found is None:
        return CheckResult(
            False,
            "signal-cli is not installed on this machine, and the gateway would start it. Install "
            "it (github.com/AsamK/signal-cli) and register or link the number, or run its HTTP "
            "daemon yourself and give its address.",
        )
    try:
        proc = await asyncio.create_subprocess_exec(
            found, "--version", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        out, _ = await wait_for(proc.communicate(), VERSION_TIMEOUT_S)
    except (OSError, TimeoutError):
        return CheckResult(False, f"signal-cli is installed ({found}) but did not say its version.")
    version = out.decode(errors="replace").strip().splitlines()[-1:] or ["signal-cli"]
    return CheckResult(
        True,
        f"{version[0]} is installed; the gateway starts it. The number {account or '(none yet)'} "
        "must be registered or linked with it (signal-cli -a <number> register, or signal-cli link).",
    )


async def _native_daemon(url: str, account: str) -> CheckResult:
    check = await call("signal-cli", "GET", f"{url}/api/v1/check")
    if not 200 <= check.status < 300:
        return CheckResult(
            False, f"Something answers at {url}, but not signal-cli's HTTP daemon (HTTP {check.status})."
        )
    version = await _rpc(url, "version")
    if not isinstance(version, dict) or not version.get("version"):
        return CheckResult(False, f"signal-cli at {url} did not answer its version over JSON-RPC.")
    name = f"signal-cli {version['version']} answers at {url}."
    accounts = await _rpc(url, "listAccounts")  # only a multi-account daemon lists them
    if isinstance(accounts, list):
        numbers = {str(a.get("number")) for a in accounts if isinstance(a, dict)}
        if account and account not in numbers:
            return CheckResult(
                False, f"{name} But it has no account {account}: register or link that number first."
            )
    return CheckResult(True, name)


async def _container(url: str, account: str) -> CheckResult:
    about = await call("signal-cli-rest-api", "GET", f"{url}/v1/about")
    if about.status != 200 or not about.data:
        return CheckResult(
            False,
            f"Something answers at {url}, but not signal-cli-rest-api (HTTP {about.status} for /v1/about).",
        )
    name = f"signal-cli-rest-api {about.data.get('version') or ''}".rstrip() + f" answers at {url}."
    mode = str(about.data.get("mode") or "")
    if mode and mode != "json-rpc":
        return CheckResult(
            False, f"{name} But it runs in MODE={mode}: OpenClaw receives messages only with MODE=json-rpc."
        )
    listed = await call("signal-cli-rest-api", "GET", f"{url}/v1/accounts")
    numbers = listed.data.get("data")
    if account and isinstance(numbers, list) and account not in {str(n) for n in numbers}:
        return CheckResult(
            False, f"{name} But it has no account {account}: register or link that number first."
        )
    return CheckResult(True, name)


async def _rpc(url: str, method: str) -> Any:
    answer = await call(
        "signal-cli",
        "POST",
        f"{url}/api/v1/rpc",
        json={"jsonrpc": "2.0", "method": method, "id": uuid.uuid4().hex},
    )
    return answer.data.get("result") if "error" not in answer.data else None
