"""A gateway's sessions, through OpenClaw's own session methods; nothing else in ClawNet spells
these method names. Typed wrappers on the same caller and error matching as `gateway_api`.

Operating (docs/gateway/protocol/rpc-session-control.md): create, rename, reset, compact,
delete, abort, and a reply into a channel conversation as the operator.

Reading page by page (`sessions.list`, `chat.history`), both by `offset`. `sessions.list`
answers `{sessions, totalCount, nextOffset, hasMore}`. `chat.history` counts its offset from
the newest message backwards: offset 0 is the newest `limit` messages, and `nextOffset` (with
`hasMore`) asks for the ones before them. A page may hold fewer messages than `limit` (oversized
rows are capped by bytes): always advance by the `nextOffset` the gateway gave, never by the
count received. `sessions.list` without `agentId` lists the default agent's sessions only: ask
per agent. (OpenClaw 2026.9.6: docs/gateway/protocol/rpc-bootstrap-and-events.md.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from clawnet.controlplane.gateway_api import (
    GatewayApi,
    GatewayCaller,
    SessionRow,
    channel_and_peer,
    is_missing,
    session_row,
)
from clawnet.controlplane.protocol import GatewayError

LABEL_MAX = 512  # OpenClaw's SESSION_LABEL_MAX_LENGTH

# Every method used here: a web worker may ask the control plane to call them for it.
SESSION_METHODS = frozenset(
    {"sessions.create", "sessions.patch", "sessions.reset", "sessions.compact", "sessions.delete"}
    | {"sessions.abort", "send"}
)


@dataclass(frozen=True)
class CreatedSession:
    key: str
    session_id: str


@dataclass(frozen=True)
class Compaction:
    compacted: bool
    reason: str  # OpenClaw's words when nothing was compacted ("" otherwise)


@dataclass(frozen=True)
class Delivery:
    """An operator reply handed to a channel (`send`)."""

    message_id: str
    channel: str


@dataclass(frozen=True)
class ReplyTarget:
    """Where a reply into a channel conversation goes, read from its session key."""

    channel: str
    to: str


def reply_target(key: str) -> ReplyTarget | None:
    """`agent:<id>:<channel>:<direct|group|channel>:<peer>[...]` -> the channel and the chat to
    send to; None for sessions no channel carries (dashboard, cron, ClawNet's own)."""
    channel, peer = channel_and_peer(key)
    if not channel or not peer:
        return None
    parts = peer.split(":")
    if len(parts) >= 2 and parts[0] in ("direct", "dm", "group", "channel") and parts[1]:
        # Topics and threads (`...:topic:<n>`) are answered in their chat.
        return ReplyTarget(channel, parts[1])
    return None


def label_taken(exc: GatewayError) -> bool:
    """OpenClaw refused a label another session of the agent already has."""
    text = exc.message.lower()
    return "label" in text and ("already" in text or "in use" in text or "taken" in text)


SESSIONS_PAGE = 200
HISTORY_PAGE = 200  # the gateway allows up to 1000 per page


@dataclass(frozen=True)
class SessionsPage:
    rows: list[SessionRow]
    total: int
    next_offset: int | None  # None on the last page


@dataclass(frozen=True)
class HistoryPage:
    total: int  # messages in the whole transcript
    messages: list[dict[str, Any]]  # oldest first
    next_offset: int | None  # the offset of the older page, None when this reaches the start


def message_seq(message: dict[str, Any]) -> int | None:
    seq = (message.get("__openclaw") or {}).get("seq")
    return seq if isinstance(seq, int) else None


def _next(answer: dict[str, Any], offset: int) -> int | None:
    nxt = answer.get("nextOffset")
    if answer.get("hasMore") is True and isinstance(nxt, int) and nxt > offset:
        return nxt
    return None


class GatewaySessions:
    """The session methods of one gateway: reading page by page, and operating."""

    def __init__(self, api: GatewayApi | GatewayCaller) -> None:
        self.caller: GatewayCaller = api.caller if isinstance(api, GatewayApi) else api

    async def create(self, agent_id: str, *, label: str = "") -> CreatedSession:
        params: dict[str, Any] = {"agentId": agent_id}
        if label:
            params["label"] = label[:LABEL_MAX]
        answer = await self.caller.call("sessions.create", params, timeout=30) or {}
        entry = answer.get("entry")
        entry_id = entry.get("sessionId") if isinstance(entry, dict) else ""
        return CreatedSession(str(answer.get("key") or ""), str(answer.get("sessionId") or entry_id or ""))

    async def rename(self, agent_id: str, key: str, label: str) -> None:
        """Give the session a label (an empty one clears it)."""
        await self.caller.call(
            "sessions.patch",
            {"key": key, "agentId": agent_id, "label": label[:LABEL_MAX] if label else None},
            timeout=30,
        )

    async def reset(self, agent_id: str, key: str) -> str:
        """Start the session over (OpenClaw keeps the old transcript as a previous generation).
        Returns the new session id when OpenClaw says it."""
        answer = await self.caller.call(
            "sessions.reset", {"key": key, "agentId": agent_id, "reason": "reset"}, timeout=60
        )
        entry = answer.get("entry") if isinstance(answer, dict) else None
        return str(entry.get("sessionId") or "") if isinstance(entry, dict) else ""

    async def compact(self, agent_id: str, key: str) -> Compaction:
        answer = await self.caller.call("sessions.compact", {"key": key, "agentId": agent_id}, timeout=120)
        answer = answer if isinstance(answer, dict) else {}
        compacted = bool(answer.get("compacted", answer.get("ok", False)))
        return Compaction(compacted, "" if compacted else str(answer.get("reason") or ""))

    async def delete(self, agent_id: str, key: str) -> bool:
        """Remove the session and its transcript; False when the gateway no longer had it."""
        try:
            answer = await self.caller.call(
                "sessions.delete", {"key": key, "agentId": agent_id, "deleteTranscript": True}, timeout=60
            )
        except GatewayError as exc:
            if is_missing(exc):
                return False
            raise
        return bool((answer or {}).get("deleted", True))

    async def abort(self, agent_id: str, key: str) -> bool:
        """Stop the session's running turn (and what is queued behind it); whether one ran."""
        answer = await self.caller.call(
            "sessions.abort", {"key": key, "agentId": agent_id, "clearQueued": True}, timeout=30
        )
        answer = answer if isinstance(answer, dict) else {}
        return answer.get("status") == "aborted" or bool(answer.get("abortedRunId"))

    async def send_to_channel(
        self, agent_id: str, key: str, target: ReplyTarget, text: str, idempotency_key: str
    ) -> Delivery:
        """Deliver `text` into the conversation through the bot's channel account, mirrored into
        the session's transcript."""
        answer = await self.caller.call(
            "send",
            {
                "to": target.to,
                "message": text,
                "channel": target.channel,
                "accountId": agent_id,
                "agentId": agent_id,
                "sessionKey": key,
                "idempotencyKey": idempotency_key,
            },
            timeout=60,
        )
        answer = answer if isinstance(answer, dict) else {}
        return Delivery(str(answer.get("messageId") or ""), str(answer.get("channel") or target.channel))

    async def sessions_page(
        self, agent_id: str, *, offset: int = 0, limit: int = SESSIONS_PAGE
    ) -> SessionsPage:
        params = {"agentId": agent_id, "limit": limit, "offset": offset}
        answer = await self.caller.call("sessions.list", params, timeout=30) or {}
        rows = [session_row(r) for r in answer.get("sessions") or [] if isinstance(r, dict)]
        return SessionsPage(rows, int(answer.get("totalCount") or len(rows)), _next(answer, offset))

    async def all_sessions(self, agent_id: str, *, page: int = SESSIONS_PAGE) -> AsyncIterator[SessionRow]:
        """Every session of one agent, a page at a time, each key once. (Without `agentId` the
        gateway lists only its default agent's sessions.)"""
        offset: int | None = 0
        seen: set[str] = set()
        while offset is not None:
            listing = await self.sessions_page(agent_id, offset=offset, limit=page)
            for row in listing.rows:
                if row.key not in seen:
                    seen.add(row.key)
                    yield row
            offset = listing.next_offset

    async def history_page(
        self, session_key: str, *, offset: int = 0, limit: int = HISTORY_PAGE
    ) -> HistoryPage:
        params: dict[str, Any] = {"sessionKey": session_key, "limit": limit}
        if offset:
            params["offset"] = offset
        answer = await self.caller.call("chat.history", params, timeout=30) or {}
        messages = [m for m in answer.get("messages") or [] if isinstance(m, dict)]
        return HistoryPage(int(answer.get("totalMessages") or 0), messages, _next(answer, offset))

    async def history_since(
        self, session_key: str, after_seq: int, *, first: int = 20, page: int = HISTORY_PAGE
    ) -> tuple[int, list[dict[str, Any]]]:
        """The transcript's total and its messages with a seq above `after_seq` (oldest first),
        reading pages backwards from the newest until one reaches `after_seq`. The first page is
        small: a session with nothing new costs one short read."""
        pages: list[list[dict[str, Any]]] = []
        offset: int | None = 0
        total = 0
        while offset is not None:
            got = await self.history_page(session_key, offset=offset, limit=first if not pages else page)
            total = total or got.total
            pages.append(got.messages)
            seqs = [s for s in map(message_seq, got.messages) if s is not None]
            if not seqs or min(seqs) <= after_seq + 1:
                break
            offset = got.next_offset
        newer = [m for chunk in reversed(pages) for m in chunk if (message_seq(m) or 0) > after_seq]
        return total, newer
