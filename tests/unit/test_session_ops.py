"""Session operations without a gateway: who may operate a bot's sessions (viewers only read),
what the service asks the gateway, and how ClawNet's copy follows (labels, resets, deletes,
operator replies marked in the transcript)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from clawnet.bots import session_queries
from clawnet.bots.service import BotsService
from clawnet.controlplane.gateway_api import GatewayApi
from clawnet.controlplane.gateway_sessions import ReplyTarget, reply_target
from clawnet.controlplane.session_ops import clear_transcript, label_of, operator_authors
from clawnet.enums import Role
from clawnet.errors import PermissionDenied, UserError
from clawnet.events import EventBus
from clawnet.models import AuditEvent, BotSession, Gateway, OperatorReply, TranscriptMessage, utcnow
from clawnet.security.permissions import Principal
from clawnet.settings import get_settings
from tests.factories import assign, make_bot, make_user


class FakeCaller:
    """Answers the session methods as OpenClaw 2026.9.6 does."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    @property
    def is_connected(self) -> bool:
        return True

    async def call(self, method: str, params: dict[str, Any] | None = None, **_kw: Any) -> Any:
        self.calls.append((method, dict(params or {})))
        return {
            "sessions.create": {"ok": True, "key": "agent:helper:dashboard:abc", "sessionId": "s-1"},
            "sessions.abort": {"ok": True, "abortedRunId": "r1", "status": "aborted"},
            "sessions.compact": {"ok": True, "compacted": True},
            "send": {"runId": "x", "messageId": "1003", "channel": "telegram"},
        }.get(method, {"ok": True})


class FakeControl:
    def __init__(self, caller: FakeCaller) -> None:
        self.caller = caller

    @property
    def runs_here(self) -> bool:
        return True

    def kick(self) -> None:
        pass

    def gateway(self, gateway_id: int) -> GatewayApi:
        return GatewayApi(self.caller)


KEY = "agent:helper:telegram:direct:111"


@pytest.fixture
def world(session):
    owner = make_user(session, Role.OPERATOR, name="Olga")
    viewer = make_user(session, Role.VIEWER)
    outsider = make_user(session, Role.OPERATOR)
    bot = make_bot(session, owner, "Helper")
    bot.agent_id = "helper"
    assign(session, viewer, bot)
    gateway = Gateway(name="gw", token_enc="x")
    session.add(gateway)
    session.flush()
    bot.gateway_id = gateway.id
    row = BotSession(bot_id=bot.id, key=KEY, channel="telegram", peer="direct:111")
    session.add_all([bot, row])
    session.flush()
    for seq, role, text in ((1, "user", "hi"), (2, "assistant", "hello")):
        session.add(TranscriptMessage(session_id=row.id, seq=seq, role=role, text=text))
    row.message_count = 2
    session.commit()
    caller = FakeCaller()
    service = BotsService(get_settings(), EventBus(), FakeControl(caller))  # type: ignore[arg-type]
    return {
        "service": service,
        "caller": caller,
        "owner": Principal.of(owner),
        "viewer": Principal.of(viewer),
        "outsider": Principal.of(outsider),
        "bot": bot.id,
        "session": row.id,
    }


async def test_viewers_and_strangers_are_refused_every_operation(world, session):
    service, sid = world["service"], world["session"]
    for who in ("viewer", "outsider"):
        actor = world[who]
        attempts = [
            service.new_session(actor, world["bot"], "x"),
            service.rename_session(actor, sid, "x"),
            service.reset_session(actor, sid),
            service.compact_session(actor, sid),
            service.delete_session(actor, sid),
            service.abort_session(actor, sid),
            service.reply_as_operator(actor, sid, "hello"),
        ]
        for attempt in attempts:
            with pytest.raises(PermissionDenied):
                await attempt
    assert world["caller"].calls == []  # nothing reached the gateway
    session.expire_all()
    assert session.exec(select(AuditEvent).where(AuditEvent.object_type == "session")).all() == []
    assert session.get(BotSession, sid).message_count == 2


