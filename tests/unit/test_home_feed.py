"""Home feeds written at post time give exactly the pages the old read-time merge gave: after
random posts, boosts, deletes, follows, unfollows, mutes, hidden posts and bot-filter changes,
for every viewer, page after page, across the feed's floor and after a trim."""

from __future__ import annotations

import random

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from clawnet.db import session_scope
from clawnet.models import Follow, HomeEntry, HomeFeed, Mute, Post, Profile, utcnow
from clawnet.models import home_feed as feed_model
from clawnet.social import audience, home_feed, timelines


def reference_home(session: Session, viewer: int, *, max_id: int | None, limit: int) -> list[int]:
    """The old home timeline: merge the followees' posts at read time (no feed table)."""
    followees = timelines._followees(session, viewer)
    excluded, clauses = audience.home_filters(session, viewer, followees)
    authors = [viewer, *(a for a in followees if a not in excluded)]
    kept: list[int] = []
    cursor = max_id
    for _ in range(50):
        page = timelines._merge_newest(session, authors, max_id=cursor, min_id=None, limit=limit)
        if clauses and page:
            allowed = set(session.exec(select(Post.id).where(col(Post.id).in_(page), *clauses)).all())
            kept.extend(i for i in page if i in allowed)
        else:
            kept.extend(page)
        if len(kept) >= limit or len(page) < limit:
            break
        cursor = page[-1]
    return kept[:limit]


def all_pages(fn, viewer: int, limit: int = 5) -> list[int]:
    seen: list[int] = []
    cursor = None
    for _ in range(200):
        with session_scope() as s:
            page = fn(s, viewer, max_id=cursor, limit=limit)
        if not page:
            break
        seen.extend(page)
        cursor = page[-1]
    return seen


def new_home(session: Session, viewer: int, *, max_id: int | None, limit: int) -> list[int]:
    return timelines.home_ids(session, viewer, max_id=max_id, limit=limit)


@pytest.fixture
def small_cap(monkeypatch):
    monkeypatch.setattr(feed_model, "CAP", 6)
    monkeypatch.setattr(home_feed, "CAP", 6)


def _profiles(n: int, bots: int) -> list[int]:
    with session_scope() as s:
        rows = [Profile(handle=f"p{i}", display_name=f"P{i}", is_bot=i >= n - bots) for i in range(n)]
        s.add_all(rows)
        s.flush()
        return [r.id or 0 for r in rows]


def _step(rng: random.Random, ids: list[int], bots: set[int]) -> None:
    kind = rng.choices(
        ["post", "post", "post", "boost", "delete", "follow", "follow", "unfollow", "mute", "hide", "filter"],
    )[0]
    a, b = rng.sample(ids, 2)
    with session_scope() as s:
        if kind == "post":
            s.add(Post(author_id=a, content_html="<p>x</p>", author_is_bot=a in bots))
        elif kind == "boost":
            original = s.exec(
                select(Post).where(col(Post.reblog_of_id).is_(None)).order_by(sa.func.random())
            ).first()
            if original and original.author_id != a:
                exists = s.exec(
                    select(Post.id).where(Post.author_id == a, Post.reblog_of_id == original.id)
                ).first()
                if exists is None:
                    s.add(
                        Post(
                            author_id=a,
                            content_html="",
                            reblog_of_id=original.id,
                            author_is_bot=a in bots or original.author_id in bots,
                        )
                    )
        elif kind == "delete":
            victim = s.exec(select(Post).order_by(sa.func.random())).first()
            if victim is not None:
                s.delete(victim)
        elif kind == "follow":
            if (
                s.exec(select(Follow.id).where(Follow.follower_id == a, Follow.followee_id == b)).first()
                is None
            ):
                s.add(Follow(follower_id=a, followee_id=b))
        elif kind == "unfollow":
            row = s.exec(select(Follow).where(Follow.follower_id == a).order_by(sa.func.random())).first()
            if row is not None:
                s.delete(row)
        elif kind == "mute":
            if s.exec(select(Mute.id).where(Mute.profile_id == a, Mute.target_id == b)).first() is None:
                s.add(Mute(profile_id=a, target_id=b))
        elif kind == "hide":
            victim = s.exec(select(Post).order_by(sa.func.random())).first()
            if victim is not None:
                victim.hidden_at = utcnow()
                s.add(victim)
        else:
            profile = s.get(Profile, a)
            assert profile is not None
            profile.bot_filter = rng.choice(["all", "following", "none"])
            s.add(profile)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pages_equal_the_read_time_merge_through_random_changes(migrated, small_cap, seed):
    rng = random.Random(seed)
    ids = _profiles(8, bots=3)
    bots = set(ids[-3:])
    for _ in range(30):  # some history before anyone reads
        _step(rng, ids, bots)
    for round_ in range(12):
        for viewer in rng.sample(ids, 4):
            assert all_pages(new_home, viewer) == all_pages(reference_home, viewer), (seed, round_, viewer)
        for _ in range(15):
            _step(rng, ids, bots)
    with session_scope() as s:
        assert s.exec(select(sa.func.count()).select_from(HomeFeed)).one() > 0  # feeds were used


def test_a_post_is_written_into_followers_feeds_and_an_unfollow_takes_it_out(migrated):
    ada, bob, cy = _profiles(3, bots=0)
    with session_scope() as s:
        s.add(Follow(follower_id=ada, followee_id=bob))
    with session_scope() as s:
        assert timelines.home_ids(s, ada) == []  # builds ada's feed
        assert timelines.home_ids(s, cy) == []
    with session_scope() as s:
        post = Post(author_id=bob, content_html="<p>hi</p>")
        s.add(post)
        s.flush()
        post_id = post.id
    with session_scope() as s:
        entries = s.exec(select(HomeEntry.viewer_id).where(HomeEntry.post_id == post_id)).all()
        assert sorted(entries) == [ada]  # bob has no feed yet; cy does not follow him
        follow = s.exec(select(Follow).where(Follow.follower_id == ada)).one()
        s.delete(follow)
    with session_scope() as s:
        assert s.exec(select(HomeEntry).where(HomeEntry.viewer_id == ada)).all() == []
        assert timelines.home_ids(s, ada) == []


def test_a_trim_keeps_the_newest_and_older_pages_still_come(migrated, small_cap):
    ada, bob = _profiles(2, bots=0)
    with session_scope() as s:
        s.add(Follow(follower_id=ada, followee_id=bob))
    with session_scope() as s:
        timelines.home_ids(s, ada)
    with session_scope() as s:
        for _ in range(40):
            s.add(Post(author_id=bob, content_html="<p>x</p>"))
    before = all_pages(new_home, ada)
    with session_scope() as s:
        assert home_feed.trim(s, keep=6) == 1
    with session_scope() as s:
        assert len(s.exec(select(HomeEntry).where(HomeEntry.viewer_id == ada)).all()) == 6
        assert (home_feed.floor_of(s, ada) or 0) > 0
    assert all_pages(new_home, ada) == before == all_pages(reference_home, ada)
    assert len(before) == 40
