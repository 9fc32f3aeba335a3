"""Production start without rebuilding an unchanged frontend (used by scripts/run.sh).

`reflex run --env prod` compiles the pages and runs the frontend build (~15 s) on every start,
even when nothing changed. Split in two:

  prod_frontend.py build PORT       builds .web/build (`reflex export --frontend-only --no-zip`)
                                    unless its stamp says the build is current
  prod_frontend.py serve PORT HOST  serves that build and the backend on one port, as
                                    `reflex run --env prod --single-port` does after its build

The stamp (.web/build/clawnet-stamp; every Reflex build deletes .web/build first, so a build made
by anything else drops it) holds two hashes:
  inputs   every file under clawnet/ and assets/ (not assets/external/, which the compile derives),
           rxconfig.py, reflex.lock/ (JSON by content: Reflex reformats package.json), every
           installed Python distribution and version (reflex, its component packages), bun's pin
           (tools/package-lock.json), this script, the Python version, the port, the ClawNet
           settings rxconfig.py passes to Reflex (port, host, public URL) and every REFLEX_*,
           VITE_* and NODE_* environment variable but the backend's Redis URL;
  outputs  what the backend reads from .web at run time (.web/backend/, .web/routes.json) and the
           built index.html, so a `make dev` or test run that recompiled .web in between also
           forces a rebuild.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / ".web"
STAMP = WEB / "build" / "clawnet-stamp"
ENV_PREFIXES = ("REFLEX_", "VITE_", "NODE_")
# Read by the backend only (the state manager's Redis): a new one needs no frontend build.
BACKEND_ONLY_ENV = ("REFLEX_REDIS_URL",)
# The ClawNet settings that reach the compiled frontend (through rxconfig.py); the others (data
# folder, gateway ports, limits...) are read at run time only and need no rebuild. Pages never read
# settings while they are compiled (they reach them through services, at run time).
FRONTEND_SETTINGS = ("CLAWNET_PORT", "CLAWNET_BACKEND_PORT", "CLAWNET_HOST", "CLAWNET_PUBLIC_URL")


def _add_tree(h: hashlib._Hash, top: Path, skip: tuple[str, ...] = ()) -> None:
    if not top.exists():
        h.update(f"missing {top.name}\n".encode())
        return
    for path in sorted(top.rglob("*")):
        rel = path.relative_to(ROOT).as_posix()
        if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".pyc":
            continue
        if rel.startswith(skip):
            continue
        data = path.read_bytes()
        if path.suffix == ".json" and rel.startswith("reflex.lock/"):
            data = json.dumps(json.loads(data), sort_keys=True).encode()
        h.update(f"{rel}\0{len(data)}\0".encode())
        h.update(data)


def inputs_hash(port: str) -> str:
    h = hashlib.sha256()
    _add_tree(h, ROOT / "clawnet")
    _add_tree(h, ROOT / "assets", skip=("assets/external/",))
    _add_tree(h, ROOT / "reflex.lock")
    for name in ("rxconfig.py", "tools/package-lock.json", "scripts/prod_frontend.py"):
        path = ROOT / name
        h.update(name.encode() + b"\0" + (path.read_bytes() if path.exists() else b"missing"))
    dists = sorted({f"{d.metadata['Name']}=={d.version}" for d in metadata.distributions()})
    h.update("\n".join(dists).encode())
    env = sorted(
        (k, v)
        for k, v in os.environ.items()
        if (k.startswith(ENV_PREFIXES) or k in FRONTEND_SETTINGS) and k not in BACKEND_ONLY_ENV
    )
    h.update(json.dumps([sys.version, port, env]).encode())
    return h.hexdigest()


def outputs_hash() -> str:
    h = hashlib.sha256()
    for path in [*sorted((WEB / "backend").glob("*")), WEB / "routes.json", WEB / "build/client/index.html"]:
        h.update(path.name.encode() + b"\0" + (path.read_bytes() if path.is_file() else b"missing"))
    return h.hexdigest()


def build(port: str) -> None:
    inputs = inputs_hash(port)
    try:
        if STAMP.read_text().split() == [inputs, outputs_hash()]:
            print("[run] frontend unchanged since its last build: not rebuilding")
            return
    except OSError:
        pass
    # The same compile and build `reflex run --env prod --single-port` does, for the same port.
    env = {**os.environ, "REFLEX_FRONTEND_PORT": port, "REFLEX_BACKEND_PORT": port}
    done = subprocess.run(
        [sys.executable, "-m", "reflex", "export", "--frontend-only", "--no-zip", "--env", "prod"],
        cwd=ROOT,
        env=env,
    )
    if done.returncode != 0:
        sys.exit(done.returncode)
    # `inputs` was taken before the build: a file edited during it changes the next hash.
    STAMP.write_text(f"{inputs}\n{outputs_hash()}\n")


def serve(port: str, host: str) -> None:
    """What `reflex run --env prod --single-port` does once its build is done (reflex/reflex.py
    `_run` and `_run_prod`, Reflex 0.10.1), without compiling anything in this process."""
    import atexit

    sys.path.insert(0, str(ROOT))
    from reflex_base import constants
    from reflex_base.config import get_config
    from reflex_base.environment import environment
    from reflex_base.utils import log

    log.enable_managed_logging()
    environment.REFLEX_COMPILE_CONTEXT.set(constants.CompileContext.RUN)
    environment.REFLEX_ENV_MODE.set(constants.Env.PROD)
    environment.REFLEX_SKIP_COMPILE.set(True)
    config = get_config()
    config._set_persistent(frontend_port=int(port), backend_port=int(port), backend_host=host)

    from reflex.istate.manager import reset_disk_state_manager
    from reflex.utils import exec, processes

    reset_disk_state_manager()
    processes.handle_port("app", int(port), auto_increment=False)
    atexit.register(processes.atexit_handler)
    exec.notify_app_running()
    exec.notify_frontend(f"http://{host}:{port}", backend_present=True)
    exec.run_backend_prod(
        host, int(port), config.loglevel.subprocess_level(), mount_frontend_compiled_app=True
    )


if __name__ == "__main__":
    os.chdir(ROOT)
    match sys.argv[1:]:
        case ["build", port]:
            build(port)
        case ["serve", port, host]:
            serve(port, host)
        case _:
            sys.exit(__doc__)
