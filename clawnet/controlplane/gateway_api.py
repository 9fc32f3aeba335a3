"""Every call ClawNet makes to an OpenClaw gateway, typed, in one place.

`GatewayApi` wraps anything that can make a protocol call (`GatewayCaller`: a link's client in
the control plane's process, or `remote.RemoteGatewayClient` from another web worker) and turns
OpenClaw's answers into small dataclasses and its error messages into typed outcomes. Nothing
else in ClawNet spells a method name, builds a session key or matches OpenClaw's error text.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from clawnet.controlplane.protocol import GatewayError

# --- session keys (one source for their format) ---------------------------------------------


def main_session_key(agent_id: str) -> str:
    """The operator's own conversation with an agent (the dashboard chat)."""
    return agent_session_key(agent_id, "main")


def agent_session_key(agent_id: str, name: str) -> str:
    """A named session of an agent that no channel uses (`main`, ClawNet's insights...)."""
    return f"agent:{agent_id}:{name}"


def channel_and_peer(key: str) -> tuple[str, str]:
    """`agent:<id>:<channel>:<peer...>` -> (channel, peer); operator sessions have neither."""
    parts = key.split(":")
    if len(parts) >= 4 and parts[0] == "agent":
        return parts[2], ":".join(parts[3:])
    return "", ""


# --- matching OpenClaw's error messages -----------------------------------------------------


def is_missing(exc: GatewayError) -> bool:
    """The thing asked about (an agent, a session) does not exist on the gateway."""
    text = exc.message.lower()
    return "not found" in text or "unknown" in text


def asks_for_retry(exc: GatewayError) -> bool:
    """OpenClaw asks the caller to send the same request again (a busy session changed)."""
    return "retry the request" in exc.message


def lacks_plugin(exc: GatewayError) -> bool:
    """The channel's plugin is not installed on the gateway."""
    text = exc.message.lower()
    return any(
        w in text
        for w in ("plugin", "not installed", "unknown channel", "no qr", "login provider is not available")
    )


def owns_inherited_auth(exc: GatewayError) -> bool:
    """OpenClaw refuses to delete the agent its `agents.defaults.authInheritance` points at."""
    return "authInheritance" in exc.message


def is_request_gone(exc: GatewayError) -> bool:
    """A pairing request was already approved, dismissed or expired."""
    return "no longer exists" in exc.message.lower()


# Explicitly no inherited credentials: a patch naming this path keeps OpenClaw from pinning an owner.
NO_AUTH_INHERITANCE: dict[str, Any] = {"agents": {"defaults": {"authInheritance": None}}}


class GatewayCaller(Protocol):
    """One protocol connection to a gateway, local or through another process."""

    @property
    def is_connected(self) -> bool: ...

    async def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        timeout: float = 30.0,
        connect_wait: float | None = None,
    ) -> Any: ...


# --- answers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PatchOutcome:
    """What became of a `config.patch`: applied (with the new hash), applied after the gateway
    restarted itself in-process, or saved but waiting for a restart ClawNet must do."""

    hash: str = ""
    self_restarting: bool = False
    needs_restart: bool = False
    message: str = ""


@dataclass(frozen=True)
class ChannelAccount:
    channel: str
    account_id: str
    enabled: bool
    configured: bool
    running: bool
    connected: bool
    last_error: str
    last_event_ms: float | None
    linked: bool | None = None  # WhatsApp: whether a phone is linked (None: not a linked channel)


@dataclass(frozen=True)
class ChannelStart:
    started: bool
    reason: str


@dataclass(frozen=True)
class WebLogin:
    """An answer of `web.login.start` or `web.login.wait`: a QR code (a new one when WhatsApp
    rotated it), a link made, or neither, with the channel's own words."""

    qr_data_url: str
    login_key: str
    message: str = ""
    connected: bool = False


QR_PARAM_MAX = 16384  # web.login.wait's currentQrDataUrl is at most this long


def web_login(answer: Any, login_key: str = "") -> WebLogin:
    answer = answer if isinstance(answer, dict) else {}
    return WebLogin(
        str(answer.get("qrDataUrl") or answer.get("qr") or ""),
        str(answer.get("sessionKey") or login_key),
        str(answer.get("message") or ""),
        answer.get("connected") is True,
    )