async def test_the_operator_operates_and_each_step_is_audited(world, session):
    service, sid, owner = world["service"], world["session"], world["owner"]
    await service.rename_session(owner, sid, "  Alice \x00 on Telegram ")
    await service.reply_as_operator(owner, sid, "A person here.")
    assert await service.compact_session(owner, sid) == "Session compacted."
    assert await service.abort_session(owner, sid)
    await service.reset_session(owner, sid)
    new_id = await service.new_session(owner, world["bot"], "Scratch")
    await service.delete_session(owner, new_id)
    methods = [m for m, _ in world["caller"].calls]
    assert methods == [
        "sessions.patch",
        "send",
        "sessions.compact",
        "sessions.abort",
        "sessions.reset",
        "sessions.create",
        "sessions.delete",
    ]
    patch, send = world["caller"].calls[0][1], world["caller"].calls[1][1]
    assert patch == {"key": KEY, "agentId": "helper", "label": "Alice on Telegram"}
    assert (send["to"], send["channel"], send["accountId"], send["sessionKey"]) == (
        "111",
        "telegram",
        "helper",
        KEY,
    )
    session.expire_all()
    row = session.get(BotSession, sid)
    assert (row.label, row.message_count) == ("Alice on Telegram", 0)  # renamed, then reset
    assert session.get(BotSession, new_id) is None
    actions = sorted(
        e.action for e in session.exec(select(AuditEvent).where(AuditEvent.object_type == "session"))
    )
    assert actions == sorted(
        [
            "session.rename",
            "session.reply",
            "session.compact",
            "session.abort",
            "session.reset",
            "session.create",
            "session.delete",
        ]
    )


async def test_bad_input_says_which_field(world):
    service, sid, owner = world["service"], world["session"], world["owner"]
    with pytest.raises(UserError) as exc:
        await service.reply_as_operator(owner, sid, "   ")
    assert "reply" in exc.value.field_errors
    with pytest.raises(UserError) as exc:
        await service.rename_session(owner, sid, "x" * 101)
    assert "label" in exc.value.field_errors
    assert world["caller"].calls == []


def test_replies_go_to_the_chat_the_session_key_names():
    assert reply_target(KEY) == ReplyTarget("telegram", "111")
    assert reply_target("agent:a:telegram:group:-1001:topic:7") == ReplyTarget("telegram", "-1001")
    assert reply_target("agent:a:main") is None
    assert reply_target("agent:a:dashboard:abc") is None
    assert reply_target("cron:job1") is None


def test_a_label_is_kept_unless_the_row_names_one():
    assert label_of({}, "kept") == "kept"
    assert label_of({"label": None}, "kept") == ""
    assert label_of({"label": "New"}, "kept") == "New"


def test_operator_replies_are_marked_once_each(world, session):
    sid = world["session"]
    now = utcnow()
    session.add_all(
        [
            TranscriptMessage(
                session_id=sid, seq=3, role="assistant", text="On it.", model="delivery-mirror"
            ),
            TranscriptMessage(session_id=sid, seq=4, role="assistant", text="On it.", model="echo-1"),
            TranscriptMessage(
                session_id=sid, seq=5, role="assistant", text="On it.", model="delivery-mirror"
            ),
            OperatorReply(session_id=sid, author="Olga", text="On it.", created_at=now),
        ]
    )
    session.flush()
    lines = session_queries.transcript_page(session, world["owner"], sid).lines
    assert [(line.seq, line.author) for line in lines if line.seq >= 3] == [
        (3, "Operator · Olga"),
        (4, ""),  # the bot said the same words itself
        (5, ""),  # one reply, one mark
    ]
    messages = list(session.exec(select(TranscriptMessage).where(TranscriptMessage.session_id == sid)))
    assert operator_authors(session, sid, messages) == {3: "Operator · Olga"}


def test_clearing_a_transcript_keeps_what_came_after_the_reset(world, session):
    sid = world["session"]
    row = session.get(BotSession, sid)
    later = utcnow() + timedelta(seconds=5)
    session.add(TranscriptMessage(session_id=sid, seq=9, role="system", text="Reset", created_at=later))
    session.flush()
    clear_transcript(session, row, before=later - timedelta(seconds=1))
    assert [
        m.text for m in session.exec(select(TranscriptMessage).where(TranscriptMessage.session_id == sid))
    ] == ["Reset"]
    assert (row.message_count, row.preview) == (1, "Reset")
    clear_transcript(session, row)
    assert (row.message_count, row.preview, row.last_message_at) == (0, "", None)
