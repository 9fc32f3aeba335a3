"""Rate limits on costly actions: the sliding window (in memory), the services refusing the
N+1th chat turn, restart, import and session change with a plain message (and counting per
person), and only admins changing the limits, with a message per wrong field."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from clawnet.bots.service import BotsService
from clawnet.controlplane.chat import Turn
from clawnet.controlplane.gateway_api import GatewayApi
from clawnet.enums import Role
from clawnet.errors import PermissionDenied, RateLimited, UserError
from clawnet.events import EventBus
from clawnet.models import AuditEvent, Gateway, RateLimitSetting
from clawnet.security.limiter import MemoryWindows
from clawnet.security.permissions import Principal
from clawnet.security.rate_limit import DEFAULT_LIMITS, LimitAction, RateLimiter, rate_limiter
from clawnet.settings import get_settings, load_settings
from tests.factories import assign, make_bot, make_user
from tests.unit.test_session_ops import FakeCaller


def test_the_window_allows_n_then_says_when_the_oldest_leaves():
    windows = MemoryWindows()
    assert [windows.hit("k", 3, 60, now=t) for t in (0.0, 10.0, 20.0)] == [0.0, 0.0, 0.0]
    assert windows.hit("k", 3, 60, now=30.0) == pytest.approx(30.0)  # the hit at 0 leaves at 60
    assert windows.hit("other", 3, 60, now=30.0) == 0.0  # keys are counted apart
    assert windows.hit("k", 3, 60, now=60.5) == 0.0  # refused tries were not counted
    assert windows.hit("k", 3, 60, now=61.0) == pytest.approx(9.0)


def test_the_refusal_says_what_and_how_long(clawnet_env):
    limiter = RateLimiter(clawnet_env.database_url)
    limiter._cached, limiter._cached_at = (
        {**DEFAULT_LIMITS, LimitAction.CHAT: DEFAULT_LIMITS[LimitAction.CHAT]},
        1e12,
    )
    limiter.backend = _Full(30.0)
    with pytest.raises(RateLimited) as refused:
        limiter.hit(LimitAction.CHAT, "user:1")
    assert str(refused.value) == "Too many chat messages. Try again in 30 seconds."
    assert refused.value.retry_after_s == 30.0


class _Full:
    def __init__(self, wait: float) -> None:
        self.wait = wait

    def hit(self, key: str, count: int, window_s: float) -> float:
        return self.wait


def test_limits_can_be_switched_off_for_benchmarks(tmp_path):
    settings = load_settings({"CLAWNET_DATA_DIR": str(tmp_path), "CLAWNET_RATE_LIMITS": "off"})
    assert not settings.rate_limits_enabled
    assert load_settings({"CLAWNET_DATA_DIR": str(tmp_path)}).rate_limits_enabled


class FakeControl:
    """The control plane's side of chat and restart, without a gateway."""

    def __init__(self) -> None:
        self.chats: list[str] = []
        self.restarts: list[int] = []
        self.caller = FakeCaller()  # answers the gateway's session methods

    @property
    def runs_here(self) -> bool:
        return True

    def kick(self) -> None:
        pass

    async def chat(self, bot_id: int, text: str, **_kw: Any) -> Turn:
        self.chats.append(text)
        return Turn(
            turn_id=len(self.chats), bot_id=bot_id, gateway_id=1, session_key="k", idempotency_key="i"
        )

    async def restart_gateway(self, gateway_id: int) -> None:
        self.restarts.append(gateway_id)

    def gateway(self, gateway_id: int) -> GatewayApi:
        return GatewayApi(self.caller)


@pytest.fixture
def world(session):
    admin = make_user(session, Role.ADMIN)
    owner = make_user(session, Role.OPERATOR)
    helper = make_user(session, Role.OPERATOR)
    bot = make_bot(session, owner)
    assign(session, helper, bot)
    gateway = Gateway(name="gw", token_enc="x")
    session.add(gateway)
    session.flush()
    bot.gateway_id = gateway.id
    session.add(bot)
    session.commit()
    control = FakeControl()
    service = BotsService(get_settings(), EventBus(), control)  # type: ignore[arg-type]
    return {
        "service": service,
        "control": control,
        "admin": Principal.of(admin),
        "owner": Principal.of(owner),
        "helper": Principal.of(helper),
        "bot": bot.id,
    }


