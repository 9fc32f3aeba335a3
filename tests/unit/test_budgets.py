"""Budget maths: UTC periods, thresholds, limits typed in a form, crossings published once,
pausing and resuming (budget and kill switch), and the paused model in the rendered config."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlmodel import select

from clawnet.bots.budgets import _save, parse_limits
from clawnet.controlplane import budget_rules as br
from clawnet.controlplane import budgets as cb
from clawnet.controlplane.budgets import check_bot, evaluate, pause_reply, set_kill_switch
from clawnet.controlplane.plan import agent_spec, paused_provider
from clawnet.enums import Role
from clawnet.models import DEFAULT_PAUSE_REPLY, BotPause, BotSession, Budget, TranscriptMessage, utcnow
from clawnet.settings import get_settings
from tests.factories import make_bot, make_user


def test_periods_are_utc_calendar_days_and_months() -> None:
    now = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert br.period_start("day", now) == datetime(2026, 12, 31, tzinfo=UTC)
    assert br.period_start("month", now) == datetime(2026, 12, 1, tzinfo=UTC)
    assert br.period_end("day", now) == datetime(2027, 1, 1, tzinfo=UTC)
    assert br.period_end("month", now) == datetime(2027, 1, 1, tzinfo=UTC)
    assert br.period_end("month", datetime(2026, 2, 10, tzinfo=UTC)) == datetime(2026, 3, 1, tzinfo=UTC)
    # A time in another zone counts in UTC (01:30 at +02:00 is the day before in UTC).
    plus_two = timezone(timedelta(hours=2))
    assert br.period_start("day", datetime(2026, 6, 1, 1, 30, tzinfo=plus_two)) == datetime(
        2026, 5, 31, tzinfo=UTC
    )
    assert br.period_days("month", datetime(2026, 6, 15, 8, tzinfo=UTC)) == (
        datetime(2026, 6, 1).date(),
        datetime(2026, 6, 15).date(),
    )


def test_thresholds() -> None:
    assert br.level(0.79, 1) == 0
    assert br.level(0.8, 1) == 80
    assert br.level(0.99, 1) == 80
    assert br.level(1.0, 1) == 100
    assert br.level(5, 1) == 100
    assert br.level(5, 0) == 0  # no limit
    usage = br.Usage(cost_usd=0.2, tokens=100, gateway_cost_usd=0.3, gateway_tokens=50)
    assert usage.of("cost") == 0.3 and usage.of("tokens") == 100  # the larger of the two


def test_form_limits_and_field_errors() -> None:
    limits, errors = parse_limits({"day_cost": "$1.50", "month_tokens": "10,000", "day_tokens": "x"})
    assert limits["day_cost"] == 1.5 and limits["month_tokens"] == 10000 and limits["month_cost"] is None
    assert set(errors) == {"day_tokens"}
    _, errors = parse_limits({"day_cost": "0", "month_tokens": "1.5"})
    assert set(errors) == {"day_cost", "month_tokens"}


def _spend(s, bot_id: int, cost: float, tokens: int, seq: int) -> None:
    row = s.exec(select(BotSession).where(BotSession.bot_id == bot_id)).first()
    if row is None:
        row = BotSession(bot_id=bot_id, key=f"agent:b{bot_id}:main")
        s.add(row)
        s.flush()
    s.add(
        TranscriptMessage(
            session_id=row.id, seq=seq, role="assistant", input_tokens=tokens, cost_usd=cost, text="hi"
        )
    )
    br.record_usage(s, bot_id, utcnow(), cost, tokens)  # as session sync does
    s.flush()


def test_crossings_are_published_once_and_pause_and_resume(session) -> None:
    owner = make_user(session, Role.OPERATOR)
    bot = make_bot(session, owner)
    budget = Budget(
        scope="bot", bot_id=bot.id, owner_id=owner.id, period="day", metric="cost", limit_amount=1.0
    )
    session.add(budget)
    session.flush()
    assert check_bot(session, bot.id).events == []
    _spend(session, bot.id, 0.85, 10, 1)
    first = check_bot(session, bot.id)
    assert [e["threshold"] for e in first.events] == [80] and not first.paused_changed
    assert check_bot(session, bot.id).events == []  # once per crossing
    _spend(session, bot.id, 0.2, 10, 2)
    spent = check_bot(session, bot.id)
    assert [e["threshold"] for e in spent.events] == [100] and spent.paused_changed == {bot.id}
    assert session.get(BotPause, bot.id).reason == "budget"
    event = spent.events[0]
    assert event["owner_id"] == owner.id and event["bot_id"] == bot.id and event["limit"] == 1.0
    # The owner raises the limit: back under, resumed.
    budget.limit_amount = 10.0
    raised = evaluate(session, [budget])
    assert [e["threshold"] for e in raised.events] == [0] and raised.paused_changed == {bot.id}
    assert session.get(BotPause, bot.id).reason == "none"


def test_a_new_period_resumes(session) -> None:
    owner = make_user(session, Role.OPERATOR)
    bot = make_bot(session, owner)
    budget = Budget(scope="owner", owner_id=owner.id, period="day", metric="tokens", limit_amount=100)
    session.add(budget)
    session.flush()
    _spend(session, bot.id, 0, 150, 1)
    assert check_bot(session, bot.id).paused_changed == {bot.id}
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    later = evaluate(session, [budget], tomorrow)
    assert [e["threshold"] for e in later.events] == [0] and later.events[0]["bot_id"] is None
    assert session.get(BotPause, bot.id).reason == "none"


def test_kill_switch_wins_and_resume_keeps_a_spent_budget(session) -> None:
    owner = make_user(session, Role.OPERATOR)
    a, b = make_bot(session, owner), make_bot(session, owner)
    assert set_kill_switch(session, [a.id, b.id], True).paused_changed == {a.id, b.id}
    assert session.get(BotPause, a.id).reason == "kill_switch"
    session.add(
        Budget(scope="bot", bot_id=b.id, owner_id=owner.id, period="month", metric="cost", limit_amount=0.1)
    )
    _spend(session, b.id, 0.5, 1, 1)
    assert not check_bot(session, b.id).paused_changed  # the kill switch stays the reason
    set_kill_switch(session, [a.id, b.id], False)
    assert session.get(BotPause, a.id).reason == "none"
    assert session.get(BotPause, b.id).reason == "budget"


def test_an_owners_resume_leaves_the_fleet_pause(session) -> None:
    owner = make_user(session, Role.OPERATOR)
    mine, other = make_bot(session, owner), make_bot(session, owner)
    # The owner pauses one bot's pool, then an admin pauses the fleet (taking over that pause).
    assert set_kill_switch(session, [mine.id], True, "owner").paused_changed == {mine.id}
    assert session.get(BotPause, mine.id).kill_scope == "owner"
    assert set_kill_switch(session, [mine.id, other.id], True, "fleet").paused_changed == {other.id}
    assert {session.get(BotPause, i).kill_scope for i in (mine.id, other.id)} == {"fleet"}
    # "Resume my bots" does not lift the admin's fleet pause.
    assert not set_kill_switch(session, [mine.id, other.id], False, "owner").paused_changed
    assert {session.get(BotPause, i).reason for i in (mine.id, other.id)} == {"kill_switch"}
    # The fleet's resume lifts it.
    assert set_kill_switch(session, [mine.id, other.id], False, "fleet").paused_changed == {mine.id, other.id}
    assert {
        (p.reason, p.kill_scope) for p in (session.get(BotPause, mine.id), session.get(BotPause, other.id))
    } == {("none", "")}
    # An owner's pause is lifted by the owner's resume and by the fleet's.
    set_kill_switch(session, [mine.id, other.id], True, "owner")
    assert set_kill_switch(session, [mine.id], False, "owner").paused_changed == {mine.id}
    assert set_kill_switch(session, [other.id], False, "fleet").paused_changed == {other.id}
    assert session.get(BotPause, other.id).reason == "none"


def test_stale_gateway_figures_do_not_count_toward_a_new_period(session) -> None:
    owner = make_user(session, Role.OPERATOR)
    bot = make_bot(session, owner)
    now = datetime(2026, 6, 15, 8, tzinfo=UTC)
    yesterday = datetime(2026, 6, 14, 23, 50, tzinfo=UTC)
    pause = BotPause(
        bot_id=bot.id,
        gateway_cost_day=5.0,
        gateway_tokens_day=500,
        gateway_cost_month=7.0,
        gateway_tokens_month=700,
        gateway_usage_at=yesterday,
    )
    session.add(pause)
    session.flush()
    day = br.usage_for(session, [bot.id], "day", now)
    assert day.gateway_cost_usd == 0 and day.gateway_tokens == 0  # yesterday's: not today's
    month = br.usage_for(session, [bot.id], "month", now)
    assert month.gateway_cost_usd == 7.0 and month.gateway_tokens == 700  # same month: counts
    next_month = br.usage_for(session, [bot.id], "month", datetime(2026, 7, 1, 0, 5, tzinfo=UTC))
    assert next_month.gateway_cost_usd == 0
    pause.gateway_usage_at = datetime(2026, 6, 15, 0, 1, tzinfo=UTC)
    session.add(pause)
    session.flush()
    assert br.usage_for(session, [bot.id], "day", now).gateway_cost_usd == 5.0


@pytest.mark.parametrize("spent", [0.85, 1.5])
def test_removing_a_limit_announces_zero_and_resumes(session, spent: float) -> None:
    from clawnet.security.permissions import Principal

    owner = make_user(session, Role.OPERATOR)
    bot, other = make_bot(session, owner), make_bot(session, owner)
    actor = Principal.of(owner)
    evaluation, _ = _save(session, actor, "bot", owner.id, bot.id, {"day_cost": 1.0, "month_cost": 50.0})
    assert not evaluation.events
    _spend(session, bot.id, spent, 10, 1)
    crossed = check_bot(session, bot.id)
    assert [e["threshold"] for e in crossed.events] == [80 if spent < 1 else 100]
    # An untouched budget never crossed: clearing it announces nothing.
    quiet, _ = _save(session, actor, "bot", owner.id, bot.id, {"day_cost": 1.0})
    assert quiet.events == [] and not quiet.paused_changed
    removed, _ = _save(session, actor, "bot", owner.id, bot.id, {})
    assert [(e["threshold"], e["bot_id"], e["period"], e["metric"]) for e in removed.events] == [
        (0, bot.id, "day", "cost")
    ]
    assert removed.paused_changed == ({bot.id} if spent >= 1 else set())
    assert cb.pause_of(session, bot.id).reason == "none"
    assert session.exec(select(Budget)).all() == []
    # The same for an owner budget: every bot it paused resumes.
    _save(session, actor, "owner", owner.id, None, {"day_cost": 1.0})
    check_bot(session, bot.id)
    paused = {i for i in (bot.id, other.id) if cb.pause_of(session, i).reason == "budget"}
    assert paused == ({bot.id, other.id} if spent >= 1 else set())
    removed, _ = _save(session, actor, "owner", owner.id, None, {})
    assert [(e["threshold"], e["bot_id"]) for e in removed.events] == [(0, None)]
    assert removed.paused_changed == paused


def test_one_owner_budget_per_target(session) -> None:
    import sqlalchemy as sa

    from clawnet.security.permissions import Principal

    owner = make_user(session, Role.OPERATOR)
    a, b = make_bot(session, owner), make_bot(session, owner)
    actor = Principal.of(owner)
    _save(session, actor, "owner", owner.id, None, {"day_cost": 1.0})
    _save(session, actor, "owner", owner.id, None, {"day_cost": 2.0})
    rows = session.exec(select(Budget).where(Budget.scope == "owner")).all()
    assert [(r.limit_amount, r.bot_id) for r in rows] == [(2.0, None)]
    # Bot budgets of the same owner, period and metric are fine (one per bot).
    _save(session, actor, "bot", owner.id, a.id, {"day_cost": 1.0})
    _save(session, actor, "bot", owner.id, b.id, {"day_cost": 1.0})
    with pytest.raises(sa.exc.IntegrityError), session.begin_nested():
        session.add(Budget(scope="owner", owner_id=owner.id, period="day", metric="cost", limit_amount=3))
    assert len(session.exec(select(Budget)).all()) == 3


async def test_gateway_usage_is_fetched_concurrently_with_a_short_timeout(migrated, monkeypatch) -> None:
    import asyncio
    from types import SimpleNamespace

    from clawnet.db import session_scope

    with session_scope() as s:
        owner = make_user(s, Role.OPERATOR)
        bots = [make_bot(s, owner) for _ in range(6)]
        s.add(Budget(scope="owner", owner_id=owner.id, period="day", metric="cost", limit_amount=1))
        ids = [b.id for b in bots]

    in_flight, peak = 0, 0

    class Caller:
        is_connected = True

        async def call(self, method: str, params: dict, timeout: float = 0) -> dict:
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            try:
                await asyncio.sleep(5 if params["agentId"] == "hangs" else 0.05)
                return {"totals": {"totalCost": 0.25, "totalTokens": 10}}
            finally:
                in_flight -= 1

    agents = {f"a{i}": bot_id for i, bot_id in enumerate(ids[1:])} | {"hangs": ids[0]}
    link = SimpleNamespace(is_connected=True, api=Caller(), agent_bots=agents, gateway_id=1)

    class Db:
        async def run(self, fn):
            with session_scope() as s:
                return fn(s)

    monkeypatch.setattr(cb, "USAGE_TIMEOUT_S", 0.3)
    enforcer = cb.BudgetEnforcer(Db(), None, SimpleNamespace(all=lambda: [link]), lambda: None)  # type: ignore[arg-type]
    started = asyncio.get_running_loop().time()
    await enforcer.refresh_gateway_usage()
    took = asyncio.get_running_loop().time() - started
    assert peak == cb.USAGE_CONCURRENCY and took < 1.5  # 10 calls of 0.05 s, 4 at a time; one times out
    with session_scope() as s:
        assert s.get(BotPause, ids[0]) is None  # the one that timed out: no figures
        assert all(s.get(BotPause, i).gateway_cost_day == 0.25 for i in ids[1:])


def test_paused_agent_runs_on_the_paused_model(session, migrated) -> None:
    owner = make_user(session, Role.OPERATOR)
    bot = make_bot(session, owner)
    settings = get_settings()
    assert not agent_spec(session, bot, {}, settings, local=True).model_ref.startswith("clawnet-paused/")
    session.add(BotPause(bot_id=bot.id, reason="budget", reply="Out of budget, back tomorrow."))
    session.flush()
    agent = agent_spec(session, bot, {}, settings, local=True)
    assert agent.model_ref == f"clawnet-paused/bot-{bot.id}"
    provider = paused_provider(settings, (agent,))
    assert provider.base_url.endswith("/paused/v1") and provider.models[0].id == f"bot-{bot.id}"
    assert pause_reply(session, f"bot-{bot.id}") == "Out of budget, back tomorrow."
    assert pause_reply(session, "bot-999999") == DEFAULT_PAUSE_REPLY


async def test_who_may_see_and_set_budgets_and_flip_the_kill_switch(migrated) -> None:
    from clawnet.bots.service import BotsService
    from clawnet.db import session_scope
    from clawnet.errors import PermissionDenied, UserError
    from clawnet.events import EventBus
    from clawnet.security.permissions import Principal
    from tests.factories import assign

    with session_scope() as s:
        owner_user = make_user(s, Role.OPERATOR)
        viewer_user, stranger_user = make_user(s, Role.VIEWER), make_user(s, Role.OPERATOR)
        admin_user = make_user(s, Role.ADMIN)
        bot = make_bot(s, owner_user)
        assign(s, viewer_user, bot)
        owner, viewer, stranger, admin = (
            Principal.of(u) for u in (owner_user, viewer_user, stranger_user, admin_user)
        )
        bot_id = bot.id
    service = BotsService(get_settings(), EventBus(origin="test"))
    view = await service.save_bot_budgets(owner, bot_id, {"day_cost": "2", "reply": "Later."})
    assert view.can_edit and view.rows[0].limit == "2" and view.reply == "Later."
    seen = await service.bot_budgets(viewer, bot_id)
    assert not seen.can_edit and seen.rows[0].limit == "2"
    with pytest.raises(PermissionDenied):
        await service.save_bot_budgets(viewer, bot_id, {"day_cost": "100"})
    with pytest.raises(PermissionDenied):
        await service.bot_budgets(stranger, bot_id)
    with pytest.raises(UserError) as wrong:
        await service.save_bot_budgets(owner, bot_id, {"month_tokens": "-3"})
    assert set(wrong.value.field_errors) == {"month_tokens"}
    with pytest.raises(PermissionDenied):
        await service.owner_budgets(viewer)
    with pytest.raises(PermissionDenied):
        await service.kill_switch(owner, True, fleet=True)
    assert await service.kill_switch(stranger, True) == 0  # owns no bot: nothing of the owner's
    assert await service.kill_switch(owner, True) == 1
    assert (await service.bot_budgets(owner, bot_id)).paused == "Paused: kill switch"
    assert await service.kill_switch(admin, False, fleet=True) == 1  # the fleet's lifts the owner's
    assert (await service.bot_budgets(owner, bot_id)).paused == ""
    # An admin's fleet pause: the owner's resume leaves it, the fleet's lifts it.
    assert await service.kill_switch(admin, True, fleet=True) == 1
    assert await service.kill_switch(owner, False) == 0
    assert await service.kill_switch_state(owner) == (1, 1)
    assert await service.kill_switch(admin, False, fleet=True) == 1
    # The owner's budgets (their total spend) show on a bot's tab to the owner and admins only.
    await service.save_owner_budgets(owner, {"month_cost": "30"})
    assert [r.field for r in (await service.bot_budgets(owner, bot_id)).owner_rows] == ["month_cost"]
    assert [r.field for r in (await service.bot_budgets(admin, bot_id)).owner_rows] == ["month_cost"]
    assert (await service.bot_budgets(viewer, bot_id)).owner_rows == []
    with session_scope() as s:
        from clawnet.models import AuditEvent

        actions = {e.action for e in s.exec(select(AuditEvent)).all()}
    assert {"budget.set", "kill_switch.on", "kill_switch.off"} <= actions
