"""Two ClawNet instances on loopback that federate with each other.

Each instance is a real ClawNet backend process (Reflex's production backend, Granian serving
`clawnet.clawnet:app` with its lifespan: `runtime.start`, whose leader runs the delivery worker)
with its own data folder, SQLite database, port and public URL. No frontend is built or served:
federation needs only the HTTP routes, and a second full ClawNet would rebuild the frontend for its
own port (the built frontend has its port baked in; see tests/support/server.py).

    with federation_pair(tmp) as (a, b):
        a.url, b.url                      http://127.0.0.1:<port>
        a.stop(); a.start()               the same data folder and port again

Where ClawNet has no HTTP API for something a person does in the UI (an admin blocking a host),
`Instance.call` runs the same service method the UI's event handler calls, as that person, inside
the instance's own process: the harness serves ClawNet's ASGI app with one extra route in front,
POST /_test/console, refused without a secret only the harness knows. (A separate process with
the instance's settings works too but pays ~13 s of imports per call on this machine, and its
events would not reach the instance's bus.)

Started and stopped by process group (the child's PID), never by name.

Run it by hand to see an instance start (and how long it takes):
    .venv/bin/python -m tests.support.federation_pair
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import Session

from clawnet.settings import PROJECT_ROOT
from tests.support.server import (
    SCALEOUT,
    SCALEOUT_WORKERS,
    database_session,
    free_port,
    free_port_range,
    http_get,
    project_env,
)

PYTHON = str(PROJECT_ROOT / ".venv/bin/python")
CONSOLE_PATH = "/_test/console"
CONSOLE_HEADER = "X-Test-Console"
CONSOLE_ENV = "CLAWNET_TEST_CONSOLE_SECRET"


@dataclass
class Instance:
    """One ClawNet backend on 127.0.0.1:`port`, restartable on the same folder and port."""

    name: str
    port: int
    data_dir: Path
    extra_env: Mapping[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    start_seconds: float = 0.0  # how long the last start took, to a 200 on /healthz

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        """This instance's fediverse host (the netloc of its public URL)."""
        return f"127.0.0.1:{self.port}"

    @property
    def database_url(self) -> str:
        return self.extra_env.get("DATABASE_URL") or f"sqlite:///{self.data_dir / 'clawnet.db'}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "clawnet-server.log"

    def env(self) -> dict[str, str]:
        env = {
            **project_env(),
            "CLAWNET_DATA_DIR": str(self.data_dir),
            "CLAWNET_PORT": str(self.port),
            "CLAWNET_BACKEND_PORT": str(self.port),
            "CLAWNET_HOST": "127.0.0.1",
            "CLAWNET_PUBLIC_URL": self.url,
            "CLAWNET_FEDERATION": "true",
            "CLAWNET_FEDERATION_ALLOW_PRIVATE": "true",
            "CLAWNET_WARM_SPARES": "0",
            # The delivery worker's first retry (1 min by default) in seconds, once runtime reads
            # it; until then a failed delivery is retried after a minute and the test waits.
            "CLAWNET_FEDERATION_RETRY_S": "5",
            "CLAWNET_ECHO_PORT": str(self._echo_port),
            "CLAWNET_GATEWAY_BASE_PORT": str(self._gateway_base),
            "PYTHONPATH": str(PROJECT_ROOT),
            "GRANIAN_WORKERS": "1",
            CONSOLE_ENV: self._console_token,
            **self.extra_env,
        }
        for name in ("DATABASE_URL", "REFLEX_REDIS_URL", "CLAWNET_SECRET_KEY", "CLAWNET_KEY_FILE"):
            if name not in self.extra_env:
                env.pop(name, None)
        return env

    def __post_init__(self) -> None:
        self._echo_port = free_port()
        self._gateway_base = free_port_range()
        self._console_token = secrets.token_urlsafe(24)

    # --- life -------------------------------------------------------------------------------

    def start(self, timeout_s: float = 90.0) -> None:
        if self.process is not None and self.process.poll() is None:
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        began = time.monotonic()
        with self.log_path.open("ab") as log:
            log.write(f"\n--- start {time.strftime('%H:%M:%S')} ---\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                [PYTHON, "-m", "tests.support.federation_pair", "serve", str(self.port)],
                cwd=PROJECT_ROOT,
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = began + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"ClawNet {self.name} exited with {self.process.returncode} while starting:\n"
                    + self.log_tail()
                )
            with contextlib.suppress(OSError):
                if http_get(f"{self.url}/healthz")[0] == 200:
                    self.start_seconds = time.monotonic() - began
                    return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"ClawNet {self.name} did not answer within {timeout_s:.0f} s:\n{self.log_tail()}")

    def stop(self, grace_s: float = 20.0) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        # Anything left in the group (a Granian worker that outlived its parent) goes too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        _wait_port_closed(self.port)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @contextlib.contextmanager
    def db(self) -> Iterator[Session]:
        """A session on this instance's database (as an operator at its console); commits."""
        with database_session(self.database_url) as session:
            yield session

    def log_tail(self, lines: int = 80) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    # --- acting as someone where there is no HTTP API ----------------------------------------

    def call(self, email: str | None, expression: str, **values: Any) -> Any:
        """`await <expression>` inside this instance's own process (its event loop, runtime and
        bus, as a page's event handler runs), returning its result as JSON. In the expression:
        `actor` (the Principal of the user with `email`, or None), `runtime` (clawnet.runtime),
        `values` (the keyword arguments). Reached through the console route only this harness
        mounts (see `console_app`), with this instance's secret."""
        response = httpx.post(
            self.url + CONSOLE_PATH,
            json={"email": email, "expression": expression, "values": values},
            headers={CONSOLE_HEADER: self._console_token},
            timeout=120,
        )
        if response.status_code != 200:
            raise RuntimeError(f"{self.name}: {expression} failed ({response.status_code}):\n{response.text}")
        return response.json()["result"]


