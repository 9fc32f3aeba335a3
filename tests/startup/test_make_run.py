"""`make run` (scripts/run.sh) as a person uses it: the first start builds the frontend, a
restart with nothing changed serves the existing build instead of rebuilding it, a changed page
is rebuilt, and no start compiles the pages twice ("Page ... is being redefined"). How fast a
warm restart is, is a figure for bench/startup.py, not for this test."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from clawnet.settings import PROJECT_ROOT
from tests.support.server import free_port, free_port_range, http_get, project_env

pytestmark = pytest.mark.e2e

NOT_REBUILT = "frontend unchanged since its last build: not rebuilding"


def installation(data_dir: Path, port: int) -> dict[str, str]:
    """The environment of one installation, the same at every start (as a person's shell is)."""
    env = {
        **project_env(),
        "CLAWNET_DATA_DIR": str(data_dir),
        "CLAWNET_PORT": str(port),
        "CLAWNET_HOST": "127.0.0.1",
        "CLAWNET_ECHO_PORT": str(free_port()),
        "CLAWNET_GATEWAY_BASE_PORT": str(free_port_range()),
    }
    env.pop("DATABASE_URL", None)
    return env


@contextlib.contextmanager
def make_run(env: dict[str, str], port: int, log: Path) -> Iterator[str]:
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["make", "run"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()[-3000:]
            with contextlib.suppress(OSError):
                if (
                    http_get(f"http://127.0.0.1:{port}/healthz")[0] == 200
                    and http_get(f"http://127.0.0.1:{port}/login")[0] == 200
                ):
                    break
            time.sleep(0.3)
        else:
            pytest.fail("make run did not serve within 300 s:\n" + log.read_text()[-3000:])
        yield log.read_text()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


def test_a_restart_with_nothing_changed_serves_the_existing_build_and_compiles_pages_once(tmp_path):
    port = free_port()
    env = installation(tmp_path / "data", port)
    with make_run(env, port, tmp_path / "first.log") as first:
        assert NOT_REBUILT not in first  # a new port: built once
    with make_run(env, port, tmp_path / "second.log") as second:
        assert NOT_REBUILT in second
    for output in (first, second):
        assert "is being redefined" not in output
