"""People write to a bot on Telegram without pause while ClawNet restarts: how many messages go
unanswered, how late the answers come, and how long ClawNet takes to serve pages again.

Two rounds in one run, on the same machine, each on a fresh installation:
- "gateways kept" (the default): ClawNet leaves its gateways running when it stops and adopts
  them when it starts;
- "gateways stopped" (CLAWNET_STOP_GATEWAYS_ON_EXIT=true, the old behaviour): the gateways stop
  with ClawNet and start again with it.
Each round runs a real ClawNet server (as `make run` starts it), one bot on the Telegram channel
(the fake Bot API on loopback) answering through the echo model, which runs as its own process
(`clawnet fake-llm`) as a real model provider would, so a ClawNet restart does not take it down.
`--users` people each send a message every `--interval` seconds for `--duration` seconds;
ClawNet is stopped (SIGTERM) and started again a third of the way in. Then every message gets up
to 180 s to be answered. The frontend is current, so a start does not rebuild it (the "code has
not changed" case). At the end the kept gateways are ended with `clawnet stop-gateways`.

    .venv/bin/python bench/restart_through.py [--users 3] [--interval 4] [--duration 60]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.fake_telegram import FakeTelegram
from tests.support.server import ClawNetServer, free_port, http_get, project_env, start_clawnet

TOKEN = "123456789:AAH0f2l4xmPBtRestartBenchToken_abcdefg"
FIRST_USER = 700_000_000


@dataclass
class Message:
    user: int
    text: str
    sent_at: float
    during_restart: bool
    answered_at: float | None = None


@dataclass
class Round:
    label: str
    messages: list[Message] = field(default_factory=list)
    stop_s: float = 0.0
    start_s: float = 0.0
    bot_back_s: float = 0.0


def echo_model(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "clawnet.cli", "fake-llm", "--port", str(port)],
        env=project_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            if http_get(f"http://127.0.0.1:{port}/v1/models")[0] == 200:
                return proc
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    raise RuntimeError("the echo model did not start")


def create_bot(server: ClawNetServer, users: int) -> int:
    """An admin and one running bot on the Telegram channel, written to the server's database
    (its control plane notices within a second)."""
    from clawnet.bots import BotsService
    from clawnet.bots.forms import BotInput, ChannelInput
    from clawnet.bots.providers import ensure_local_echo_provider
    from clawnet.db import session_scope
    from clawnet.enums import Role
    from clawnet.events import EventBus
    from clawnet.security.permissions import Principal
    from clawnet.settings import get_settings
    from tests.factories import make_user
    from tests.security.world import server_process_env
    from tests.support.aio import run_async

    with server_process_env(server):
        with session_scope() as s:
            admin = Principal.of(make_user(s, Role.ADMIN))
            provider_id = ensure_local_echo_provider(s).id
        service = BotsService(get_settings(), EventBus(), None)
        allow = [str(FIRST_USER + i) for i in range(users)]
        channel = ChannelInput("telegram", {"botToken": TOKEN}, "allowlist", allow)
        return run_async(
            service.create_bot(
                admin, BotInput(name="Steady", provider_id=provider_id, model_id="echo-1", channels=[channel])
            )
        )


def bot_running(server: ClawNetServer, bot_id: int) -> bool:
    import sqlite3

    with contextlib.closing(
        sqlite3.connect(f"file:{server.data_dir / 'clawnet.db'}?mode=ro", uri=True)
    ) as db:
        row = db.execute("SELECT actual_status FROM bots WHERE id = ?", (bot_id,)).fetchone()
    return bool(row) and row[0] == "running"


def wait(check, timeout_s: float, what: str) -> float:  # type: ignore[no-untyped-def]
    t0 = time.monotonic()
    while not check():
        if time.monotonic() - t0 > timeout_s:
            raise RuntimeError(f"not within {timeout_s:.0f} s: {what}")
        time.sleep(0.05)
    return time.monotonic() - t0


def run_round(label: str, keep: bool, users: int, interval_s: float, duration_s: float) -> Round:
    result = Round(label)
    echo_port = free_port()
    model = echo_model(echo_port)
    tmp = Path(tempfile.mkdtemp(prefix="clawnet-restart-bench-"))
    env = {"CLAWNET_ECHO_PORT": str(echo_port), "CLAWNET_STOP_GATEWAYS_ON_EXIT": "false" if keep else "true"}
    server: ClawNetServer | None = None
    try:
        with FakeTelegram() as telegram:
            fake = telegram.add_bot(TOKEN, "steady_bot")
            env["CLAWNET_TELEGRAM_API_ROOT"] = telegram.api_root
            server = start_clawnet(tmp / "data", env)
            bot_id = create_bot(server, users)
            wait(lambda: bot_running(server, bot_id), 300, "the bot running")
            # The channel is live once a first message is answered.
            telegram.push_message(TOKEN, chat_id=FIRST_USER, from_id=FIRST_USER, text="REPLY WITH: warm")
            wait(lambda: any(m.get("text") == "warm" for m in fake.sent), 180, "a first answer")

            restarting = threading.Event()
            stop_writing = threading.Event()
            finished = threading.Event()

            def write() -> None:
                n = 0
                while not stop_writing.is_set():
                    for u in range(users):
                        text = f"u{u}-m{n}"
                        result.messages.append(Message(u, text, time.monotonic(), restarting.is_set()))
                        uid = FIRST_USER + u
                        telegram.push_message(TOKEN, chat_id=uid, from_id=uid, text=f"REPLY WITH: {text}")
                    n += 1
                    stop_writing.wait(interval_s)

            def watch() -> None:
                seen = 0
                while not finished.is_set():
                    sent = fake.sent[seen:]
                    seen += len(sent)
                    now = time.monotonic()
                    texts = {m.get("text") for m in sent}
                    for m in result.messages:
                        if m.answered_at is None and m.text in texts:
                            m.answered_at = now
                    time.sleep(0.05)

            writer = threading.Thread(target=write, daemon=True)
            watcher = threading.Thread(target=watch, daemon=True)
            writer.start()
            watcher.start()
            time.sleep(duration_s / 3)
            restarting.set()
            t0 = time.monotonic()
            server.stop()
            result.stop_s = time.monotonic() - t0
            t1 = time.monotonic()
            server = start_clawnet(tmp / "data", env)
            result.start_s = time.monotonic() - t1
            result.bot_back_s = result.start_s + wait(
                lambda: bot_running(server, bot_id), 300, "the bot back"
            )
            restarting.clear()
            time.sleep(max(0.0, duration_s - (time.monotonic() - t0) - duration_s / 3))
            stop_writing.set()
            writer.join()
            deadline = time.monotonic() + 180
            while any(m.answered_at is None for m in result.messages) and time.monotonic() < deadline:
                time.sleep(0.2)
            finished.set()
            watcher.join()
    finally:
        if server is not None:
            server.stop()
        if keep:
            ended = subprocess.run(
                [sys.executable, "-m", "clawnet.cli", "stop-gateways"],
                env={**project_env(), "CLAWNET_DATA_DIR": str(tmp / "data")},
                capture_output=True,
                text=True,
                check=False,
            )
            print(f"  clawnet stop-gateways: {ended.stdout.strip() or ended.stderr.strip()}")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(model.pid, signal.SIGKILL)
        model.wait(timeout=10)
    return result


def report(r: Round) -> None:
    answered = [m for m in r.messages if m.answered_at is not None]
    late = [m.answered_at - m.sent_at for m in answered if m.answered_at is not None]
    around = [m.answered_at - m.sent_at for m in answered if m.during_restart and m.answered_at is not None]
    q = statistics.quantiles(late, n=20) if len(late) >= 2 else [0.0] * 19

    def worst(values: list[float]) -> str:
        return f"{max(values):6.1f} s" if values else "     - "

    print(f"== {r.label}")
    print(
        f"  ClawNet stop {r.stop_s:5.1f} s, start to serving {r.start_s:5.1f} s, bot running again after {r.bot_back_s:5.1f} s"
    )
    print(
        f"  messages sent {len(r.messages)}, answered {len(answered)}, unanswered {len(r.messages) - len(answered)}"
        f" ({sum(m.during_restart for m in r.messages)} sent while ClawNet was down or starting)"
    )
    print(
        f"  answer time p50 {q[9]:5.1f} s  p95 {q[18]:5.1f} s  max {worst(late)};  sent during the restart: max {worst(around)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=3)
    parser.add_argument("--interval", type=float, default=4.0)
    parser.add_argument("--duration", type=float, default=60.0)
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    rounds = [
        run_round("gateways kept (default)", True, args.users, args.interval, args.duration),
        run_round(
            "gateways stopped (CLAWNET_STOP_GATEWAYS_ON_EXIT=true)",
            False,
            args.users,
            args.interval,
            args.duration,
        ),
    ]
    for r in rounds:
        report(r)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
