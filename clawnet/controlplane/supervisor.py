"""Local gateway processes: spawn with an isolated environment, wait until ready, notice an exit
at once, stop with a grace period, and adopt processes that outlived a ClawNet restart.

Each gateway gets a folder `<gateways_dir>/gw-<id>/` holding its config (mode 0600), state, a
private HOME and its logs. The process is started in its own session, so its process group id is
its PID: stopping it signals the whole group (helpers included), by PID, never by name.

Exits are noticed through a pidfd registered with the event loop: the kernel wakes us when the
process ends, for children and for adopted processes alike, with no polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

from clawnet.controlplane.openclaw_cli import openclaw_env
from clawnet.controlplane.paths import gateway_paths
from clawnet.controlplane.protocol import GatewayAuthError, GatewayClient, GatewayConnection, GatewayError
from clawnet.settings import Settings

log = logging.getLogger(__name__)

EXIT_CONFIG_INVALID = 78  # OpenClaw's exit code for a config it refuses
LOG_ROTATE_BYTES = 10 * 1024 * 1024
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class GatewayStartError(Exception):
    """A gateway could not be started; the message names the problem."""


class PortInUseError(GatewayStartError):
    def __init__(self, port: int, holder: str = "") -> None:
        who = f" by {holder}" if holder else " by another program"
        super().__init__(
            f"Port {port} is already in use{who}. Free it, or let ClawNet move the gateway to another port."
        )
        self.port = port


@dataclass(frozen=True)
class ProcessExit:
    gateway_id: int
    pid: int
    exit_code: int | None  # None when the process was adopted (not our child)
    expected: bool  # True when ClawNet asked it to stop
    uptime_s: float


@dataclass
class GatewayProcess:
    gateway_id: int
    pid: int
    create_time: float
    port: int
    popen: subprocess.Popen[bytes] | None
    started_at: float = field(default_factory=time.monotonic)
    expected_exit: bool = False
    exited: asyncio.Future[ProcessExit] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    _pidfd: int | None = None

    @property
    def alive(self) -> bool:
        return not self.exited.done()


def port_is_free(port: int) -> bool:
    """Whether a listener could bind 127.0.0.1:`port` now. SO_REUSEADDR as Node sets it, so
    connections of a dead gateway lingering in TIME_WAIT do not count as "in use"."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _port_holder(port: int) -> str:
    with contextlib.suppress(psutil.Error, OSError):
        for conn in psutil.net_connections(kind="tcp"):
            if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN and conn.pid:
                with contextlib.suppress(psutil.Error):
                    return f"pid {conn.pid} ({psutil.Process(conn.pid).name()})"
                return f"pid {conn.pid}"
    return ""


def rotate_if_large(path: Path, limit: int = LOG_ROTATE_BYTES) -> bool:
    """Copy-and-truncate rotation: the writer keeps its file descriptor (O_APPEND) and carries on
    at the start of the emptied file; the previous content is kept as `<name>.1`."""
    try:
        if path.stat().st_size < limit:
            return False
    except FileNotFoundError:
        return False
    backup = path.with_name(path.name + ".1")
    with path.open("rb") as src, backup.open("wb") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
    with path.open("r+b") as handle:
        handle.truncate(0)
    return True


def log_tail(path: Path, lines: int = 40) -> list[str]:
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 64 * 1024))
            text = handle.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return []
    return [_ANSI.sub("", line).rstrip() for line in text.splitlines()[-lines:] if line.strip()]


def explain_exit(code: int | None, stdout_path: Path) -> str:
    """A one-paragraph reason for a gateway exit, from its exit code and its last output."""
    tail = log_tail(stdout_path, 60)
    if code == EXIT_CONFIG_INVALID:
        problems = [
            line
            for line in tail
            if any(w in line.lower() for w in ("invalid", "must", "unknown", "expected"))
        ]
        detail = "; ".join(problems[-5:]) or (tail[-1] if tail else "")
        return f"OpenClaw refused its configuration (exit 78): {detail}".strip()
    interesting = [
        line for line in tail if any(w in line.lower() for w in ("error", "fatal", "eaddrinuse", "failed"))
    ]
    detail = interesting[-1] if interesting else (tail[-1] if tail else "no output")
    how = (
        f"exit code {code}"
        if code is not None and code >= 0
        else (f"signal {-code}" if code is not None else "it exited")
    )
    return f"The gateway stopped ({how}): {detail}"


