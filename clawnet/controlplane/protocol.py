"""OpenClaw gateway protocol v4 over WebSocket: handshake, calls, events, reconnects.

Frames: request `{type: "req", id, method, params}`, response `{type: "res", id, ok, payload |
error}`, event `{type: "event", event, payload, seq?}`. The server opens with a
`connect.challenge` event; the client answers with `connect` and gets `hello-ok`.

`GatewayConnection` is one socket. `GatewayClient` keeps one alive: it reconnects with backoff
after an abnormal close (1006: the process died), soon after a restart notice (1012), and at once
with a fresh token after 4001 (the gateway's token changed). A wrong token is reported as
`GatewayAuthError` straight away; calls never hang waiting for a connection that cannot happen.

Off loopback (or when a tunnelled gateway answers DEVICE_IDENTITY_REQUIRED) the handshake
carries ClawNet's signed device identity (`handshake`); an unapproved device gets
`GatewayPairingRequired`, whose message names the command to run on the gateway host.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from clawnet.aio import wait_for
from clawnet.controlplane.device_identity import DeviceStore, get_device_store
from clawnet.controlplane.handshake import (
    PROTOCOL_VERSION,
    ROLE,
    connect_params,
    device_identity_required,
    pairing_message,
    scopes_withheld,
    url_is_loopback,
)

log = logging.getLogger(__name__)

CLOSE_ABNORMAL = 1006
CLOSE_SERVICE_RESTART = 1012
CLOSE_AUTH_CHANGED = 4001

EventHandler = Callable[[str, dict[str, Any], int | None], None]


class GatewayError(Exception):
    """The gateway answered with an error (or could not be reached)."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        retryable: bool = False,
        retry_after_ms: int | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.details = details or {}
        self.retryable = retryable
        self.retry_after_ms = retry_after_ms

    @classmethod
    def from_frame(cls, error: dict[str, Any]) -> GatewayError:
        details = error.get("details") or {}
        code = str(error.get("code") or "UNKNOWN")
        kind: type[GatewayError] = GatewayError
        detail_code = str(details.get("code", "")) if isinstance(details, dict) else ""
        if detail_code == "PAIRING_REQUIRED" or code == "NOT_PAIRED":
            assert isinstance(details, dict)
            return GatewayPairingRequired(
                code,
                str(error.get("message") or code),
                details=details,
            )
        if detail_code.startswith("AUTH_") or "unauthorized" in str(error.get("message", "")):
            kind = GatewayAuthError
        return kind(
            code,
            str(error.get("message") or code),
            details=details if isinstance(details, dict) else {},
            retryable=bool(error.get("retryable")),
            retry_after_ms=error.get("retryAfterMs"),
        )


class GatewayAuthError(GatewayError):
    """The gateway refused our token."""


class GatewayPairingRequired(GatewayAuthError):
    """The gateway knows the token but has not approved ClawNet's device yet. `message` says, in
    plain words, what to run on the gateway host; `gateway_message` is what the gateway said."""

    def __init__(self, code: str, message: str, *, details: dict[str, Any] | None = None) -> None:
        details = details or {}
        self.request_id = str(details.get("requestId") or "")
        self.device_id = str(details.get("deviceId") or "")
        super().__init__(code, pairing_message(self.request_id, self.device_id), details=details)
        self.gateway_message = message


class GatewayUnavailable(GatewayError):
    """The gateway cannot be reached, or the connection closed before an answer came."""

    def __init__(self, message: str, *, close_code: int | None = None) -> None:
        super().__init__("UNAVAILABLE", message)
        self.close_code = close_code


class GatewayTimeout(GatewayError):
    def __init__(self, message: str) -> None:
        super().__init__("TIMEOUT", message)


@dataclass(frozen=True)
class Hello:
    protocol: int
    server_version: str
    conn_id: str
    methods: frozenset[str]
    events: frozenset[str]
    snapshot: dict[str, Any]
    policy: dict[str, Any]


