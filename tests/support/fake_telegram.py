"""A fake Telegram Bot API on loopback (Telegram's servers cannot be reached here).

It speaks the same HTTP interface the real one does (`/bot<token>/<method>`), so OpenClaw's
Telegram channel runs against it unchanged through its `apiRoot` setting, and ClawNet's "test
connection" calls `getMe` on it. Tests push user messages in and read what the bot sent back.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs


@dataclass
class FakeBot:
    token: str
    username: str
    bot_id: int
    updates: list[dict[str, Any]] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)


class FakeTelegram:
    """Run with `with FakeTelegram() as tg:` (in its own thread); `tg.api_root` is the URL."""

    def __init__(self) -> None:
        self.bots: dict[str, FakeBot] = {}
        self._ids = itertools.count(1000)
        self._update_ids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self.port = 0

    @property
    def api_root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add_bot(self, token: str, username: str) -> FakeBot:
        bot = FakeBot(token, username, next(self._ids))
        self.bots[token] = bot
        return bot

    def push_message(
        self, token: str, *, chat_id: int, from_id: int, text: str, username: str = "alice"
    ) -> None:
        bot = self.bots[token]
        bot.updates.append(
            {
                "update_id": next(self._update_ids),
                "message": {
                    "message_id": next(self._ids),
                    "date": int(time.time()),
                    "text": text,
                    "chat": {
                        "id": chat_id,
                        "type": "private",
                        "username": username,
                        "first_name": username.title(),
                    },
                    "from": {
                        "id": from_id,
                        "is_bot": False,
                        "username": username,
                        "first_name": username.title(),
                    },
                },
            }
        )

    # --- server ----------------------------------------------------------------------------

    def __enter__(self) -> FakeTelegram:
        self._thread = threading.Thread(target=self._run, name="fake-telegram", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._server is not None:
            self._loop.call_soon_threadsafe(self._server.close)
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5)

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        # Connections still open (a gateway's long poll) end with the loop, quietly.
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                _method, target, _ = line.decode("latin-1").split(" ", 2)
                headers: dict[str, str] = {}
                while header := (await reader.readline()).decode("latin-1").strip():
                    name, _, value = header.partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
                status, payload = await self._answer(target, headers.get("content-type", ""), body)
                data = json.dumps(payload).encode()
                writer.write(
                    f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n".encode()
                    + data
                )
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        except asyncio.CancelledError:
            pass  # the fake is closing (see _run): the connection just ends
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _answer(self, target: str, content_type: str, body: bytes) -> tuple[int, dict[str, Any]]:
        path, _, query = target.partition("?")
        parts = path.strip("/").split("/")
        if len(parts) < 2 or not parts[0].startswith("bot"):
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        bot = self.bots.get(parts[0][3:])
        if bot is None:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        api_method = parts[1]
        bot.calls.append(api_method)
        params: dict[str, Any] = {k: v[0] for k, v in parse_qs(query).items()}
        if body and "json" in content_type:
            params.update(json.loads(body))
        elif body:
            params.update({k: v[0] for k, v in parse_qs(body.decode()).items()})
        if api_method == "getMe":
            return 200, {
                "ok": True,
                "result": {
                    "id": bot.bot_id,
                    "is_bot": True,
                    "first_name": bot.username,
                    "username": bot.username,
                    "can_join_groups": True,
                },
            }
        if api_method == "getUpdates":
            offset = int(params.get("offset") or 0)
            bot.updates = [u for u in bot.updates if u["update_id"] >= offset]
            deadline = time.monotonic() + min(float(params.get("timeout") or 0), 1.0)
            while not bot.updates and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            return 200, {"ok": True, "result": list(bot.updates)}
        if api_method == "sendMessage":
            bot.sent.append(params)
            return 200, {
                "ok": True,
                "result": {
                    "message_id": next(self._ids),
                    "date": int(time.time()),
                    "chat": {"id": int(params.get("chat_id", 0)), "type": "private"},
                    "text": params.get("text", ""),
                },
            }
        if api_method in ("getWebhookInfo",):
            return 200, {"ok": True, "result": {"url": "", "pending_update_count": 0}}
        if api_method in ("getMyCommands",):
            return 200, {"ok": True, "result": []}
        return 200, {"ok": True, "result": True}
