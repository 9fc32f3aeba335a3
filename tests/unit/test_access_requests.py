"""Access requests without a gateway: how OpenClaw's answers are mirrored into the database, who
sees and who may decide, what a decision changes and records, and removing an approved sender
from an OpenClaw state database."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from clawnet.bots.providers import ensure_local_echo_provider
from clawnet.bots.service import BotsService
from clawnet.bots.store import stored_input
from clawnet.controlplane.gateway_api import GatewayApi, pairing_request
from clawnet.controlplane.pairing import Observed, forget_in_store, sender_name, store_requests
from clawnet.controlplane.protocol import GatewayError
from clawnet.enums import Role
from clawnet.errors import NotFound, PermissionDenied
from clawnet.events import EventBus, Kind
from clawnet.models import AccessRequest, ApprovedSender, AuditEvent, Bot, BotChannel, Gateway
from clawnet.security.permissions import Principal
from clawnet.settings import get_settings
from tests.factories import assign, make_bot, make_user


def request_row(request_id: str = "req1", sender: str = "222", **meta: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "requestId": request_id,
        "channel": "telegram",
        "channelLabel": "Telegram",
        "accountId": "helper",
        "senderId": sender,
        "senderLabel": "telegramUserId",
        "metadata": meta or {"username": "mallory", "firstName": "Mallory"},
        "createdAt": now.isoformat().replace("+00:00", "Z"),
        "lastSeenAt": now.isoformat().replace("+00:00", "Z"),
        "expiresAt": (now + timedelta(hours=1)).isoformat().replace("+00:00", "Z"),
        "notifySupported": True,
    }


def test_sender_names_read_like_people():
    assert sender_name({"username": "mallory", "firstName": "Mallory"}) == "Mallory (@mallory)"
    assert sender_name({"firstName": "Ann", "lastName": "Lee"}) == "Ann Lee"
    assert sender_name({"username": "x"}) == "@x"
    assert sender_name({}) == ""


def test_the_mirror_follows_what_the_gateway_lists(session):
    owner = make_user(session, Role.OPERATOR)
    bot = make_bot(session, owner)
    gateway = Gateway(name="gw", token_enc="x")
    session.add(gateway)
    session.flush()
    first = Observed(bot.id, pairing_request(request_row("a")))
    second = Observed(bot.id, pairing_request(request_row("b", "333")))
    assert store_requests(session, gateway.id, [first]) == {bot.id: 1}
    assert store_requests(session, gateway.id, [first]) == {}  # nothing changed: nothing to say
    assert store_requests(session, gateway.id, [first, second]) == {bot.id: 2}
    assert store_requests(session, gateway.id, [second]) == {bot.id: 1}  # approved elsewhere, expired
    [row] = session.exec(select(AccessRequest)).all()
    assert (row.sender_id, row.sender_name, row.request_id) == ("333", "Mallory (@mallory)", "b")
    assert store_requests(session, gateway.id, []) == {bot.id: 0}


def test_forgetting_a_sender_deletes_only_that_entry(tmp_path):
    path = tmp_path / "openclaw.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE channel_pairing_allow_entries (channel_key TEXT, account_id TEXT, entry TEXT, "
            "sort_order INTEGER, updated_at INTEGER)"
        )
        conn.executemany(
            "INSERT INTO channel_pairing_allow_entries VALUES (?, ?, ?, 0, 0)",
            [("telegram", "helper", "222"), ("telegram", "helper", "333"), ("telegram", "other", "222")],
        )
    assert forget_in_store(path, "telegram", "Helper", "222") == 1
    assert forget_in_store(path, "telegram", "helper", "222") == 0
    with sqlite3.connect(path) as conn:
        left = sorted(conn.execute("SELECT account_id, entry FROM channel_pairing_allow_entries"))
    assert left == [("helper", "333"), ("other", "222")]
    empty = tmp_path / "empty.sqlite"
    sqlite3.connect(empty).close()
    assert forget_in_store(empty, "telegram", "helper", "222") == 0  # no table yet: nothing to do


class FakeCaller:
    """Answers the pairing methods like a gateway would."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.gone = False
        self.sender = "222"

    @property
    def is_connected(self) -> bool:
        return True

    async def call(self, method: str, params: dict[str, Any] | None = None, **_kw: Any) -> Any:
        self.calls.append((method, dict(params or {})))
        if self.gone:
            raise GatewayError("INVALID_REQUEST", "pending DM access request no longer exists")
        if method == "channels.pairing.approve":
            return {"requestId": "a", "senderId": self.sender, "notification": "sent"}
        return {"requestId": "a", "senderId": self.sender}


