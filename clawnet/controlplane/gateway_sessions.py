"""Reading a gateway's sessions and transcripts page by page (`sessions.list`, `chat.history`).

Both page by `offset`. `sessions.list` answers `{sessions, totalCount, nextOffset, hasMore}`.
`chat.history` counts its offset from the newest message backwards: offset 0 is the newest
`limit` messages, and `nextOffset` (with `hasMore`) asks for the ones before them. A page may
hold fewer messages than `limit` (oversized rows are capped by bytes): always advance by the
`nextOffset` the gateway gave, never by the count received. `sessions.list` without `agentId`
lists the default agent's sessions only: ask per agent. (OpenClaw 2026.9.6:
docs/gateway/protocol/rpc-bootstrap-and-events.md, rpc-session-control.md.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from clawnet.controlplane.gateway_api import GatewayCaller, SessionRow, session_row

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
    def __init__(self, caller: GatewayCaller) -> None:
        self.caller = caller

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
