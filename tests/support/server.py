"""Run ClawNet exactly as `scripts/run.sh` does (the frontend built for the port unless it is
current, then served with the backend on one port), as a child process with its own data folder
on a free loopback port. It is stopped by its process
group id (the child's PID), never by name, so nothing it started outlives the test."""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import event
from sqlmodel import Session, create_engine

from clawnet.settings import PROJECT_ROOT

# Ports handed to servers we start are picked below Linux's ephemeral range (32768+), where the
# kernel never puts a socket bound to port 0 (a fake server, an outgoing connection): a port chosen
# here and bound a moment later cannot be taken in between by one of those. Single ports and
# gateway ranges come from separate bands so they cannot overlap either.
SINGLE_PORTS = (12000, 20000)
GATEWAY_PORTS = (20000, 31500)  # leaves room above a base for several gateways


def free_port() -> int:
    import random

    for _ in range(500):
        port = random.randrange(*SINGLE_PORTS)
        if port != PREFERRED_CLAWNET_PORT and _port_free(port):
            return port
    raise RuntimeError("no free port")


def free_port_range(spacing: int = 120) -> int:
    """A base port with the ~110 ports a gateway uses above it free."""
    import random

    for _ in range(200):
        base = random.randrange(GATEWAY_PORTS[0], GATEWAY_PORTS[1], spacing)
        if all(_port_free(base + offset) for offset in (0, 1, 2, 3, spacing, spacing + 2)):
            return base
    raise RuntimeError("no free port range")


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def http_get(url: str, timeout: float = 2.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 (loopback test URL)
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


SCALEOUT = os.environ.get("CLAWNET_TEST_SCALEOUT") == "1"
SCALEOUT_WORKERS = "2"


@dataclass
class ClawNetServer:
    url: str
    port: int
    data_dir: Path
    log_path: Path
    process: subprocess.Popen[bytes]
    database_url: str = ""
    services: contextlib.ExitStack | None = None
    stops_gateways: bool = True  # CLAWNET_STOP_GATEWAYS_ON_EXIT as this server had it

    def log_tail(self, lines: int = 60) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self, grace_s: float = 20.0) -> None:
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        # Anything left in the group (a worker that outlived its parent) goes too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        if self.stops_gateways:
            self._end_leftover_gateways()
        if self.services is not None:
            self.services.close()

    def _end_leftover_gateways(self) -> None:
        """Gateways (each in its own process group) that outlived a server which should have
        stopped them: its web worker can die on the way out (a Granian panic was seen with 50
        sockets open) before its shutdown stops them. Ended by PID."""
        for pid in gateway_pids(self.data_dir):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(os.getpgid(pid), signal.SIGKILL)

    def kill_hard(self) -> None:
        """`kill -9` of ClawNet's own processes (the group), as a crash would."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


def gateway_pids(data_dir: Path) -> list[int]:
    """The running OpenClaw gateways of the ClawNet installation in `data_dir` (found by their
    state folder)."""
    import psutil

    pids = []
    for proc in psutil.process_iter(["name"]):
        with contextlib.suppress(psutil.Error):
            if proc.info["name"] == "openclaw-gateway" and proc.environ().get(
                "OPENCLAW_STATE_DIR", ""
            ).startswith(str(data_dir)):
                pids.append(proc.pid)
    return pids


def project_env() -> dict[str, str]:
    """This environment with `scripts/env.sh` applied (Node 24, bun and openclaw first on PATH),
    so a test run straight from pytest starts ClawNet the way `make run` does."""
    out = subprocess.run(
        ["bash", "-c", 'source "$1" && env -0', "env", str(PROJECT_ROOT / "scripts/env.sh")],
        check=True,
        capture_output=True,
    ).stdout
    return dict(item.decode().split("=", 1) for item in out.split(b"\0") if b"=" in item)


def start_clawnet(
    data_dir: Path, env: Mapping[str, str] | None = None, timeout_s: float = 180.0
) -> ClawNetServer:
    """Start ClawNet on SQLite with one worker; with CLAWNET_TEST_SCALEOUT=1, on its own fresh
    PostgreSQL and Redis with several workers (the scale-out mode the e2e suite also runs in)."""
    services = contextlib.ExitStack()
    env = dict(env or {})
    if SCALEOUT and "DATABASE_URL" not in env:
        from tests.support.services import postgres_server, redis_server

        env["DATABASE_URL"] = services.enter_context(postgres_server())
        env["REFLEX_REDIS_URL"] = services.enter_context(redis_server())
        env.setdefault("GRANIAN_WORKERS", SCALEOUT_WORKERS)
    try:
        return _start_clawnet(data_dir, env, timeout_s, services)
    except BaseException:
        services.close()
        raise


# The port test ClawNets listen on (see clawnet_port), never handed out by free_port.
PREFERRED_CLAWNET_PORT = (
    SINGLE_PORTS[0] + int(hashlib.sha256(str(PROJECT_ROOT).encode()).hexdigest(), 16) % 1000
)
_run_port = PREFERRED_CLAWNET_PORT


def clawnet_port() -> int:
    """The port every ClawNet of this checkout's test runs listens on. The built frontend has its
    port baked in and all test servers share one .web (so they run one at a time anyway): on one
    port it is built once, not once per server (~30 s each, ~4 s to start when current). The port
    is derived from the checkout's path, so two checkouts do not share one; when it is taken by
    something else, a free one is used for the rest of the run."""
    global _run_port
    deadline = time.monotonic() + 10  # the previous server's socket may still be closing
    while not _port_free(_run_port):
        if time.monotonic() > deadline:
            _run_port = free_port()
            break
        time.sleep(0.2)
    return _run_port


def _start_clawnet(
    data_dir: Path, env: dict[str, str], timeout_s: float, services: contextlib.ExitStack
) -> ClawNetServer:
    port = clawnet_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "clawnet-server.log"
    child_env = {
        **project_env(),
        "CLAWNET_DATA_DIR": str(data_dir),
        "CLAWNET_PORT": str(port),
        "CLAWNET_HOST": "127.0.0.1",
        # Own ports for the echo model and gateways: never the ones a developer's ClawNet uses.
        "CLAWNET_ECHO_PORT": str(free_port()),
        "CLAWNET_GATEWAY_BASE_PORT": str(free_port_range()),
        **env,
    }
    if "DATABASE_URL" not in env:
        child_env.pop("DATABASE_URL", None)  # the server's own data folder, not the caller's
    python = str(PROJECT_ROOT / ".venv/bin/python")
    cmd = [
        "bash",
        "-c",
        '"$0" scripts/prod_frontend.py build "$1" && exec "$0" scripts/prod_frontend.py serve "$1" 127.0.0.1',
        python,
        str(port),
    ]
    log = log_path.open("wb")
    process = subprocess.Popen(
        cmd,
        cwd=PROJECT_ROOT,
        env=child_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    log.close()
    database_url = env.get("DATABASE_URL") or f"sqlite:///{data_dir / 'clawnet.db'}"
    stops = child_env.get("CLAWNET_STOP_GATEWAYS_ON_EXIT", "").strip().lower() in {"1", "true", "yes", "on"}
    server = ClawNetServer(
        f"http://127.0.0.1:{port}", port, data_dir, log_path, process, database_url, services, stops
    )
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"ClawNet exited with {process.returncode} while starting:\n{server.log_tail()}"
            )
        with contextlib.suppress(OSError):
            status, _ = http_get(f"{server.url}/healthz")
            page_status, _ = http_get(f"{server.url}/login")
            if status == 200 and page_status == 200:
                return server
        time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"ClawNet did not answer within {timeout_s:.0f} s:\n{server.log_tail()}")


@contextlib.contextmanager
def running_clawnet(data_dir: Path, env: Mapping[str, str] | None = None) -> Iterator[ClawNetServer]:
    server = start_clawnet(data_dir, env)
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def database_session(database_url: str) -> Iterator[Session]:
    """A session on a running ClawNet's database from outside it (foreign keys on, as ClawNet
    has them); commits at the end."""
    if database_url.startswith("sqlite"):
        engine = create_engine(database_url, connect_args={"timeout": 30})
        event.listen(engine, "connect", lambda conn, _r: conn.execute("PRAGMA foreign_keys=ON"))
    else:
        engine = create_engine(database_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            yield session
            session.commit()
    finally:
        engine.dispose()