# What OpenClaw's /readyz lists as "failing" when a channel cannot connect (a refused token, an
# unreachable service): the gateway itself serves; the channel's own status says what is wrong.
CHANNEL_IDS = frozenset({"telegram", "discord", "slack", "whatsapp", "signal"})


def core_ready(status_code: int, body: Any) -> bool:
    """Ready, or only channels failing (which must not stop the gateway from running its bots)."""
    if not isinstance(body, dict):
        return False
    if status_code == 200 and body.get("ready") is True:
        return True
    failing = body.get("failing")
    return status_code == 503 and isinstance(failing, list) and bool(failing) and set(failing) <= CHANNEL_IDS


class Supervisor:
    """Runs local gateway processes and reports their exits to `on_exit`."""

    def __init__(self, settings: Settings, on_exit: Callable[[ProcessExit], None]) -> None:
        self.settings = settings
        self._on_exit = on_exit
        self.processes: dict[int, GatewayProcess] = {}
        self.closing = False

    # --- start ---------------------------------------------------------------------------

    async def spawn(self, gateway_id: int, port: int, *, has_channels: bool) -> GatewayProcess:
        """Start `openclaw gateway run` for a gateway whose config file is already written."""
        existing = self.processes.get(gateway_id)
        if existing is not None and existing.alive:
            return existing
        if self.closing:  # stop_all ran: nothing may start a gateway it would not stop
            raise GatewayStartError("ClawNet is stopping.")
        if not self.settings.openclaw_bin.exists():
            raise GatewayStartError(
                f"The OpenClaw CLI is missing at {self.settings.openclaw_bin}: run scripts/bootstrap.sh."
            )
        if not port_is_free(port):
            raise PortInUseError(port, _port_holder(port))
        paths = gateway_paths(self.settings, gateway_id)
        paths.create()
        rotate_if_large(paths.stdout)
        env = openclaw_env(
            self.settings,
            config_path=paths.config,
            state_dir=paths.state,
            home=paths.home,
            has_channels=has_channels,
        )
        # The token stays in the 0600 config file: a command-line flag would show it to `ps`.
        cmd = [str(self.settings.openclaw_bin), "gateway", "run", "--port", str(port), "--bind", "loopback"]
        with paths.stdout.open("ab") as out:
            # Popen returns at once; the exit is watched through a pidfd, not waited for here.
            popen = subprocess.Popen(  # noqa: S603, ASYNC220 (fixed argv, no shell)
                cmd,
                cwd=paths.root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            create_time = psutil.Process(popen.pid).create_time()
        except psutil.Error:
            create_time = time.time()
        proc = GatewayProcess(gateway_id, popen.pid, create_time, port, popen)
        self.processes[gateway_id] = proc
        self._watch(proc)
        log.info("gateway %s started: pid %s port %s", gateway_id, popen.pid, port)
        return proc

    def stray_pids(self) -> list[int]:
        """OpenClaw processes started for this installation (their config lives under our gateways
        folder) that this supervisor does not hold: e.g. spawned by a ClawNet that was killed
        before it could record the PID. Main processes only (each leads its process group)."""
        roots = {str(self.settings.gateways_dir), str(self.settings.gateways_dir.resolve())}
        ours: dict[int, int] = {}
        for ps in psutil.process_iter(["pid", "ppid"]):
            try:
                config = ps.environ().get("OPENCLAW_CONFIG_PATH", "")
                if ps.status() == psutil.STATUS_ZOMBIE:
                    continue
            except psutil.Error:
                continue
            if any(config.startswith(root + os.sep) for root in roots):
                ours[ps.info["pid"]] = ps.info["ppid"]
        known = {proc.pid for proc in self.processes.values()}
        return [pid for pid, ppid in ours.items() if ppid not in ours and pid not in known]

    async def kill_strays(self) -> list[int]:
        """End stray gateway processes (with their helpers) so none runs twice."""
        strays = self.stray_pids()
        for pid in strays:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(os.getpgid(pid), signal.SIGKILL)
        for pid in strays:
            for _ in range(50):
                try:
                    if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                        break
                except psutil.NoSuchProcess:
                    break
                await asyncio.sleep(0.1)
        if strays:
            log.warning("ended %s stray gateway process(es) nobody supervised: %s", len(strays), strays)
        return strays

    def adopt(self, gateway_id: int, pid: int, create_time: float | None, port: int) -> GatewayProcess | None:
        """Take over a gateway process that survived a ClawNet restart, if `pid` is still that
        process: it runs this gateway's config file, or (when its environment cannot be read) it
        started when recorded and is an OpenClaw process. Returns None otherwise.

        The config file decides first because a start time is a wall-clock figure: after an NTP
        step it moves by the step, and a surviving gateway would be restarted, not adopted."""
        config = str(gateway_paths(self.settings, gateway_id).config)
        try:
            ps = psutil.Process(pid)
            if ps.status() == psutil.STATUS_ZOMBIE:
                return None
            described = " ".join([ps.name(), *ps.cmdline()]).lower()
            try:
                runs_ours = ps.environ().get("OPENCLAW_CONFIG_PATH", "") in {config, os.path.realpath(config)}
            except psutil.AccessDenied:
                runs_ours = False
            if not runs_ours and create_time is not None and abs(ps.create_time() - create_time) > 1.0:
                return None  # the PID was reused by another process
        except psutil.Error:
            return None
        if "openclaw" not in described:
            return None
        proc = GatewayProcess(gateway_id, pid, ps.create_time(), port, None)
        self.processes[gateway_id] = proc
        self._watch(proc)
        log.info("gateway %s adopted: pid %s", gateway_id, pid)
        return proc

    def _watch(self, proc: GatewayProcess) -> None:
        loop = asyncio.get_running_loop()
        try:
            proc._pidfd = os.pidfd_open(proc.pid)
        except ProcessLookupError:
            loop.call_soon(self._exited, proc)
            return
        loop.add_reader(proc._pidfd, self._exited, proc)

    def _exited(self, proc: GatewayProcess) -> None:
        if proc.exited.done():
            return
        if proc._pidfd is not None:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(proc._pidfd)
            os.close(proc._pidfd)
            proc._pidfd = None
        code: int | None = None
        if proc.popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = proc.popen.wait(timeout=1)
        event = ProcessExit(
            proc.gateway_id, proc.pid, code, proc.expected_exit, time.monotonic() - proc.started_at
        )
        proc.exited.set_result(event)
        if self.processes.get(proc.gateway_id) is proc:
            del self.processes[proc.gateway_id]
        # Helpers normally follow their parent within ~80 ms; make sure none is left behind.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        log.info(
            "gateway %s exited: pid %s code %s expected %s",
            proc.gateway_id,
            proc.pid,
            code,
            proc.expected_exit,
        )
        self._on_exit(event)

    # --- readiness -----------------------------------------------------------------------

    async def wait_ready(
        self, proc: GatewayProcess, token: str, timeout: float = 120.0, client: GatewayClient | None = None
    ) -> None:
        """Wait until `/readyz` says ready and a protocol handshake succeeds. With `client` (the
        connection ClawNet will keep), its handshake is the one waited for, instead of a
        throwaway one. Raises GatewayStartError (with the reason) if the process exits or time
        runs out."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        url = f"http://127.0.0.1:{proc.port}"
        paths = gateway_paths(self.settings, proc.gateway_id)

        def exited_error() -> GatewayStartError:
            return GatewayStartError(explain_exit(proc.exited.result().exit_code, paths.stdout))

        async with httpx.AsyncClient(timeout=3.0) as http:
            while True:
                if proc.exited.done():
                    raise exited_error()
                if loop.time() > deadline:
                    raise GatewayStartError(f"The gateway did not become ready within {timeout:.0f} s.")
                with contextlib.suppress(httpx.HTTPError, ValueError):
                    response = await http.get(f"{url}/readyz")
                    if core_ready(response.status_code, response.json()):
                        break
                await asyncio.wait({proc.exited}, timeout=0.05)
        if client is not None:
            client.wake()  # it was waiting out a backoff while the port was closed
            connected: asyncio.Future[Any] = asyncio.ensure_future(client.connected.wait())
            waiting: set[asyncio.Future[Any]] = {connected, proc.exited}
            try:
                while not connected.done():
                    await asyncio.wait(waiting, timeout=0.25, return_when=asyncio.FIRST_COMPLETED)
                    if proc.exited.done():
                        raise exited_error()
                    if isinstance(client.last_error, GatewayAuthError):
                        raise GatewayStartError(
                            f"The gateway refused ClawNet's token: {client.last_error.message}"
                        )
                    if loop.time() > deadline:
                        raise GatewayStartError(
                            "The gateway did not complete the protocol handshake in time."
                        )
            finally:
                connected.cancel()
            return
        try:
            conn = await GatewayConnection.open(
                f"ws://127.0.0.1:{proc.port}", token, timeout=max(1.0, deadline - loop.time())
            )
        except GatewayAuthError as exc:
            raise GatewayStartError(f"The gateway refused ClawNet's token: {exc.message}") from None
        except GatewayError as exc:
            if proc.exited.done():
                raise exited_error() from None
            raise GatewayStartError(
                f"The gateway did not complete the protocol handshake: {exc.message}"
            ) from None
        await conn.close()

    # --- stop ----------------------------------------------------------------------------

    async def stop(self, gateway_id: int, grace_s: float = 5.0) -> ProcessExit | None:
        """SIGTERM the gateway's process group; SIGKILL it if it has not exited after `grace_s`
        (a gateway whose channel cannot reach its network can take minutes otherwise)."""
        proc = self.processes.get(gateway_id)
        if proc is None:
            return None
        proc.expected_exit = True
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)
        done, _ = await asyncio.wait({proc.exited}, timeout=grace_s)
        if not done:
            log.warning("gateway %s ignored SIGTERM for %.0f s: SIGKILL", gateway_id, grace_s)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            await asyncio.wait({proc.exited}, timeout=10)
        return proc.exited.result() if proc.exited.done() else None

    async def stop_all(self, grace_s: float = 5.0) -> None:
        """Stop every gateway, and refuse to start any from now on (a start still under way when
        ClawNet stops would otherwise leave a gateway nobody stops)."""
        self.closing = True
        await asyncio.gather(
            *(self.stop(gid, grace_s) for gid in list(self.processes)), return_exceptions=True
        )

    def release(self) -> None:
        """Stop watching every process without stopping it (ClawNet leaves gateways running)."""
        loop = asyncio.get_running_loop()
        for proc in list(self.processes.values()):
            if proc._pidfd is not None:
                with contextlib.suppress(Exception):
                    loop.remove_reader(proc._pidfd)
                os.close(proc._pidfd)
                proc._pidfd = None
        self.processes.clear()

    def kill(self, gateway_id: int) -> None:
        """SIGKILL a hung gateway's process group; its exit is handled like a crash."""
        proc = self.processes.get(gateway_id)
        if proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)

    def tree_rss(self, gateway_id: int) -> int:
        """RSS of a local gateway's whole process group (main process and helpers)."""
        proc = self.processes.get(gateway_id)
        if proc is None:
            return 0
        total = 0
        with contextlib.suppress(psutil.Error):
            main = psutil.Process(proc.pid)
            for p in [main, *main.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += p.memory_info().rss
        return total
