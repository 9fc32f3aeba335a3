"""`kill -9` of the control plane, then its restart: how long until the bot runs again.

The control plane runs apart (`clawnet controller`, as in a scaled-out installation). Each round:
- it is killed the moment a new bot's gateway process exists (before that gateway is ready), then
  restarted: the time until the bot runs with its desired config (adopted, or ended and started);
- it is killed 0.3 s after a config change of that bot was saved, then restarted: the time until
  the change is applied (hot, to the adopted gateway).
tests/integration/test_controller_crash.py checks what happens; this prints how long it takes.

    .venv/bin/python bench/controller_crash_recovery.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psutil
from _fleet import describe, free_base_port

from clawnet import db
from clawnet.bots.forms import BotInput
from clawnet.bots.providers import ensure_local_echo_provider
from clawnet.bots.service import BotsService
from clawnet.db import session_scope
from clawnet.events import EventBus
from clawnet.models import Bot, Gateway
from clawnet.security import crypto
from clawnet.security.permissions import Principal
from clawnet.settings import PROJECT_ROOT, get_settings
from tests.support.aio import run_async
from tests.support.server import project_env


def gateway_mains(gateways_dir: Path) -> set[int]:
    """Main OpenClaw processes of this installation (as in tests/integration/test_controller_crash.py)."""
    ours: dict[int, int] = {}
    for ps in psutil.process_iter(["pid", "ppid"]):
        try:
            config = ps.environ().get("OPENCLAW_CONFIG_PATH", "")
            zombie = ps.status() == psutil.STATUS_ZOMBIE
        except psutil.Error:
            continue
        if config.startswith(str(gateways_dir)) and not zombie:
            ours[ps.info["pid"]] = ps.info["ppid"]
    return {pid for pid, ppid in ours.items() if ppid not in ours}


def applied(bot_id: int) -> Gateway | None:
    with session_scope() as s:
        bot = s.get(Bot, bot_id)
        gw = s.get(Gateway, bot.gateway_id) if bot and bot.gateway_id else None
        if bot is None or gw is None or bot.actual_status != "running" or gw.actual_status != "running":
            return None
        return gw if gw.applied_config_hash == gw.desired_config_hash != "" else None


def wait_until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.05)
    raise RuntimeError(f"not within {timeout:.0f} s: {what}")


def main(rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="clawnet-bench-") as tmp:
        os.environ.update(
            {
                "CLAWNET_DATA_DIR": tmp,
                "CLAWNET_GATEWAY_BASE_PORT": str(free_base_port()),
                "CLAWNET_ECHO_PORT": str(free_base_port() + 7),
                "CLAWNET_CONTROLLER": "external",
            }
        )
        os.environ.pop("DATABASE_URL", None)
        get_settings.cache_clear()
        db.dispose_engines()
        crypto.set_key_ring(None)
        db.migrate()
        settings = get_settings()
        from clawnet.accounts.service import register

        with session_scope() as s:
            user = register(
                s,
                email="bench@example.com",
                display_name="Bench",
                password="bench-password-1",
                handle="bench",
            )
            admin = Principal.of(user)
            provider_id = ensure_local_echo_provider(s).id
        assert provider_id is not None
        service = BotsService(settings, EventBus(), None)  # writes desired state, like a web worker
        env = {**project_env(), **{k: v for k, v in os.environ.items() if k.startswith("CLAWNET_")}}

        def start() -> subprocess.Popen[bytes]:
            with (Path(tmp) / "controller.log").open("ab") as log:
                return subprocess.Popen(
                    [str(PROJECT_ROOT / ".venv/bin/clawnet"), "controller"],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )

        def kill(proc: subprocess.Popen[bytes]) -> None:
            os.killpg(proc.pid, signal.SIGKILL)  # the controller's group; gateways have their own
            proc.wait(timeout=30)

        def bot_input(name: str, **kw) -> BotInput:  # dedicated: every round spawns a cold gateway
            return BotInput(
                name=name, provider_id=provider_id, model_id="echo-1", placement="dedicated", **kw
            )

        creation, change = [], []
        controller = start()
        try:
            for n in range(rounds):
                before = gateway_mains(settings.gateways_dir)
                bot_id = run_async(service.create_bot(admin, bot_input(f"Phoenix {n}")))
                wait_until(
                    lambda before=before: gateway_mains(settings.gateways_dir) - before,
                    300,
                    "a gateway spawned",
                )
                kill(controller)
                restarted = time.perf_counter()
                controller = start()
                gw = wait_until(lambda bot_id=bot_id: applied(bot_id), 600, "the bot runs again")
                creation.append(time.perf_counter() - restarted)

                old_hash = gw.desired_config_hash
                with session_scope() as s:
                    agent_id = s.get(Bot, bot_id).agent_id  # type: ignore[union-attr]
                run_async(
                    service.update_bot(
                        admin,
                        bot_id,
                        bot_input(f"Phoenix {n} II", agent_id=agent_id, persona=f"Persona {n}."),
                    )
                )
                time.sleep(0.3)
                kill(controller)
                restarted = time.perf_counter()
                controller = start()
                wait_until(
                    lambda bot_id=bot_id, old=old_hash: (
                        (g := applied(bot_id)) is not None and g.desired_config_hash != old
                    ),
                    600,
                    "the change is applied",
                )
                change.append(time.perf_counter() - restarted)
                print(
                    f"round {n + 1}/{rounds}: killed during a creation -> running {creation[-1]:.1f} s; "
                    f"killed after a change -> applied {change[-1]:.1f} s",
                    flush=True,
                )
                run_async(service.delete_bot(admin, bot_id, delete_data=True))  # one gateway at a time
            print(
                describe(
                    "controller kill -9 during a bot creation -> restart -> bot running",
                    creation,
                    unit="s",
                    scale=1.0,
                )
            )
            print(
                describe(
                    "controller kill -9 after a config change -> restart -> change applied",
                    change,
                    unit="s",
                    scale=1.0,
                )
            )
        finally:
            controller.send_signal(signal.SIGTERM)  # a graceful stop ends the gateways too
            try:
                controller.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(controller.pid, signal.SIGKILL)
                controller.wait()
            for pid in gateway_mains(settings.gateways_dir):
                os.killpg(pid, signal.SIGKILL)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    main(parser.parse_args().rounds)
