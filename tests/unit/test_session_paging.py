"""Session lists and transcripts a page at a time: keyset paging, filters, search, visibility;
response-time percentiles and per-minute throughput."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from clawnet.bots.session_analytics import percentile, response_days, throughput
from clawnet.bots.session_queries import (
    decode_cursor,
    encode_cursor,
    like_pattern,
    session_facets,
    session_page,
    transcript_page,
)
from clawnet.bots.session_views import SessionFilters
from clawnet.enums import Role
from clawnet.models import BotSession, TranscriptMessage, utcnow
from clawnet.security.permissions import Principal
from tests.factories import assign, make_bot, make_user


def add_session(s, bot, key, *, minutes_ago=0, channel="", kind="direct", peer="", preview="", texts=()):
    at = utcnow() - timedelta(minutes=minutes_ago)
    row = BotSession(
        bot_id=bot.id, key=key, channel=channel, kind=kind, peer=peer, preview=preview,
        activity_at=at, last_message_at=at, created_at=at, message_count=len(texts),
    )  # fmt: skip
    s.add(row)
    s.flush()
    for seq, text in enumerate(texts, 1):
        s.add(TranscriptMessage(session_id=row.id, seq=seq, role="user", text=text, created_at=at))
    s.flush()
    return row


@pytest.fixture
def world(session):
    admin = make_user(session, Role.ADMIN)
    owner = make_user(session, Role.OPERATOR)
    viewer = make_user(session, Role.VIEWER)
    stranger = make_user(session, Role.OPERATOR)
    mine = make_bot(session, owner, name="Alpha")
    other = make_bot(session, admin, name="Beta")
    assign(session, viewer, mine)
    sessions = [add_session(session, mine, f"agent:{mine.agent_id}:s{i}", minutes_ago=i) for i in range(7)]
    tg = add_session(
        session, mine, "agent:x:telegram:direct:42", minutes_ago=30, channel="telegram", peer="42",
        preview="order pizza", texts=["hello", "where is my 100%_refund?"],
    )  # fmt: skip
    group = add_session(
        session, other, "agent:y:discord:group:9", minutes_ago=60 * 30, channel="discord", kind="group",
        texts=["Quarterly REPORT due"],
    )  # fmt: skip
    return {k: v for k, v in locals().items() if k != "session"}


def who(user) -> Principal:
    return Principal.of(user)


def all_pages(session, actor, filters, limit):
    ids, cursor, pages = [], "", 0
    while True:
        page = session_page(session, actor, filters, cursor=cursor, limit=limit)
        ids += [r.id for r in page.rows]
        pages += 1
        if not page.next_cursor:
            return ids, pages
        cursor = page.next_cursor


def test_keyset_pages_cover_every_session_once_newest_first(session, world):
    ids, pages = all_pages(session, who(world["admin"]), SessionFilters(), limit=3)
    expected = [r.id for r in [*world["sessions"], world["tg"], world["group"]]]
    assert ids == expected  # newest activity first, no row twice, none missing
    assert pages == 3


def test_rows_arriving_between_pages_do_not_shift_the_next_page(session, world):
    admin = who(world["admin"])
    first = session_page(session, admin, SessionFilters(), limit=4)
    add_session(session, world["mine"], "agent:new:1")  # newer than everything
    rest, _ = all_pages_after(session, admin, first.next_cursor)
    assert [r.id for r in first.rows] + rest == [
        r.id for r in [*world["sessions"], world["tg"], world["group"]]
    ]


def all_pages_after(session, actor, cursor):
    ids = []
    while cursor:
        page = session_page(session, actor, SessionFilters(), cursor=cursor, limit=4)
        ids += [r.id for r in page.rows]
        cursor = page.next_cursor
    return ids, None


def test_equal_activity_times_are_ordered_by_id_and_never_skipped(session, world):
    at = utcnow() + timedelta(hours=1)
    same = [add_session(session, world["other"], f"k:same:{i}") for i in range(5)]
    for row in same:
        row.activity_at = at
        session.add(row)
    session.flush()
    ids, _ = all_pages(session, who(world["admin"]), SessionFilters(bot_id=world["other"].id), limit=2)
    assert ids == [r.id for r in reversed(same)] + [world["group"].id]


def test_a_malformed_cursor_gives_the_first_page(session, world):
    admin = who(world["admin"])
    assert decode_cursor("nonsense") is None
    assert session_page(session, admin, SessionFilters(), cursor="x~y", limit=2).rows == (
        session_page(session, admin, SessionFilters(), limit=2).rows
    )
    at = datetime(2026, 12, 2, 5, 40, 1, 123456, tzinfo=UTC)
    assert decode_cursor(encode_cursor(at, 17)) == (at, 17)


def test_visibility_is_the_one_visible_bots_rule(session, world):
    mine_ids = {r.id for r in [*world["sessions"], world["tg"]]}
    for user in ("owner", "viewer"):
        ids, _ = all_pages(session, who(world[user]), SessionFilters(), limit=50)
        assert set(ids) == mine_ids, user
    assert all_pages(session, who(world["stranger"]), SessionFilters(), limit=50)[0] == []
    # Asking for a bot one may not see by its number shows nothing, as a bot that does not exist.
    hidden = SessionFilters(bot_id=world["other"].id, search="report")
    assert session_page(session, who(world["owner"]), hidden).rows == []
    rows = session_page(session, who(world["viewer"]), SessionFilters()).rows
    assert rows and not any(r.can_operate for r in rows)  # a viewer may look, not act
    assert all(r.can_operate for r in session_page(session, who(world["owner"]), SessionFilters()).rows)


def test_filters_by_bot_channel_kind_and_activity(session, world):
    admin = who(world["admin"])

    def ids(**kw):
        return {r.id for r in session_page(session, admin, SessionFilters(**kw), limit=200).rows}

    assert ids(bot_id=world["other"].id) == {world["group"].id}
    assert ids(channel="telegram") == {world["tg"].id}
    assert ids(channel="dashboard") == {r.id for r in world["sessions"]}
    assert ids(kind="group") == {world["group"].id}
    assert ids(active="hour") == {r.id for r in [*world["sessions"], world["tg"]]}
    assert ids(active="day") == ids(active="hour")
    assert ids(active="week") == ids() and len(ids()) == 9
    assert ids(channel="telegram", kind="group") == set()
    assert ids(active="1") == ids()  # an activity window nobody offered (sent by hand): any time


def test_search_matches_fields_bot_names_and_message_text_case_insensitively(session, world):
    admin = who(world["admin"])

    def ids(q, **kw):
        return {r.id for r in session_page(session, admin, SessionFilters(search=q, **kw)).rows}

    assert ids("PIZZA") == {world["tg"].id}  # the preview
    assert ids("telegram:direct:42") == {world["tg"].id}  # the key
    assert ids("quarterly report") == {world["group"].id}  # a message's text
    assert ids("beta") == {world["group"].id}  # the bot's name
    assert ids("100%_r") == {world["tg"].id}  # LIKE's wildcards taken literally
    assert ids("1%0") == set()
    assert ids("report", bot_id=world["mine"].id) == set()
    assert like_pattern("a%b_c\\") == "%a\\%b\\_c\\\\%"


def test_filters_round_trip_through_the_url():
    f = SessionFilters.from_query(
        {"bot": "3", "channel": "telegram", "kind": "group", "active": "day", "q": "hi x"}
    )
    assert f == SessionFilters(3, "telegram", "group", "day", "hi x")
    assert SessionFilters.from_query(dict(p.split("=") for p in f.query()[1:].split("&"))).bot_id == 3
    assert SessionFilters.from_query({"bot": "x", "active": "year"}) == SessionFilters()
    assert SessionFilters().query() == ""


def test_facets_list_the_visible_bots_channels_and_kinds(session, world):
    facets = session_facets(session, who(world["owner"]))
    assert [c.label for c in facets.bots] == ["Alpha"]
    assert [c.value for c in facets.channels] == ["dashboard", "telegram"]
    assert [c.value for c in facets.kinds] == ["direct"]
    assert [c.value for c in session_facets(session, who(world["admin"])).kinds] == ["direct", "group"]


def test_transcript_pages_backwards_to_the_first_line(session, world):
    row = add_session(session, world["mine"], "k:long", texts=[f"m{i}" for i in range(1, 251)])
    admin = who(world["admin"])
    page = transcript_page(session, admin, row.id, limit=100)
    assert [x.seq for x in page.lines] == list(range(151, 251)) and page.has_older and page.total == 250
    seen = [x.seq for x in page.lines]
    while page.has_older:
        page = transcript_page(session, admin, row.id, before_seq=page.lines[0].seq, limit=100)
        seen = [x.seq for x in page.lines] + seen
    assert seen == list(range(1, 251))
    from clawnet.errors import UserError

    with pytest.raises(UserError):
        transcript_page(session, who(world["stranger"]), row.id)


def test_percentile_interpolates_between_closest_ranks():
    assert percentile([], 95) == 0.0
    assert percentile([4.0], 50) == 4.0
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile(list(range(1, 101)), 95) == pytest.approx(95.05)
    assert percentile([10, 1, 5], 0) == 1 and percentile([10, 1, 5], 100) == 10
    assert percentile([3, 1, 2], 50) == 2  # order does not matter


def test_response_days_and_throughput_from_the_transcripts(session, world):
    bot = world["mine"]
    now = datetime(2026, 12, 2, 12, 30, 15, tzinfo=UTC)
    row = add_session(session, bot, "k:tp")
    other = add_session(session, bot, "k:other")
    seq = 0

    def say(where, role, at, **kw):
        nonlocal seq
        seq += 1
        session.add(TranscriptMessage(session_id=where.id, seq=seq, role=role, text="x", created_at=at, **kw))

    for i, seconds in enumerate([10, 4, 3, 2, 1]):  # oldest first: answered 4, 3, 2, 1 and 0 min ago
        answer = now - timedelta(minutes=4 - i)
        say(row, "user", answer - timedelta(seconds=seconds))
        say(row, "assistant", answer)
    # Another conversation interleaved in time: counted on its own.
    say(other, "user", now - timedelta(minutes=3, seconds=30))
    say(other, "user", now - timedelta(minutes=3, seconds=20))  # a second message before the answer
    say(other, "assistant", now - timedelta(minutes=3), input_tokens=7, output_tokens=3, cost_usd=0.25)
    # An operator's reply (mirrored by OpenClaw) answers nobody; a message never answered neither.
    say(other, "user", now - timedelta(minutes=2, seconds=10))
    say(other, "assistant", now - timedelta(minutes=2), model="delivery-mirror")
    session.flush()
    owner = who(world["owner"])
    days = response_days(session, owner, bot.id, days=3, now=now)
    assert [d.day for d in days] == ["11-30", "12-01", "12-02"]
    today = days[-1]
    assert today.turns == 6 and today.p50 == 3.5 and today.p95 == pytest.approx(25.0)  # 1,2,3,4,10,30 s
    assert today.tokens == 10 and today.cost == 0.25
    assert days[0].turns == 0 and days[0].p95 == 0.0
    minutes = throughput(session, owner, bot.id, minutes=60, now=now)
    assert len(minutes) == 60 and minutes[-1].minute == "12:30" and minutes[0].minute == "11:31"
    assert [m.turns for m in minutes[-5:]] == [1, 2, 1, 1, 1]  # 12:27 answered two conversations
    assert {m.minute: m.messages for m in minutes}["12:28"] == 4  # a turn, and the mirror pair
    from clawnet.errors import UserError

    with pytest.raises(UserError):
        throughput(session, who(world["stranger"]), bot.id)
