"""Real Redis and PostgreSQL servers from Debian's packages (installed by `scripts/bootstrap.sh
--services`), started by the tests on a loopback port in a temporary folder and stopped by their
PID. PostgreSQL refuses to run as root, so as root it runs as the `postgres` system user."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from tests.support.server import free_port

REDIS_SERVER = "/usr/bin/redis-server"


def _wait_for_port(port: int, process: subprocess.Popen[bytes], what: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode} while starting")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on port {port} within {timeout_s:.0f} s")


def _stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """A throwaway Redis; yields its URL."""
    if not Path(REDIS_SERVER).exists():
        raise RuntimeError("redis-server is missing: run scripts/bootstrap.sh --services (make test does).")
    port = free_port()
    folder = tempfile.mkdtemp(prefix="clawnet-redis-")
    process = subprocess.Popen(
        [
            REDIS_SERVER,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            folder,
            "--daemonize",
            "no",
            "--loglevel",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_for_port(port, process, "redis-server")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop(process)
        shutil.rmtree(folder, ignore_errors=True)


def _pg_bin(name: str) -> str:
    found = sorted(str(p) for p in Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if not found:
        raise RuntimeError("PostgreSQL is missing: run scripts/bootstrap.sh --services (make test does).")
    return found[-1]


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL cluster with a `clawnet` database; yields its SQLAlchemy URL."""
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    folder = Path(tempfile.mkdtemp(prefix="clawnet-pg-"))
    if as_root:
        shutil.chown(folder, "postgres", "postgres")
    data = folder / "data"
    subprocess.run(
        [*prefix, _pg_bin("initdb"), "-D", str(data), "-U", "clawnet", "--auth=trust", "-E", "UTF8"],
        check=True,
        capture_output=True,
    )
    port = free_port()
    process = subprocess.Popen(
        [
            *prefix,
            _pg_bin("postgres"),
            "-D",
            str(data),
            "-p",
            str(port),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            f"unix_socket_directories={folder}",
            "-c",
            "fsync=off",
            "-c",
            "max_connections=200",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_for_port(port, process, "postgres")
        for _ in range(100):
            created = subprocess.run(
                [_pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "clawnet", "clawnet"],
                capture_output=True,
            )
            if created.returncode == 0:
                break
            time.sleep(0.1)  # accepting connections a moment after it listens
        else:
            raise RuntimeError(f"createdb failed: {created.stderr.decode(errors='replace')}")
        yield f"postgresql+psycopg://clawnet@127.0.0.1:{port}/clawnet"
    finally:
        _stop(process, signal.SIGINT)  # "fast" shutdown
        shutil.rmtree(folder, ignore_errors=True)
