"""The clock jumps (an NTP step an hour back or a day forward): the control plane's timed jobs and
restart backoff keep their pace (monotonic clock), budgets' periods, alert cooldowns and the
schedule views stay sane (no negative durations, no double pause or resume, no crash).

The system clock cannot be set here: `time-machine` moves what `time.time` and `datetime.now`
say, while `time.monotonic` (asyncio's clock) keeps running, as after a real step."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import time_machine
from sqlmodel import select

from clawnet.bots.schedule_rules import describe_run, describe_runs, in_words, next_runs
from clawnet.controlplane import budget_rules as br
from clawnet.controlplane.alert_rules import cooldown_over
from clawnet.controlplane.budgets import evaluate
from clawnet.controlplane.cron_jobs import ScheduleSpec
from clawnet.controlplane.health import RestartPolicy, RestartSchedule
from clawnet.controlplane.jobs import Jobs
from clawnet.enums import Role
from clawnet.models import BotPause, BotSession, Budget, TranscriptMessage
from tests.factories import make_bot, make_user

HOUR_BACK = timedelta(hours=-1)
DAY_FORWARD = timedelta(days=1)


async def _ticks_after_a_step(step: timedelta) -> tuple[int, list[str]]:
    jobs = Jobs()
    ticks = 0
    restarted: list[str] = []

    async def tick() -> None:
        nonlocal ticks
        ticks += 1

    async def restart(gateway_id: int) -> None:
        restarted.append(f"gateway {gateway_id}")

    jobs.every(0.05, tick, name="probe")
    restarts = RestartSchedule(jobs, RestartPolicy(base_delay_s=0.2), restart)
    jobs.start()
    try:
        assert restarts.schedule(7, 1) == 0.2
        with time_machine.travel(datetime.now(UTC) + step, tick=True):  # the step, mid-wait
            await asyncio.sleep(0.6)
        return ticks, restarted
    finally:
        jobs.shutdown()


async def test_timed_jobs_and_restart_backoff_ignore_a_step_back() -> None:
    ticks, restarted = await _ticks_after_a_step(HOUR_BACK)
    assert ticks >= 3  # a wall-clock scheduler would wait an hour for the next probe
    assert restarted == ["gateway 7"]  # the backoff ended on time, exactly once


async def test_timed_jobs_and_restart_backoff_keep_their_pace_after_a_step_forward() -> None:
    ticks, restarted = await _ticks_after_a_step(DAY_FORWARD)
    assert 3 <= ticks <= 20  # not a burst of a day's missed ticks
    assert restarted == ["gateway 7"]


async def test_a_job_replaced_or_cancelled_does_not_run() -> None:
    jobs = Jobs()
    ran: list[str] = []

    async def note(what: str) -> None:
        ran.append(what)

    jobs.after(0.1, note, name="restart-1", args=("first",))
    jobs.after(0.1, note, name="restart-1", args=("second",))  # replaces the first
    jobs.after(0.1, note, name="restart-2", args=("cancelled",))
    jobs.cancel("restart-2")
    await asyncio.sleep(0.3)
    assert ran == ["second"] and jobs.names() == []
    jobs.shutdown()


def _spend(s, bot_id: int, tokens: int, at: datetime) -> None:
    row = s.exec(select(BotSession).where(BotSession.bot_id == bot_id)).first()
    if row is None:
        row = BotSession(bot_id=bot_id, key=f"agent:b{bot_id}:main")
        s.add(row)
        s.flush()
    s.add(TranscriptMessage(session_id=row.id, seq=1, role="assistant", input_tokens=tokens, text="hi"))
    br.record_usage(s, bot_id, at, 0.0, tokens)
    s.flush()


def test_a_spent_budget_stays_paused_across_a_step_back_and_resumes_once_a_day_later(session) -> None:
    owner = make_user(session, Role.OPERATOR)
    bot = make_bot(session, owner)
    budget = Budget(
        scope="bot", bot_id=bot.id, owner_id=owner.id, period="day", metric="tokens", limit_amount=100
    )
    session.add(budget)
    session.flush()
    spent_at = datetime(2026, 12, 2, 23, 30, tzinfo=UTC)
    _spend(session, bot.id, 150, spent_at)
    paused = evaluate(session, [budget], spent_at)
    assert [e["threshold"] for e in paused.events] == [100] and paused.paused_changed == {bot.id}
    since = session.get(BotPause, bot.id).since

    back = evaluate(session, [budget], spent_at + HOUR_BACK)  # same UTC day, an hour earlier
    assert back.events == [] and back.paused_changed == set()  # no second pause
    pause = session.get(BotPause, bot.id)
    assert pause.reason == "budget" and pause.since == since
    assert br.period_end("day", spent_at + HOUR_BACK) - (spent_at + HOUR_BACK) > timedelta(0)

    ahead = spent_at + DAY_FORWARD
    resumed = evaluate(session, [budget], ahead)
    assert [e["threshold"] for e in resumed.events] == [0] and resumed.paused_changed == {bot.id}
    again = evaluate(session, [budget], ahead)
    assert again.events == [] and again.paused_changed == set()  # resumed once
    assert session.get(BotPause, bot.id).reason == "none"


def test_a_monthly_period_after_a_step_back_across_the_month_start() -> None:
    first = datetime(2026, 12, 1, 0, 30, tzinfo=UTC)
    stepped = first + HOUR_BACK  # 30 Nov 23:30
    assert br.period_start("month", stepped) == datetime(2026, 11, 1, tzinfo=UTC)
    start, end = br.period_days("month", stepped)
    assert start <= end  # never an inverted range for usage.cost
    assert br.period_end("month", stepped) > stepped


def test_an_alert_cooldown_after_a_step_back_is_not_silence_until_the_clock_catches_up() -> None:
    sent = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    assert not cooldown_over(sent, sent + timedelta(minutes=5), 600)
    assert cooldown_over(sent, sent + timedelta(minutes=10), 600)
    assert cooldown_over(sent, sent + HOUR_BACK, 600)  # "sent in the future": the clock went back
    assert cooldown_over(sent, sent + DAY_FORWARD, 600)


def test_schedule_views_after_a_jump() -> None:
    every = ScheduleSpec("ping", "every", "", "", 3600, "hi", "main", True)
    cron = ScheduleSpec("daily", "cron", "0 9 * * *", "UTC", 0, "hi", "main", True)
    for now in (
        datetime(2026, 12, 2, 8, 59, tzinfo=UTC) + HOUR_BACK,
        datetime(2026, 12, 2, 8, 59, tzinfo=UTC) + DAY_FORWARD,
    ):
        for spec in (every, cron):
            runs = next_runs(spec, now=now, count=3)
            assert len(runs) == 3 and runs == sorted(runs) and all(r > now for r in runs)
            assert all("-" not in line for line in describe_runs(spec, now=now))
    # A run computed before a forward step is already past: "now", never a negative duration.
    computed = next_runs(cron, now=datetime(2026, 12, 2, 8, 0, tzinfo=UTC))[0]
    assert describe_run(computed, computed + DAY_FORWARD).endswith("(now)")
    assert in_words(timedelta(hours=-1)) == "now"


async def test_a_job_added_just_after_a_step_keeps_its_own_delay() -> None:
    jobs = Jobs()
    ran: list[str] = []

    async def note(what: str) -> None:
        ran.append(what)

    jobs.every(30, note, name="probe", args=("probe",))  # the scheduler runs, last looked before the step
    try:
        with time_machine.travel(datetime.now(UTC) + timedelta(hours=1), tick=True):
            jobs.after(0.2, note, name="restart-3", args=("restart",))  # before the scheduler's next pass
            await asyncio.sleep(0.8)
        assert ran == ["restart"]  # not moved an hour late by a step that came before it
    finally:
        jobs.shutdown()