def _form(**changed: int) -> dict[str, str]:
    form = {}
    for action, limit in DEFAULT_LIMITS.items():
        form[f"{action.value}_count"] = str(limit.count)
        form[f"{action.value}_window"] = str(limit.window_s)
    return form | {k: str(v) for k, v in changed.items()}


async def test_the_n_plus_first_chat_turn_is_refused_per_person(world):
    service, bot = world["service"], world["bot"]
    await service.save_rate_limits(world["admin"], _form(chat_count=3, chat_window=60))
    for n in range(3):
        await service.chat(world["owner"], bot, f"hello {n}")
    with pytest.raises(RateLimited) as refused:
        await service.chat(world["owner"], bot, "one too many")
    assert str(refused.value).startswith("Too many chat messages. Try again in ")
    assert 1 <= refused.value.retry_after_s <= 60
    assert world["control"].chats == ["hello 0", "hello 1", "hello 2"]  # the refused one never ran
    await service.chat(world["helper"], bot, "another person's turn")  # counted per person
    assert world["control"].chats[-1] == "another person's turn"


async def test_the_n_plus_first_restart_is_refused_and_not_audited(world, session):
    service, bot = world["service"], world["bot"]
    await service.save_rate_limits(world["admin"], _form(lifecycle_count=2, lifecycle_window=600))
    await service.restart_bot(world["owner"], bot)
    await service.set_running(world["owner"], bot, False)
    with pytest.raises(
        RateLimited, match=r"^Too many bot starts, stops and restarts\. Try again in \d+ minutes\.$"
    ):
        await service.restart_bot(world["owner"], bot)
    with pytest.raises(RateLimited):
        await service.set_running(world["owner"], bot, True)
    await service.set_running(world["owner"], bot, False)  # no change (already stopped): not counted
    assert len(world["control"].restarts) == 1
    actions = session.exec(select(AuditEvent.action).where(AuditEvent.action.startswith("bot."))).all()  # type: ignore[attr-defined]
    assert sorted(actions) == ["bot.restart", "bot.stop"]


async def test_session_changes_and_imports_are_limited_too(world):
    service = world["service"]
    await service.save_rate_limits(world["admin"], _form(session_count=1, import_count=1))
    await service.new_session(world["owner"], world["bot"], "first")
    with pytest.raises(RateLimited, match=r"^Too many session changes"):
        await service.new_session(world["owner"], world["bot"], "second")
    assert [m for m, _ in world["control"].caller.calls] == ["sessions.create"]
    config = "{agents: {list: [{id: 'one', name: 'One'}]}}"
    await service.import_config(world["owner"], config, dry_run=True)  # previews are free
    await service.import_config(world["owner"], config, dry_run=True)
    await service.import_config(world["owner"], config)
    with pytest.raises(RateLimited, match=r"^Too many imports\. Try again in \d+ minutes\.$"):
        await service.import_config(world["owner"], config)


async def test_only_admins_read_and_change_the_limits(world, session):
    service = world["service"]
    for who in ("owner", "helper"):
        with pytest.raises(PermissionDenied, match="Only admins can change the rate limits"):
            await service.save_rate_limits(world[who], _form(chat_count=1))
        with pytest.raises(PermissionDenied):
            await service.rate_limits(world[who])
    with pytest.raises(PermissionDenied):
        await service.save_rate_limits(None, _form(chat_count=1))
    assert session.exec(select(RateLimitSetting)).all() == []

    rows = await service.save_rate_limits(world["admin"], _form(chat_count=5, chat_window=120))
    chat = next(r for r in rows if r.action == "chat")
    assert (chat.count, chat.window_s, chat.changed, chat.default) == (5, 120, True, "30 per 60 seconds")
    assert rate_limiter(get_settings()).limits()[LimitAction.CHAT].count == 5
    rows = await service.save_rate_limits(world["admin"], _form())  # back to the defaults
    assert not any(r.changed for r in rows)
    session.expire_all()
    assert session.exec(select(RateLimitSetting)).all() == []


async def test_each_wrong_field_says_what_is_wrong(world):
    with pytest.raises(UserError) as bad:
        await world["service"].save_rate_limits(
            world["admin"], _form() | {"chat_count": "0", "api_window": "soon", "import_count": ""}
        )
    assert bad.value.field_errors == {
        "chat_count": "Give a number from 1 to 1,000,000.",
        "api_window": "Give a whole number.",
        "import_count": "Required.",
    }
