"""A minimal Reflex client speaking the app's own event protocol (Socket.IO v4 over a
WebSocket), so tests can call any event handler with any arguments, as any signed-in person,
exactly as a hostile browser could."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import reflex
import websockets

NAMESPACE = "/_event"  # Reflex's Socket.IO namespace


@dataclass
class ReflexClient:
    base_url: str
    cookie: str = ""
    token: str = field(default_factory=lambda: str(uuid.uuid4()))
    _ws: Any = None
    updates: list[dict[str, Any]] = field(default_factory=list)
    _inbox: asyncio.Queue = field(default_factory=asyncio.Queue)
    _reader: asyncio.Task | None = None

    async def connect(self) -> None:
        ws_url = (
            self.base_url.replace("http", "ws", 1) + f"/_event/?EIO=4&transport=websocket&token={self.token}"
        )
        headers = {"Cookie": self.cookie} if self.cookie else {}
        self._ws = await websockets.connect(
            ws_url,
            additional_headers=headers,
            subprotocols=[reflex.constants.Reflex.VERSION],
            max_size=None,
            origin=self.base_url,
        )
        opening = await self._ws.recv()
        assert opening.startswith("0"), opening
        await self._ws.send(f"40{NAMESPACE},")
        while not (await self._ws.recv()).startswith(f"40{NAMESPACE}"):
            pass
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in self._ws:
                if raw == "2":
                    await self._ws.send("3")
                elif raw.startswith(f"42{NAMESPACE},"):
                    name, payload = json.loads(raw[len(NAMESPACE) + 3 :])[:2]
                    if name == "event":
                        self.updates.append(payload)
                        await self._inbox.put(payload)

    async def call(
        self, handler: str, payload: dict[str, Any] | None = None, *, path: str = "/", settle_s: float = 1.0
    ) -> list[dict[str, Any]]:
        """Send `handler` (its full name) and return the updates received within `settle_s`."""
        event = {
            "name": handler,
            "payload": payload or {},
            "router_data": {"pathname": path, "asPath": path, "query": {}},
        }
        await self._ws.send(f"42{NAMESPACE}," + json.dumps(["event", event]))
        received = []
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(settle_s):
                while True:
                    received.append(await self._inbox.get())
        return received

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()


@contextlib.asynccontextmanager
async def reflex_client(base_url: str, cookie: str = "") -> AsyncIterator[ReflexClient]:
    client = ReflexClient(base_url, cookie)
    await client.connect()
    try:
        yield client
    finally:
        await client.close()


def handler_name(state_cls: type, method: str) -> str:
    return f"{state_cls.get_full_name()}.{method}"


def run_in_thread(coro_factory: Any) -> Any:
    """Run an async client from sync test code (Playwright's sync API owns this thread's loop)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(coro_factory())).result()
