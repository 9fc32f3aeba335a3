"""How long ClawNet takes to serve after `make run`: cold (a first build of the frontend for this
port) and warm (nothing changed: the build is reused), next to the plain way of starting a Reflex
app in production (`reflex run --env prod --single-port`, which rebuilds every time), measured in
the same run. Serving = `/healthz` and `/login` both answer 200.

    .venv/bin/python bench/startup.py [--warm 3]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.server import free_port, free_port_range, http_get, project_env

ROOT = Path(__file__).resolve().parent.parent


def serve_time(cmd: list[str], data_dir: Path, port: int, log: Path) -> float:
    env = {
        **project_env(),
        "CLAWNET_DATA_DIR": str(data_dir),
        "CLAWNET_PORT": str(port),
        "CLAWNET_HOST": "127.0.0.1",
        "CLAWNET_ECHO_PORT": str(free_port()),
        "CLAWNET_GATEWAY_BASE_PORT": str(free_port_range()),
    }
    env.pop("DATABASE_URL", None)
    started = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{cmd} exited:\n{log.read_text()[-2000:]}")
            with contextlib.suppress(OSError):
                url = f"http://127.0.0.1:{port}"
                if http_get(f"{url}/healthz")[0] == 200 and http_get(f"{url}/login")[0] == 200:
                    return time.perf_counter() - started
            time.sleep(0.05)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--warm", type=int, default=3, help="warm restarts to time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="clawnet-bench-startup-") as tmp:
        root = Path(tmp)
        port = free_port()
        make_run = ["make", "run"]
        plain = [
            str(ROOT / ".venv/bin/reflex"), "run", "--env", "prod", "--single-port",
            "--frontend-port", str(port), "--backend-port", str(port), "--backend-host", "127.0.0.1",
        ]  # fmt: skip
        cold = serve_time(make_run, root / "data", port, root / "cold.log")
        warm = [serve_time(make_run, root / "data", port, root / f"warm{n}.log") for n in range(args.warm)]
        plains = [serve_time(plain, root / "data", port, root / f"plain{n}.log") for n in range(2)]
        # The plain run rebuilt the frontend its own way: the next make run builds once more.
        redefined = sum(
            (root / name).read_text().count("is being redefined") for name in ("cold.log", "warm0.log")
        )
        plain_redefined = (root / "plain0.log").read_text().count("is being redefined")
    print(f"make run, cold (frontend built for this port): {cold:.1f} s")
    print(f"make run, warm (nothing changed): {', '.join(f'{w:.1f}' for w in warm)} s")
    print(
        f"reflex run --env prod --single-port (rebuilds every time): {', '.join(f'{p:.1f}' for p in plains)} s"
    )
    print(f"'Page ... is being redefined' lines: make run {redefined}, plain reflex run {plain_redefined}")


if __name__ == "__main__":
    main()
