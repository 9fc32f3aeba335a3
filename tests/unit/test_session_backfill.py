"""Session sync's catch-up reads every session and long transcripts page by page, the way the
real gateway pages them (sessions.list by offset; chat.history from the newest backwards)."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from clawnet.controlplane.db_runner import DbRunner
from clawnet.controlplane.sessions import SessionSync
from clawnet.db import session_scope
from clawnet.enums import Role
from clawnet.events import EventBus
from clawnet.models import BotSession, TranscriptMessage
from tests.factories import make_bot, make_user
from tests.support.aio import run_async


class FakeGateway:
    """sessions.list and chat.history as OpenClaw 2026.9.6 answers them (checked against it)."""

    def __init__(self, sessions: dict[str, int]) -> None:
        self.sessions = sessions  # key -> number of messages
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.is_connected = True

    async def call(self, method: str, params: dict[str, Any] | None = None, **_: Any) -> Any:
        params = params or {}
        self.calls.append((method, params))
        if method == "sessions.list":
            keys = sorted(self.sessions) if params.get("agentId") == "a1" else []
            offset, limit = params.get("offset", 0), params["limit"]
            rows = [{"key": k, "agentId": "a1", "sessionId": k} for k in keys[offset : offset + limit]]
            more = offset + limit < len(keys)
            return {
                "sessions": rows,
                "totalCount": len(keys),
                "hasMore": more,
                "nextOffset": offset + limit if more else None,
            }
        assert method == "chat.history"
        total = self.sessions[params["sessionKey"]]
        offset, limit = params.get("offset", 0), params["limit"]
        seqs = list(range(1, total + 1))[max(0, total - offset - limit) : total - offset]
        more = bool(seqs) and seqs[0] > 1
        return {
            "totalMessages": total,
            "messages": [
                {
                    "role": "user",
                    "content": f"m{q}",
                    "timestamp": 1_700_000_000_000 + q,
                    "__openclaw": {"seq": q},
                }
                for q in seqs
            ],
            "hasMore": more,
            **({"nextOffset": offset + len(seqs)} if more else {}),
        }


class FakeLink:
    def __init__(self, client: FakeGateway, bot_id: int) -> None:
        self.client, self.gateway_id, self.agent_bots = client, 1, {"a1": bot_id}


def test_backfill_pages_through_every_session_and_only_the_missing_messages(migrated):
    with session_scope() as s:
        bot_id = make_bot(s, make_user(s, Role.OPERATOR)).id
    gateway = FakeGateway({f"agent:a1:s{i:03d}": 3 for i in range(450)} | {"agent:a1:long": 730})
    sync = SessionSync(DbRunner(), EventBus())
    link = FakeLink(gateway, bot_id)
    assert run_async(sync.backfill(link)) == 450 * 3 + 730  # type: ignore[arg-type]
    with session_scope() as s:
        assert len(s.exec(select(BotSession)).all()) == 451
        long = s.exec(select(BotSession).where(BotSession.key == "agent:a1:long")).one()
        seqs = s.exec(select(TranscriptMessage.seq).where(TranscriptMessage.session_id == long.id)).all()
        assert sorted(seqs) == list(range(1, 731))
        assert long.message_count == 730
    assert sum(1 for m, _ in gateway.calls if m == "sessions.list") == 3  # pages of 200

    # Caught up: one short read per session. Then 5 new messages in the long one.
    gateway.calls.clear()
    gateway.sessions["agent:a1:long"] = 735
    assert run_async(sync.backfill(link)) == 5  # type: ignore[arg-type]
    histories = [p for m, p in gateway.calls if m == "chat.history"]
    assert len(histories) == 451 and all(p["limit"] == 20 for p in histories)