def _wait_port_closed(port: int, timeout_s: float = 10.0) -> None:
    from tests.support.server import _port_free

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not _port_free(port):
        time.sleep(0.1)


@contextlib.contextmanager
def federation_pair(
    root: Path, env_a: Mapping[str, str] | None = None, env_b: Mapping[str, str] | None = None
) -> Iterator[tuple[Instance, Instance]]:
    """Instances "a" and "b" under `root`, both started (one after the other: two cores) and both
    stopped at the end whatever happens. With CLAWNET_TEST_SCALEOUT=1 (as tests/support/server.py),
    each runs on its own throwaway PostgreSQL and Redis with two web workers."""
    with contextlib.ExitStack() as services:
        envs = [dict(env_a or {}), dict(env_b or {})]
        if SCALEOUT:
            from tests.support.services import postgres_server, redis_server

            for env in envs:
                env.setdefault("DATABASE_URL", services.enter_context(postgres_server()))
                env.setdefault("REFLEX_REDIS_URL", services.enter_context(redis_server()))
                env.setdefault("GRANIAN_WORKERS", SCALEOUT_WORKERS)
        a = Instance("a", free_port(), root / "a", envs[0])
        b = Instance("b", _other_port(a.port), root / "b", envs[1])
        try:
            a.start()
            b.start()
            yield a, b
        finally:
            b.stop()
            a.stop()


def _other_port(taken: int) -> int:
    while (port := free_port()) == taken:
        pass
    return port


# --- the child processes ---------------------------------------------------------------------


def serve(port: int) -> None:
    """Reflex's production backend alone on 127.0.0.1:`port`: what `scripts/prod_frontend.py serve`
    does, without mounting a built frontend (so none is needed), serving `console_app`."""
    sys.path.insert(0, str(PROJECT_ROOT))
    os.chdir(PROJECT_ROOT)
    from reflex_base import constants
    from reflex_base.config import get_config
    from reflex_base.environment import environment
    from reflex_base.utils import log

    log.enable_managed_logging()
    environment.REFLEX_COMPILE_CONTEXT.set(constants.CompileContext.RUN)
    environment.REFLEX_ENV_MODE.set(constants.Env.PROD)
    environment.REFLEX_SKIP_COMPILE.set(True)
    environment.REFLEX_MOUNT_FRONTEND_COMPILED_APP.set(False)
    config = get_config()
    config._set_persistent(frontend_port=port, backend_port=port, backend_host="127.0.0.1")

    from reflex.istate.manager import reset_disk_state_manager
    from reflex.utils import exec

    reset_disk_state_manager()
    exec.run_granian_backend_prod(
        "127.0.0.1",
        port,
        config.loglevel.subprocess_level(),
        app_target="tests.support.federation_pair:console_app",
    )


def console_app() -> Any:
    """ClawNet's ASGI app (what Granian serves from `clawnet.clawnet:app`), with one more route in
    front for `Instance.call`: POST /_test/console, refused without the instance's secret."""
    from starlette.requests import Request
    from starlette.responses import JSONResponse

    from clawnet.clawnet import app

    inner = app()
    secret = os.environ[CONSOLE_ENV]

    async def console(scope: Any, receive: Any, send: Any) -> None:
        request = Request(scope, receive)
        if not secrets.compare_digest(request.headers.get(CONSOLE_HEADER, ""), secret):
            await JSONResponse({"error": "forbidden"}, status_code=403)(scope, receive, send)
            return
        try:
            result = await _run_console(json.loads(await request.body()))
        except Exception:
            import traceback

            await JSONResponse({"error": traceback.format_exc()}, status_code=500)(scope, receive, send)
            return
        await JSONResponse({"result": _plain(result)})(scope, receive, send)

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == CONSOLE_PATH and scope["method"] == "POST":
            await console(scope, receive, send)
        else:
            await inner(scope, receive, send)

    return asgi


async def _run_console(request: dict[str, Any]) -> Any:
    from sqlmodel import select

    from clawnet import runtime
    from clawnet.db import run_in_session
    from clawnet.models import User
    from clawnet.security.permissions import Principal

    def principal(session: Session) -> Principal:
        user = session.exec(select(User).where(User.email == request["email"])).one()
        return Principal.of(user)

    actor = await run_in_session(principal) if request["email"] else None
    namespace = {"actor": actor, "runtime": runtime, "values": request["values"]}
    return await eval(request["expression"], namespace)  # noqa: S307 (the test's own expression)


def _plain(value: Any) -> Any:
    import dataclasses

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _demo() -> None:
    """Start two instances, check /healthz on both, stop them, and say how long each step took."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="clawnet-pair-") as tmp:
        began = time.monotonic()
        with federation_pair(Path(tmp)) as (a, b):
            for inst in (a, b):
                status, body = http_get(f"{inst.url}/healthz")
                print(
                    f"{inst.name}: {inst.url} started in {inst.start_seconds:.1f} s; /healthz {status} {body!r}"
                )
            stopping = time.monotonic()
        print(f"both stopped in {time.monotonic() - stopping:.1f} s; total {time.monotonic() - began:.1f} s")


if __name__ == "__main__":
    match sys.argv[1:]:
        case ["serve", port]:
            serve(int(port))
        case []:
            _demo()
        case _:
            sys.exit(__doc__)