@dataclass(frozen=True)
class SessionRow:
    """One row of `sessions.list` (the fields ClawNet keeps)."""

    key: str
    agent_id: str
    session_id: str
    kind: str
    status: str
    model: str
    channel: str
    created_ms: float | None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class GatewayFigures:
    """The `status` method's process figures."""

    rss_bytes: int
    heap_used_bytes: int
    event_loop_utilization: float
    event_loop_delay_p99_ms: float
    session_count: int


@dataclass(frozen=True)
class PairingRequest:
    """One pending DM pairing request (`channels.pairing.list`). OpenClaw never exposes the
    pairing code here, and keeps no copy of the message that triggered the request."""

    request_id: str
    channel: str
    account_id: str
    sender_id: str
    metadata: dict[str, str]  # e.g. Telegram: username, firstName, lastName
    created_at: str  # ISO 8601, as OpenClaw wrote it
    last_seen_at: str
    expires_at: str
    notify_supported: bool


@dataclass(frozen=True)
class PairingApproval:
    sender_id: str
    notification: str  # not-requested | sent | unsupported | failed


def pairing_request(row: dict[str, Any]) -> PairingRequest:
    meta = row.get("metadata") if isinstance(row.get("metadata"), dict) else {}
    return PairingRequest(
        request_id=str(row.get("requestId") or ""),
        channel=str(row.get("channel") or ""),
        account_id=str(row.get("accountId") or ""),
        sender_id=str(row.get("senderId") or ""),
        metadata={str(k): str(v) for k, v in (meta or {}).items() if v},
        created_at=str(row.get("createdAt") or ""),
        last_seen_at=str(row.get("lastSeenAt") or row.get("createdAt") or ""),
        expires_at=str(row.get("expiresAt") or ""),
        notify_supported=bool(row.get("notifySupported")),
    )


def session_row(row: dict[str, Any]) -> SessionRow:
    return SessionRow(
        key=str(row.get("key") or ""),
        agent_id=str(row.get("agentId") or ""),
        session_id=str(row.get("sessionId") or ""),
        kind=str(row.get("chatType") or row.get("kind") or ""),
        status=str(row.get("status") or ""),
        model=str(row.get("model") or ""),
        channel=str(row.get("channel") or ""),
        created_ms=row.get("createdAt") if isinstance(row.get("createdAt"), int | float) else None,
        raw=row,
    )


@dataclass(frozen=True)
class LogsTail:
    """A slice of the gateway's own log file read over the protocol (`logs.tail`): its raw JSON
    lines, the cursor to ask from next, and whether the file was rotated since `cursor`."""

    lines: list[str]
    cursor: int
    reset: bool