class GatewayConnection:
    """One authenticated WebSocket to a gateway."""

    def __init__(self, ws: ClientConnection, hello: Hello, on_event: EventHandler | None) -> None:
        self._ws = ws
        self.hello = hello
        self._on_event = on_event
        self._pending: dict[str, asyncio.Future[Any]] = {}
        self.close_code: int | None = None
        self.close_reason = ""
        self._closed = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._read_loop(), name=f"gateway-reader-{hello.conn_id[:8]}")

    @classmethod
    async def open(
        cls,
        url: str,
        token: str,
        *,
        on_event: EventHandler | None = None,
        timeout: float = 30.0,
        device: DeviceStore | None = None,
    ) -> GatewayConnection:
        """Connect and authenticate. Retries a starting gateway's UNAVAILABLE answers until
        `timeout`; raises GatewayAuthError at once for a wrong token, GatewayPairingRequired when
        the gateway has not approved ClawNet's device. `device`: where the identity and device
        tokens live (default: the installation's); used unless the URL is loopback."""
        store = device
        use_device = not url_is_loopback(url)
        retried_with_device_token = False
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        last_error: GatewayError | None = None
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise last_error or GatewayTimeout(f"no handshake with {url} within {timeout:.0f} s")
            try:
                if use_device and store is None:
                    store = get_device_store()
                return await wait_for(
                    cls._attempt(
                        url, token, on_event, store if use_device else None, retried_with_device_token
                    ),
                    remaining,
                )
            except GatewayPairingRequired:
                raise
            except GatewayError as exc:
                if not use_device and device_identity_required(str(exc.details.get("code", "")), exc.message):
                    use_device = True  # a loopback tunnel to a gateway elsewhere
                    continue
                # Token refused: retry once with the issued device token (over loopback or wss://).
                if isinstance(exc, GatewayAuthError):
                    if (
                        use_device
                        and store is not None
                        and not retried_with_device_token
                        and exc.details.get("canRetryWithDeviceToken")
                        and (url.startswith("wss://") or url_is_loopback(url))
                        and store.device_token(url, store.identity().device_id, ROLE)
                    ):
                        retried_with_device_token = True
                        continue
                    raise
                if not exc.retryable:
                    raise
                last_error = exc
                await asyncio.sleep(
                    min(max((exc.retry_after_ms or 500) / 1000, 0.1), max(0.0, deadline - loop.time()))
                )
            except TimeoutError:
                raise GatewayTimeout(f"no handshake with {url} within {timeout:.0f} s") from None
            except (OSError, InvalidHandshake, InvalidURI, ConnectionClosed) as exc:
                raise GatewayUnavailable(f"cannot connect to {url}: {exc}") from None

    @classmethod
    async def _attempt(
        cls,
        url: str,
        token: str,
        on_event: EventHandler | None,
        store: DeviceStore | None = None,
        use_device_token: bool = False,
    ) -> GatewayConnection:
        ws = await websockets.connect(
            url, max_size=None, open_timeout=10, close_timeout=2, ping_interval=15, ping_timeout=15
        )
        try:
            first = json.loads(await ws.recv())
            if first.get("type") != "event" or first.get("event") != "connect.challenge":
                raise GatewayError("PROTOCOL", f"expected connect.challenge, got {str(first)[:200]}")
            request_id = uuid.uuid4().hex
            try:
                params, device_id = connect_params(
                    token, first.get("payload") or {}, url=url, store=store, use_device_token=use_device_token
                )
            except ValueError as exc:
                raise GatewayError("PROTOCOL", str(exc)) from None
            await ws.send(
                json.dumps({"type": "req", "id": request_id, "method": "connect", "params": params})
            )
            while True:
                frame = json.loads(await ws.recv())
                if frame.get("type") == "res" and frame.get("id") == request_id:
                    break
            if not frame.get("ok"):
                raise GatewayError.from_frame(frame.get("error") or {})
            payload = frame.get("payload") or {}
            features = payload.get("features") or {}
            hello = Hello(
                protocol=int(payload.get("protocol", 0)),
                server_version=str((payload.get("server") or {}).get("version", "")),
                conn_id=str((payload.get("server") or {}).get("connId", "")),
                methods=frozenset(features.get("methods") or []),
                events=frozenset(features.get("events") or []),
                snapshot=payload.get("snapshot") or {},
                policy=payload.get("policy") or {},
            )
            if hello.protocol != PROTOCOL_VERSION:
                raise GatewayError(
                    "PROTOCOL", f"gateway speaks protocol {hello.protocol}, ClawNet needs {PROTOCOL_VERSION}"
                )
            if device_id is None and scopes_withheld(payload):
                raise GatewayError(
                    "FORBIDDEN", "scopes withheld", details={"code": "DEVICE_IDENTITY_REQUIRED"}
                )
            granted = payload.get("auth") or {}
            if device_id is not None and store is not None and isinstance(granted.get("deviceToken"), str):
                await asyncio.to_thread(
                    store.save_device_token,
                    url,
                    device_id,
                    ROLE,
                    granted["deviceToken"],
                    [str(x) for x in granted.get("scopes") or []],
                )
        except BaseException:
            await ws.close()
            raise
        return cls(ws, hello, on_event)

    async def _read_loop(self) -> None:
        try:
            async for raw in self._ws:
                try:
                    frame = json.loads(raw)
                except json.JSONDecodeError:
                    log.warning("gateway sent a non-JSON frame")
                    continue
                kind = frame.get("type")
                if kind == "res":
                    future = self._pending.pop(str(frame.get("id")), None)
                    if future is not None and not future.done():
                        if frame.get("ok"):
                            future.set_result(frame.get("payload"))
                        else:
                            future.set_exception(GatewayError.from_frame(frame.get("error") or {}))
                elif kind == "event" and self._on_event is not None:
                    try:
                        self._on_event(str(frame.get("event")), frame.get("payload") or {}, frame.get("seq"))
                    except Exception:
                        log.exception("event handler failed for %s", frame.get("event"))
        except ConnectionClosed:
            pass
        finally:
            self.close_code = self._ws.close_code if self._ws.close_code is not None else CLOSE_ABNORMAL
            self.close_reason = self._ws.close_reason or ""
            error = GatewayUnavailable(
                f"connection closed ({self.close_code} {self.close_reason})".strip(),
                close_code=self.close_code,
            )
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(error)
                    future.exception()  # retrieved: a caller that gave up must not log a warning
            self._pending.clear()
            if not self._closed.done():
                self._closed.set_result((self.close_code, self.close_reason))

    @property
    def is_open(self) -> bool:
        return not self._closed.done()

    async def call(self, method: str, params: dict[str, Any] | None = None, *, timeout: float = 30.0) -> Any:
        if not self.is_open:
            raise GatewayUnavailable(f"connection closed ({self.close_code})", close_code=self.close_code)
        request_id = uuid.uuid4().hex
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            await self._ws.send(
                json.dumps({"type": "req", "id": request_id, "method": method, "params": params or {}})
            )
            return await wait_for(future, timeout)
        except TimeoutError:
            raise GatewayTimeout(f"{method} got no answer within {timeout:.0f} s") from None
        except ConnectionClosed:
            raise GatewayUnavailable(
                f"connection closed during {method}", close_code=self._ws.close_code
            ) from None
        finally:
            self._pending.pop(request_id, None)

    async def wait_closed(self) -> tuple[int, str]:
        return await asyncio.shield(self._closed)

    async def close(self) -> None:
        await self._ws.close()
        with contextlib.suppress(Exception):
            await wait_for(self._reader, 3)