class FakeControl:
    def __init__(self, caller: FakeCaller) -> None:
        self.caller = caller
        self.kicks = 0
        self.forgotten: list[tuple[Any, ...]] = []

    @property
    def runs_here(self) -> bool:
        return True

    def kick(self) -> None:
        self.kicks += 1

    def gateway(self, gateway_id: int) -> GatewayApi:
        return GatewayApi(self.caller)

    async def forget_paired_sender(self, *args: Any) -> str:
        self.forgotten.append(args)
        return ""


@pytest.fixture
def world(session):
    owner = make_user(session, Role.OPERATOR)
    viewer = make_user(session, Role.VIEWER)
    outsider = make_user(session, Role.OPERATOR)
    bot = make_bot(session, owner, "Helper")
    assign(session, viewer, bot)
    gateway = Gateway(name="gw", token_enc="x")
    session.add(gateway)
    session.flush()
    bot.gateway_id = gateway.id
    session.add(BotChannel(bot_id=bot.id, type="telegram", allow_from=["111"]))
    store_requests(session, gateway.id, [Observed(bot.id, pairing_request(request_row("a")))])
    session.commit()
    caller = FakeCaller()
    service = BotsService(get_settings(), EventBus(), FakeControl(caller))  # type: ignore[arg-type]
    request_id = session.exec(select(AccessRequest.id)).one()
    return {
        "service": service,
        "caller": caller,
        "owner": Principal.of(owner),
        "viewer": Principal.of(viewer),
        "outsider": Principal.of(outsider),
        "bot": bot.id,
        "agent": bot.agent_id,
        "gateway": gateway.id,
        "request": request_id,
    }


async def test_viewers_see_requests_but_only_those_who_configure_decide(world):
    service = world["service"]
    [mine] = await service.access_requests(world["owner"])
    [theirs] = await service.access_requests(world["viewer"])
    assert mine.can_decide and not theirs.can_decide and theirs.sender_id == "222"
    assert await service.access_requests(world["outsider"]) == []
    assert await service.access_count(world["viewer"]) == 1
    for who in ("viewer", "outsider"):
        with pytest.raises(PermissionDenied):
            await service.approve_access(world[who], world["request"])
        with pytest.raises(PermissionDenied):
            await service.dismiss_access(world[who], world["request"])
        with pytest.raises(PermissionDenied):
            await service.revoke_sender(world[who], world["bot"], "telegram", "111")
    assert world["caller"].calls == []  # refused before the gateway was asked


