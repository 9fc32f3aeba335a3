"""Budget maths: UTC periods, thresholds, limits typed in a form, crossings published once,
pausing and resuming (budget and kill switch), and the paused model in the rendered config."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlmodel import select

from clawnet.bots.budgets import parse_limits
from clawnet.controlplane import budget_rules as br
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
    assert await service.kill_switch(admin, False, fleet=True) == 1
    assert (await service.bot_budgets(owner, bot_id)).paused == ""
    with session_scope() as s:
        from clawnet.models import AuditEvent

        actions = {e.action for e in s.exec(select(AuditEvent)).all()}
    assert {"budget.set", "kill_switch.on", "kill_switch.off"} <= actions
