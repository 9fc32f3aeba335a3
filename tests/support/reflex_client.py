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
ROOT_STATE = reflex.State.get_full_name()  # "reflex___state____state"


@dataclass
class ReflexClient:
    base_url: str
    cookie: str = ""
    token: str = field(default_factory=lambda: str(uuid.uuid4()))
    _ws: Any = None
    updates: list[dict[str, Any]] = field(default_factory=list)
    _inbox: asyncio.Queue = field(default_factory=asyncio.Queue)
    _reader: asyncio.Task | None = None
    _flip: bool = False  # the marker value call_done sets next

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

    async def call_done(
        self, handler: str, payload: dict[str, Any] | None = None, *, path: str = "/", timeout_s: float = 60
    ) -> list[dict[str, Any]]:
        """Send `handler` and return the updates it sent, once Reflex has finished it.

        Reflex runs a client's foreground events one after another, so a second event sent right
        behind it (a setter flipping the root state's `is_hydrated`, which always answers with a
        delta) marks the moment the first one was done. Events the handler chains run after the
        marker; a background handler is not waited for (use `call` with a settle time)."""
        self._flip = not self._flip
        marker = {"var_name": "is_hydrated", "value": self._flip}
        for name, body in ((handler, payload or {}), (f"{ROOT_STATE}.setvar", marker)):
            event = {
                "name": name,
                "payload": body,
                "router_data": {"pathname": path, "asPath": path, "query": {}},
            }
            await self._ws.send(f"42{NAMESPACE}," + json.dumps(["event", event]))
        received: list[dict[str, Any]] = []
        async with asyncio.timeout(timeout_s):
            while True:
                update = await self._inbox.get()
                delta = update.get("delta", {}).get(ROOT_STATE, {})
                if any(k.startswith("is_hydrated") and v is self._flip for k, v in delta.items()):
                    others = {k: v for k, v in update.get("delta", {}).items() if k != ROOT_STATE}
                    if others:
                        received.append({**update, "delta": others})
                    return received
                received.append(update)

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
