"""Uptime per bot and day: running time over wanted-running time, from recorded status changes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from clawnet import db
from clawnet.bots.uptime import Change, daily_uptime, uptime_of_bots
from clawnet.controlplane.db_runner import DbRunner
from clawnet.controlplane.status import StatusBook
from clawnet.enums import BotStatus, Role
from clawnet.events import EventBus
from clawnet.models import BotStatusChange, prune_status_changes, record_bot_status
from tests.factories import make_bot, make_user

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
TODAY = datetime(2026, 12, 2, tzinfo=UTC)


def test_a_day_with_a_six_hour_outage_is_75_percent():
    day = TODAY - timedelta(days=1)
    changes = [
        Change(day - timedelta(days=2), "running", True),
        Change(day + timedelta(hours=8), "error", True),
        Change(day + timedelta(hours=14), "running", True),
    ]
    up = daily_uptime(changes, NOW)
    assert len(up.labels) == 30 and len(up.colours) == 30
    assert up.labels[-2] == "Dec 01: 75.0%" and up.colours[-2] == "r"
    assert up.labels[-3] == "Nov 30: 100%" and up.labels[-1] == "Dec 02: 100%"  # today, until now
    assert up.colours[-5:] == "nggrg" and up.labels[-5] == "Nov 28: no data"
    # Days before the first change are no data.
    assert up.labels[0] == "Nov 03: no data" and up.colours[0] == "n"
    # Overall: 6 h down in 3 whole days (Nov 29 to Dec 1) and 12 h of today.
    assert up.percent == round(100 * (1 - 6 / (24 * 3 + 12)), 2)


def test_time_not_wanted_running_does_not_count():
    changes = [
        Change(TODAY - timedelta(days=1), "running", True),
        Change(TODAY - timedelta(hours=12), "running", False),  # owner stops it
        Change(TODAY - timedelta(hours=11), "stopped", False),
    ]
    up = daily_uptime(changes, NOW)
    assert up.labels[-2] == "Dec 01: 100%"
    assert up.labels[-1] == "Dec 02: no data"  # stopped all day by its owner: no data, not 0%
    assert up.text == "100%"


def test_no_changes_is_no_data():
    up = daily_uptime([], NOW)
    assert up.percent == -1.0 and up.text == "no data" and up.colours == "n" * 30


async def test_status_changes_are_recorded_once(migrated):
    with db.session_scope() as s:
        owner = make_user(s, Role.ADMIN)
        bot = make_bot(s, owner)
        bot_id = bot.id
        assert record_bot_status(s, bot_id, "pending", True)
        assert not record_bot_status(s, bot_id, "pending", True)
    runner = DbRunner(migrated.database_url)
    try:
        book = StatusBook(runner, EventBus())
        await book.set_bots([bot_id], BotStatus.RUNNING, "")
        await book.set_bots([bot_id], BotStatus.RUNNING, "")
        await book.set_bots([bot_id], BotStatus.ERROR, "boom")
        await book.set_bots([bot_id], BotStatus.ERROR, "boom again")  # same status: no new row
        await asyncio.sleep(0)
    finally:
        runner.shutdown()
    with db.session_scope() as s:
        rows = s.exec(select(BotStatusChange).order_by(BotStatusChange.id)).all()
        assert [r.status for r in rows] == ["pending", "running", "error"]
        up = uptime_of_bots(s, [bot_id])[bot_id]
        assert len(up.labels) == 30 and up.colours[-1] in "rag"


async def test_only_people_who_may_see_the_bot_read_its_uptime(migrated):
    from clawnet.bots.service import BotsService
    from clawnet.errors import PermissionDenied
    from clawnet.security.permissions import Principal

    with db.session_scope() as s:
        owner = make_user(s, Role.OPERATOR)
        stranger = make_user(s, Role.OPERATOR)
        bot = make_bot(s, owner)
        record_bot_status(s, bot.id, "running", True, at=NOW - timedelta(days=1))
        ids = owner.id, stranger.id, bot.id
    service = BotsService(migrated, EventBus(), None)
    mine = await service.uptime(Principal(ids[0], "o@example.com", "O", Role.OPERATOR), ids[2])
    assert len(mine.labels) == 30
    with pytest.raises(PermissionDenied):
        await service.uptime(Principal(ids[1], "s@example.com", "S", Role.OPERATOR), ids[2])


def test_pruning_keeps_the_state_each_bot_was_in_when_kept_history_starts(migrated):
    with db.session_scope() as s:
        owner = make_user(s, Role.ADMIN)
        bot = make_bot(s, owner)
        for days_ago, status in [(100, "pending"), (90, "running"), (80, "error"), (10, "running")]:
            record_bot_status(s, bot.id, status, True, at=NOW - timedelta(days=days_ago))
        prune_status_changes(s, NOW - timedelta(days=60))
        left = s.exec(select(BotStatusChange).order_by(BotStatusChange.at)).all()
        assert [r.status for r in left] == ["error", "running"]