class GatewayApi:
    def __init__(self, caller: GatewayCaller) -> None:
        self.caller = caller

    @property
    def is_connected(self) -> bool:
        return self.caller.is_connected

    # --- logs -----------------------------------------------------------------------------

    async def logs_tail(
        self,
        cursor: int | None = None,
        *,
        limit: int = 500,
        max_bytes: int = 512 * 1024,  # OpenClaw: <= 1,000,000
    ) -> LogsTail:
        """The log lines after `cursor` (None: the last `limit` lines), as a remote gateway's logs
        are read: its file is on its own host."""
        params: dict[str, Any] = {"limit": limit, "maxBytes": max_bytes}
        if cursor is not None:
            params["cursor"] = cursor
        answer = await self.caller.call("logs.tail", params, timeout=30) or {}
        return LogsTail(
            [str(line) for line in answer.get("lines") or []],
            int(answer.get("cursor") or 0),
            bool(answer.get("reset")),
        )

    # --- config ---------------------------------------------------------------------------

    async def config_hash(self) -> str:
        return str((await self.caller.call("config.get", {}, timeout=30)).get("hash") or "")

    async def config(self) -> dict[str, Any]:
        """The running config (secrets redacted by OpenClaw)."""
        return dict((await self.caller.call("config.get", {}, timeout=30)).get("config") or {})

    async def patch_config(
        self, patch: dict[str, Any], *, replace_paths: list[str] | None = None
    ) -> PatchOutcome:
        """`config.patch` against the gateway's current hash, once more if it moved meanwhile;
        `replace_paths` names the arrays it replaces or deletes on purpose. Raises GatewayError
        when the gateway refuses the change."""
        for attempt in range(2):
            base = await self.config_hash()
            params: dict[str, Any] = {"raw": json.dumps(patch), "baseHash": base}
            if replace_paths:
                params["replacePaths"] = replace_paths
            try:
                result = await self.caller.call("config.patch", params, timeout=60)
            except GatewayError as exc:
                text = exc.message
                if attempt == 0 and "changed since" in text:
                    continue
                if "persisted" in text and ("restart is required" in text or "accepted for restart" in text):
                    return PatchOutcome(self_restarting=True, message=text)
                if "persisted but was not applied" in text:
                    return PatchOutcome(needs_restart=True, message=text)
                raise
            return PatchOutcome(hash=str((result or {}).get("hash") or ""))
        return PatchOutcome()

    # --- agents ---------------------------------------------------------------------------

    async def delete_agent(self, agent_id: str) -> None:
        """Drop an agent, keeping its files (OpenClaw would move them to the trash).

        OpenClaw pins `agents.defaults.authInheritance` to a gateway's first agent when a second
        one joins, then refuses to delete that agent. ClawNet's bots never inherit credentials
        (their model keys are in the config), so the pin is removed and the delete tried again."""
        for attempt in range(2):
            try:
                await self.caller.call(
                    "agents.delete", {"agentId": agent_id, "deleteFiles": False}, timeout=30
                )
                return
            except GatewayError as exc:
                if is_missing(exc):
                    return
                if attempt == 0 and owns_inherited_auth(exc):
                    await self.patch_config(NO_AUTH_INHERITANCE)
                    continue
                raise

    async def write_agent_file(self, agent_id: str, name: str, content: str) -> None:
        await self.caller.call(
            "agents.files.set", {"agentId": agent_id, "name": name, "content": content}, timeout=30
        )

    async def write_new_agent_file(
        self, agent_id: str, name: str, content: str, *, wait_s: float = 30
    ) -> None:
        """`write_agent_file` for an agent a config change has just created: OpenClaw applies the
        change in the background a moment after accepting it, so "not found" is retried."""
        deadline = time.monotonic() + wait_s
        while True:
            try:
                await self.write_agent_file(agent_id, name, content)
                return
            except GatewayError as exc:
                if not is_missing(exc) or time.monotonic() >= deadline:
                    raise
                await asyncio.sleep(0.3)

    # --- channels ---------------------------------------------------------------------------

    async def channel_accounts(self, *, connect_wait: float = 5) -> list[ChannelAccount]:
        status = await self.caller.call("channels.status", {}, timeout=20, connect_wait=connect_wait)
        accounts = []
        for channel, rows in (status.get("channelAccounts") or {}).items():
            for a in rows or []:
                seen = a.get("lastEventAt")
                accounts.append(
                    ChannelAccount(
                        channel=str(channel),
                        account_id=str(a.get("accountId") or ""),
                        enabled=bool(a.get("enabled", True)),
                        configured=bool(a.get("configured")),
                        running=bool(a.get("running")),
                        connected=bool(a.get("connected")),
                        last_error=str(a.get("lastError") or ""),
                        last_event_ms=float(seen) if isinstance(seen, int | float) and seen > 0 else None,
                        linked=a["linked"] if isinstance(a.get("linked"), bool) else None,
                    )
                )
        return accounts

    async def start_channel(self, channel: str, account_id: str) -> ChannelStart:
        answer = await self.caller.call(
            "channels.start", {"channel": channel, "accountId": account_id}, timeout=30
        )
        outcome = (answer or {}).get("outcome") or {}
        reason = (
            str(outcome.get("reason") or outcome.get("status") or "") if isinstance(outcome, dict) else ""
        )
        return ChannelStart(bool((answer or {}).get("started")), reason)

    async def stop_channel(self, channel: str, account_id: str) -> None:
        await self.caller.call("channels.stop", {"channel": channel, "accountId": account_id}, timeout=30)

    async def start_web_login(
        self, channel: str, account_id: str, *, valid_ms: int = 30_000, force: bool = False
    ) -> WebLogin:
        """Ask for a QR code (`valid_ms`: how long the channel may take to get one). `force`
        drops an existing link first."""
        answer = await self.caller.call(
            "web.login.start",
            {"channel": channel, "accountId": account_id, "force": force, "timeoutMs": valid_ms},
            timeout=valid_ms / 1000 + 30,
        )
        return web_login(answer)

    async def wait_web_login(
        self, channel: str, account_id: str, login_key: str, *, current_qr: str = "", valid_ms: int = 25_000
    ) -> WebLogin:
        """Wait up to `valid_ms` for the code to be scanned. Given the QR code shown, the answer
        comes early with a new one when the channel rotates it."""
        params: dict[str, Any] = {"channel": channel, "accountId": account_id, "timeoutMs": valid_ms}
        if login_key:
            params["sessionKey"] = login_key
        if current_qr.startswith("data:image/png;base64,") and len(current_qr) <= QR_PARAM_MAX:
            params["currentQrDataUrl"] = current_qr
        answer = await self.caller.call("web.login.wait", params, timeout=valid_ms / 1000 + 10)
        return web_login(answer, login_key)

    # --- DM pairing (access requests) ------------------------------------------------------
    # OpenClaw emits no event for a new request: callers poll `pairing_requests`. Approved
    # senders live in the gateway's pairing store; no method lists or removes them.

    async def pairing_requests(self, *, timeout: float = 10) -> list[PairingRequest]:
        """Pending requests of every channel account whose DM policy is "pairing"."""
        answer = await self.caller.call("channels.pairing.list", {}, timeout=timeout, connect_wait=0)
        return [pairing_request(r) for r in (answer or {}).get("requests") or [] if isinstance(r, dict)]

    async def approve_pairing(
        self, channel: str, account_id: str, request_id: str, *, notify: bool = False
    ) -> PairingApproval:
        """Allow the sender (OpenClaw adds them to its pairing store) and, if asked and the
        channel can, tell them. Raises GatewayError (`is_request_gone` when it is no longer
        pending)."""
        answer = await self.caller.call(
            "channels.pairing.approve",
            {"channel": channel, "accountId": account_id, "requestId": request_id, "notify": notify},
            timeout=30,
        )
        answer = answer or {}
        return PairingApproval(str(answer.get("senderId") or ""), str(answer.get("notification") or ""))

    async def dismiss_pairing(self, channel: str, account_id: str, request_id: str) -> None:
        """Drop the request without allowing the sender (they may ask again later)."""
        await self.caller.call(
            "channels.pairing.dismiss",
            {"channel": channel, "accountId": account_id, "requestId": request_id},
            timeout=30,
        )

    # --- sessions and chat -------------------------------------------------------------------

    async def subscribe_sessions(self) -> None:
        await self.caller.call("sessions.subscribe", {}, timeout=15)

    # Listing sessions and reading transcripts page by page: `gateway_sessions`.

    async def send_chat(self, session_key: str, message: str, idempotency_key: str) -> str:
        """Start a turn; returns its run id. Raises GatewayError (see `asks_for_retry`)."""
        answer = await self.caller.call(
            "chat.send",
            {"sessionKey": session_key, "message": message, "idempotencyKey": idempotency_key},
            timeout=30,
        )
        return str((answer or {}).get("runId") or idempotency_key)

    async def wait_for_run(self, run_id: str, *, timeout: float) -> None:
        """Until a turn has finished (`agent.wait`), at most `timeout` seconds."""
        await self.caller.call(
            "agent.wait", {"runId": run_id, "timeoutMs": int(timeout * 1000)}, timeout=timeout + 5
        )

    async def abort_chat(self, session_key: str, run_id: str) -> None:
        await self.caller.call("chat.abort", {"sessionKey": session_key, "runId": run_id}, timeout=10)

    # --- health -----------------------------------------------------------------------------

    async def health(self, *, timeout: float) -> None:
        await self.caller.call("health", {}, timeout=timeout, connect_wait=timeout)

    async def figures(self) -> GatewayFigures:
        status = await self.caller.call("status", {}, timeout=15, connect_wait=0)
        memory = status.get("processMemory") or {}
        loop = status.get("eventLoop") or {}
        sessions = status.get("sessions") or {}
        return GatewayFigures(
            rss_bytes=int(memory.get("rssBytes") or 0),
            heap_used_bytes=int(memory.get("heapUsedBytes") or 0),
            event_loop_utilization=float(loop.get("utilization") or 0),
            event_loop_delay_p99_ms=float(loop.get("delayP99Ms") or 0),
            session_count=int(sessions.get("count") or 0),
        )