@dataclass
class Backoff:
    """Exponential backoff with jitter: base, 2*base, 4*base ... up to `maximum` seconds."""

    base: float = 0.5
    maximum: float = 10.0
    attempt: int = 0

    def next_delay(self) -> float:
        delay = min(self.maximum, self.base * (2**self.attempt))
        self.attempt += 1
        return delay * random.uniform(0.8, 1.2)

    def reset(self) -> None:
        self.attempt = 0


class GatewayClient:
    """Keeps one connection to a gateway open, reconnecting as needed.

    `on_connected(conn)` runs after every (re)connect (subscribe, backfill); `on_disconnected(code,
    reason)` after every close. `token` is called before every connect, so a rotated token is
    picked up on the reconnect that follows close code 4001.
    """

    def __init__(
        self,
        url: str,
        token: Callable[[], str],
        *,
        name: str = "gateway",
        on_event: EventHandler | None = None,
        on_connected: Callable[[GatewayConnection], Awaitable[None]] | None = None,
        on_disconnected: Callable[[int, str], Awaitable[None]] | None = None,
        connect_timeout: float = 30.0,
        backoff: Backoff | None = None,
    ) -> None:
        self.url = url
        self._token = token
        self.name = name
        self._on_event = on_event
        self._on_connected = on_connected
        self._on_disconnected = on_disconnected
        self.connect_timeout = connect_timeout
        self.backoff = backoff or Backoff()
        self.connection: GatewayConnection | None = None
        self.connected = asyncio.Event()
        self.disconnected = asyncio.Event()  # set while not connected
        self.disconnected.set()
        self.last_error: GatewayError | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"gateway-client-{self.name}")

    def wake(self) -> None:
        """Try to connect now instead of waiting out the backoff (e.g. the process restarted)."""
        self._wake.set()

    async def _sleep(self, seconds: float) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await wait_for(self._wake.wait(), seconds)

    async def _run(self) -> None:
        while not self._stopping:
            try:
                conn = await GatewayConnection.open(
                    self.url, self._token(), on_event=self._on_event, timeout=self.connect_timeout
                )
            except GatewayAuthError as exc:
                self.last_error = exc
                await self._sleep(max(5.0, self.backoff.next_delay()))
                continue
            except (GatewayError, OSError) as exc:
                self.last_error = exc if isinstance(exc, GatewayError) else GatewayUnavailable(str(exc))
                await self._sleep(self.backoff.next_delay())
                continue
            self.connection = conn
            self.last_error = None
            self.backoff.reset()
            self.disconnected.clear()
            self.connected.set()
            if self._on_connected is not None:
                try:
                    await self._on_connected(conn)
                except GatewayError as exc:
                    log.warning("%s: setting up the connection failed: %s", self.name, exc)
                except Exception:
                    log.exception("%s: on_connected failed", self.name)
            code, reason = await conn.wait_closed()
            self.connected.clear()
            self.disconnected.set()
            self.connection = None
            if self._on_disconnected is not None:
                try:
                    await self._on_disconnected(code, reason)
                except Exception:
                    log.exception("%s: on_disconnected failed", self.name)
            if self._stopping:
                break
            if code == CLOSE_AUTH_CHANGED:
                continue  # reconnect at once; `token()` gives the new token
            if code == CLOSE_SERVICE_RESTART:
                await self._sleep(0.5)
                continue
            await self._sleep(self.backoff.next_delay())

    async def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        timeout: float = 30.0,
        connect_wait: float | None = None,
    ) -> Any:
        """Call `method`, waiting up to `connect_wait` (default: `timeout`) for a connection."""
        conn = self.connection
        if conn is None or not conn.is_open:
            if isinstance(self.last_error, GatewayAuthError):
                raise self.last_error
            try:
                await wait_for(self.connected.wait(), connect_wait if connect_wait is not None else timeout)
            except TimeoutError:
                if self.last_error is not None:
                    raise self.last_error from None
                raise GatewayUnavailable(f"{self.name} is not connected") from None
            conn = self.connection
            if conn is None:
                raise GatewayUnavailable(f"{self.name} is not connected")
        return await conn.call(method, params, timeout=timeout)

    @property
    def is_connected(self) -> bool:
        return self.connection is not None and self.connection.is_open

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self.connection is not None:
            with contextlib.suppress(Exception):
                await self.connection.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
