"""The dashboard's cards come a page at a time: the server searches, filters and pages, the
summary still counts every bot the person may see."""

from __future__ import annotations

import random

import pytest

from clawnet.bots.queries import fleet_overview
from clawnet.bots.views import CardQuery
from clawnet.enums import BotStatus, Role
from clawnet.models import BotChannel
from clawnet.security.permissions import PermissionDenied, Principal
from tests.factories import assign, make_bot, make_user

STATUSES = [s.value for s in BotStatus]


@pytest.fixture
def fleet(session):
    rng = random.Random(7)
    admin = make_user(session, Role.ADMIN)
    operator = make_user(session, Role.OPERATOR)
    member = make_user(session, Role.MEMBER)
    bots = []
    for n in range(130):
        owner = operator if n % 3 == 0 else admin
        bot = make_bot(session, owner, name=f"{'Helper' if n % 2 else 'Scout'} {n:03d}")
        bot.actual_status = rng.choice(STATUSES)
        session.add(bot)
        if n % 10 == 0:
            session.add(BotChannel(bot_id=bot.id, type="telegram", status="connected"))
        bots.append(bot)
    assign(session, operator, bots[1])
    session.flush()
    return {"admin": admin, "operator": operator, "member": member, "bots": bots}


def names(overview) -> list[str]:
    return [c.name for c in overview.cards]


def test_pages_cover_every_matching_bot_once_in_name_order(session, fleet):
    admin = Principal.of(fleet["admin"])
    seen: list[str] = []
    first = fleet_overview(session, admin, CardQuery(per_page=48))
    assert (first.matched, first.pages, len(first.cards)) == (130, 3, 48)
    for page in range(1, first.pages + 1):
        seen += names(fleet_overview(session, admin, CardQuery(page=page, per_page=48)))
    assert seen == sorted(b.name for b in fleet["bots"])
    last = fleet_overview(session, admin, CardQuery(page=3, per_page=48))
    assert len(last.cards) == 130 - 96


def test_a_page_past_the_end_shows_the_last_page(session, fleet):
    admin = Principal.of(fleet["admin"])
    over = fleet_overview(session, admin, CardQuery(page=99, per_page=48))
    assert over.page == 3
    assert names(over) == names(fleet_overview(session, admin, CardQuery(page=3, per_page=48)))
    assert fleet_overview(session, admin, CardQuery(page=-4, per_page=48)).page == 1


def test_summary_counts_every_visible_bot_whatever_the_page_and_filter(session, fleet):
    admin = Principal.of(fleet["admin"])
    expected = {s: sum(b.actual_status == s for b in fleet["bots"]) for s in STATUSES}
    for query in (
        CardQuery(per_page=48),
        CardQuery(status="error", page=2, per_page=10),
        CardQuery(search="zzz"),
    ):
        over = fleet_overview(session, admin, query)
        assert {s: over.summary[s] for s in STATUSES} == expected
        assert over.summary["total"] == 130
        assert over.statuses == {b.id: b.actual_status for b in fleet["bots"]}


def test_status_filter_and_search_are_applied_before_paging(session, fleet):
    admin = Principal.of(fleet["admin"])
    errors = fleet_overview(session, admin, CardQuery(status="error", per_page=5))
    expected = sorted(b.name for b in fleet["bots"] if b.actual_status == "error")
    assert errors.matched == len(expected)
    assert names(errors) == expected[:5]
    assert all(c.status == "error" for c in errors.cards)
    scouts = fleet_overview(session, admin, CardQuery(search="sCOUT 01", per_page=48))
    assert names(scouts) == [f"Scout {n:03d}" for n in range(10, 20) if n % 2 == 0]
    by_agent = fleet_overview(session, admin, CardQuery(search=fleet["bots"][5].agent_id))
    assert fleet["bots"][5].name in names(by_agent)
    by_number = fleet_overview(session, admin, CardQuery(search=str(fleet["bots"][7].id)))
    assert fleet["bots"][7].name in names(by_number)
    telegram = fleet_overview(session, admin, CardQuery(search="TELEGRAM"))
    assert sorted(names(telegram)) == sorted(b.name for n, b in enumerate(fleet["bots"]) if n % 10 == 0)
    unknown = fleet_overview(session, admin, CardQuery(status="sleeping"))
    assert unknown.matched == 130  # not a status: no filter


def test_search_wildcards_are_plain_text(session, fleet):
    admin = Principal.of(fleet["admin"])
    assert fleet_overview(session, admin, CardQuery(search="%")).matched == 0
    assert fleet_overview(session, admin, CardQuery(search="_")).matched == 0
    make_bot(session, fleet["admin"], name="100% uptime")
    assert names(fleet_overview(session, admin, CardQuery(search="0%"))) == ["100% uptime"]


def test_an_operator_pages_through_own_and_assigned_bots_only(session, fleet):
    operator = Principal.of(fleet["operator"])
    mine = {b.id for n, b in enumerate(fleet["bots"]) if n % 3 == 0} | {fleet["bots"][1].id}
    over = fleet_overview(session, operator, CardQuery(per_page=10))
    assert over.matched == len(mine) and over.summary["total"] == len(mine)
    assert set(over.statuses) == mine
    seen = set()
    for page in range(1, over.pages + 1):
        seen |= {c.id for c in fleet_overview(session, operator, CardQuery(page=page, per_page=10)).cards}
    assert seen == mine
    # Searching never reaches past what the person may see.
    assert fleet_overview(session, operator, CardQuery(search="Helper 005")).matched == 0
    with pytest.raises(PermissionDenied):
        fleet_overview(session, Principal.of(fleet["member"]), CardQuery())


def test_no_query_means_every_card(session, fleet):
    over = fleet_overview(session, Principal.of(fleet["admin"]))
    assert len(over.cards) == over.matched == 130 and over.pages == 1