async def test_approving_allows_the_sender_and_records_who_did_it(world, session):
    service = world["service"]
    with service.bus.subscribe([Kind.ACCESS_REQUESTS, Kind.ACCESS_SENDERS]) as events:
        message = await service.approve_access(world["owner"], world["request"], notify=True)
        kinds = [events.get_nowait().kind for _ in range(2)]
    assert message == "Approved Mallory (@mallory) (222); they were told."
    assert kinds == [Kind.ACCESS_REQUESTS, Kind.ACCESS_SENDERS]
    method, params = world["caller"].calls[-1]
    assert method == "channels.pairing.approve" and params["notify"] is True
    assert params["accountId"] == "helper" and params["requestId"] == "a"
    session.expire_all()
    assert session.exec(select(BotChannel.allow_from)).one() == ["111", "222"]
    assert session.exec(select(AccessRequest)).all() == []
    approved = session.exec(select(ApprovedSender)).one()
    assert approved.approved_by == world["owner"].label
    audit = session.exec(select(AuditEvent).where(AuditEvent.action == "access.approve")).one()
    assert "222" in audit.summary and audit.actor_id == world["owner"].user_id
    senders = await service.approved_senders(world["owner"], world["bot"])
    assert [(s.sender_id, s.how.startswith("approved")) for s in senders] == [("111", False), ("222", True)]

    message = await service.revoke_sender(world["owner"], world["bot"], "telegram", "222")
    assert message == "Revoked Mallory (@mallory) (222)."
    session.expire_all()
    assert session.exec(select(BotChannel.allow_from)).one() == ["111"]
    assert session.exec(select(ApprovedSender)).all() == []
    assert service.control.forgotten == [(world["gateway"], "telegram", world["agent"], "222")]
    with pytest.raises(NotFound):
        await service.revoke_sender(world["owner"], world["bot"], "telegram", "222")


async def test_a_request_decided_elsewhere_is_dropped_with_a_clear_message(world, session):
    world["caller"].gone = True
    with pytest.raises(NotFound, match="already decided"):
        await world["service"].dismiss_access(world["owner"], world["request"])
    session.expire_all()
    assert session.exec(select(AccessRequest)).all() == []
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "access.dismiss")).all() == []


async def test_an_id_the_allowlist_cannot_hold_is_still_listed_and_revocable(world, session):
    """A Signal sender known only by a uuid: OpenClaw keeps the approval; ClawNet's allowlist
    (phone numbers for Signal) cannot, so it is listed from the approval record."""
    service, owner = world["service"], world["owner"]
    row = session.exec(select(AccessRequest)).one()
    row.channel, row.sender_id = "signal", "uuid:0b7e"
    session.add(BotChannel(bot_id=world["bot"], type="signal"))
    session.add(row)
    session.commit()
    world["caller"].sender = "uuid:0b7e"
    await service.approve_access(owner, world["request"])
    session.expire_all()
    signal = session.exec(select(BotChannel).where(BotChannel.type == "signal")).one()
    assert signal.allow_from == []
    [listed] = [s for s in await service.approved_senders(owner, world["bot"]) if s.channel == "signal"]
    assert listed.sender_id == "uuid:0b7e" and "gateway only" in listed.how
    assert (await service.revoke_sender(owner, world["bot"], "signal", "uuid:0b7e")).startswith("Revoked")
    assert [s for s in await service.approved_senders(owner, world["bot"]) if s.channel == "signal"] == []


async def test_an_edit_that_drops_an_approved_sender_takes_their_access_away_like_revoke(world, session):
    """OpenClaw also admits the senders in its own pairing store: an allowlist edit (wizard, API)
    must remove them there too, or the removed sender would still be answered."""
    service, owner = world["service"], world["owner"]
    await service.approve_access(owner, world["request"])
    session.expire_all()
    inp = stored_input(session, session.get(Bot, world["bot"]))
    inp.provider_id, inp.model_id = ensure_local_echo_provider(session).id, "echo-1"
    session.commit()
    [telegram] = inp.channels
    assert telegram.allow_from == ["111", "222"]
    telegram.allow_from = ["111"]
    telegram.credentials = {"botToken": "123456789:AAH0f2l4xmPBtFakeTokenForTests_abcdefg"}
    await service.update_bot(owner, world["bot"], inp)
    assert service.control.forgotten == [(world["gateway"], "telegram", world["agent"], "222")]
    session.expire_all()
    assert session.exec(select(ApprovedSender)).all() == []
    assert session.exec(select(BotChannel.allow_from)).one() == ["111"]
