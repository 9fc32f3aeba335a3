"""WhatsApp's side of a pairing, for tests, in front of a real OpenClaw gateway.

WhatsApp Web cannot be faked below the gateway: Baileys checks the server's noise certificate
against WhatsApp's own root key. So this stands in one step higher, as a WebSocket proxy that a
ClawNet adopts as a remote gateway: every frame goes to and from the real gateway behind it,
except the `web.login.start` / `web.login.wait` requests, which it answers the way the gateway
with @openclaw/whatsapp does (same fields, same words): a QR code as a PNG data URL, a new one
every `rotate_s` seconds (sooner than WhatsApp's 60/20 s, for a quick test), returned early by a
wait that names the code on screen, and `connected: true` once the test calls `scan()`."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import struct
import threading
import time
import zlib
from base64 import b64encode
from typing import Any, Self

import websockets
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

WEB_LOGIN = ("web.login.start", "web.login.wait")


def qr_png_data_url(seed: int, modules: int = 25, scale: int = 8) -> str:
    """A QR-looking PNG (three finder squares, modules that differ per seed) as a data URL."""
    pick = random.Random(seed)
    grid = [[pick.random() < 0.5 for _ in range(modules)] for _ in range(modules)]
    for ox, oy in ((0, 0), (modules - 7, 0), (0, modules - 7)):
        for dy in range(7):
            for dx in range(7):
                grid[oy + dy][ox + dx] = max(abs(dx - 3), abs(dy - 3)) != 2
    size = (modules + 4) * scale  # a light border of two modules
    rows = []
    for y in range(size):
        my = y // scale - 2
        row = bytearray([0])  # PNG row filter: none
        for x in range(size):
            mx = x // scale - 2
            dark = 0 <= mx < modules and 0 <= my < modules and grid[my][mx]
            row.append(0 if dark else 255)
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )
    return "data:image/png;base64," + b64encode(png).decode()


class WhatsAppStandIn:
    """`with WhatsAppStandIn(gateway_url) as wa:` then adopt `wa.url` with the gateway's token."""

    def __init__(self, upstream: str, *, rotate_s: float = 6.0) -> None:
        self.upstream, self.rotate_s = upstream, rotate_s
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.codes: list[str] = []
        self._started_at = 0.0
        self._linked = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self.port = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def scan(self) -> None:
        """The phone scans the code on screen."""
        self._linked.set()

    # --- WhatsApp's answers --------------------------------------------------------------------

    def _current(self) -> str:
        index = int((time.monotonic() - self._started_at) // self.rotate_s)
        while len(self.codes) <= index:
            self.codes.append(qr_png_data_url(len(self.codes)))
        return self.codes[index]

    async def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        self.calls.append((method, params))
        if method == "web.login.start":
            self._started_at, self.codes, self._linked = time.monotonic(), [], threading.Event()
            return {"qrDataUrl": self._current(), "message": "Scan this QR in WhatsApp → Linked Devices."}
        deadline = time.monotonic() + float(params.get("timeoutMs") or 120_000) / 1000
        shown = params.get("currentQrDataUrl")
        while time.monotonic() < deadline:
            if self._linked.is_set():
                return {"connected": True, "message": "✅ Linked! WhatsApp is ready."}
            latest = self._current()
            if shown and latest != shown:
                return {
                    "connected": False,
                    "message": "QR refreshed. Scan the latest code in WhatsApp → Linked Devices.",
                    "qrDataUrl": latest,
                }
            await asyncio.sleep(0.1)
        return {
            "connected": False,
            "message": "Still waiting for the QR scan. Let me know when you\u2019ve scanned it.",
        }

    # --- the proxy -----------------------------------------------------------------------------

    async def _serve(self, client: ServerConnection) -> None:
        async with websockets.connect(self.upstream, max_size=None) as gateway:

            async def down() -> None:
                async for frame in gateway:
                    await client.send(frame)

            async def answer(frame: dict[str, Any]) -> None:
                payload = await self._answer(frame["method"], dict(frame.get("params") or {}))
                await client.send(
                    json.dumps({"type": "res", "id": frame["id"], "ok": True, "payload": payload})
                )

            answering: set[asyncio.Future[None]] = set()

            async def up() -> None:
                async for raw in client:
                    frame = json.loads(raw) if isinstance(raw, str) else None
                    if (
                        isinstance(frame, dict)
                        and frame.get("type") == "req"
                        and frame.get("method") in WEB_LOGIN
                    ):
                        task = asyncio.ensure_future(answer(frame))
                        answering.add(task)
                        task.add_done_callback(answering.discard)
                    else:
                        await gateway.send(raw)

            tasks = [asyncio.ensure_future(down()), asyncio.ensure_future(up())]
            with contextlib.suppress(ConnectionClosed):
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in [*tasks, *answering]:
                task.cancel()

    def __enter__(self) -> Self:
        self._thread = threading.Thread(target=self._run, name="whatsapp-standin", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the WhatsApp stand-in did not start")
        return self

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._stop = self._loop.create_future()

        async def main() -> None:
            async with websockets.serve(self._serve, "127.0.0.1", 0, max_size=None) as server:
                self.port = next(iter(server.sockets)).getsockname()[1]
                self._ready.set()
                await self._stop

        self._loop.run_until_complete(main())

    def __exit__(self, *exc: object) -> None:
        loop = self._loop
        if loop is not None:
            loop.call_soon_threadsafe(lambda: self._stop.done() or self._stop.set_result(None))
        if self._thread is not None:
            self._thread.join(10)
