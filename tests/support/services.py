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


class RedisServer:
    """A throwaway Redis that can be stopped and started again on the same port (a fault test's
    outage); `redis_server()` is the plain context manager."""

    def __init__(self) -> None:
        if not Path(REDIS_SERVER).exists():
            raise RuntimeError(
                "redis-server is missing: run scripts/bootstrap.sh --services (make test does)."
            )
        self.port = free_port()
        self.folder = tempfile.mkdtemp(prefix="clawnet-redis-")
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                *("--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"),
                *("--dir", self.folder, "--daemonize", "no", "--loglevel", "warning"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        _wait_for_port(self.port, self.process, "redis-server")

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)
            self.process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """A throwaway Redis; yields its URL."""
    server = RedisServer()
    try:
        server.start()
        yield server.url
    finally:
        server.close()


def _pg_bin(name: str) -> str:
    found = sorted(str(p) for p in Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if not found:
        raise RuntimeError("PostgreSQL is missing: run scripts/bootstrap.sh --services (make test does).")
    return found[-1]


class PostgresServer:
    """A throwaway PostgreSQL cluster with a `clawnet` database. `stop()` and `start()` keep its
    data folder and port (an outage, not a new server); `postgres_server()` is the plain
    context manager."""

    def __init__(self) -> None:
        as_root = os.geteuid() == 0
        self._prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
        self.folder = Path(tempfile.mkdtemp(prefix="clawnet-pg-"))
        if as_root:
            shutil.chown(self.folder, "postgres", "postgres")
        self.data = self.folder / "data"
        subprocess.run(
            [
                *self._prefix,
                _pg_bin("initdb"),
                "-D",
                str(self.data),
                "-U",
                "clawnet",
                "--auth=trust",
                "-E",
                "UTF8",
            ],
            check=True,
            capture_output=True,
        )
        self.port = free_port()
        self.url = f"postgresql+psycopg://clawnet@127.0.0.1:{self.port}/clawnet"
        self.process: subprocess.Popen[bytes] | None = None
        self._created = False

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *self._prefix,
                _pg_bin("postgres"),
                *("-D", str(self.data), "-p", str(self.port)),
                *("-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.folder}"),
                *("-c", "fsync=off", "-c", "max_connections=200"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        _wait_for_port(self.port, self.process, "postgres")
        if not self._created:
            self._create_database()

    def _create_database(self) -> None:
        for _ in range(100):
            created = subprocess.run(
                [_pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "clawnet", "clawnet"],
                capture_output=True,
            )
            if created.returncode == 0:
                self._created = True
                return
            time.sleep(0.1)  # accepting connections a moment after it listens
        raise RuntimeError(f"createdb failed: {created.stderr.decode(errors='replace')}")

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process, signal.SIGINT)  # "fast" shutdown
            self.process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL cluster with a `clawnet` database; yields its SQLAlchemy URL."""
    server = PostgresServer()
    try:
        server.start()
        yield server.url
    finally:
        server.close()
