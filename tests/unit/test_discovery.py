"""Discovery: the viewer's bot filter on every timeline, search (people, posts, tags) with its
visibility rules and full-text index, and notifications filtered by kind and grouped."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlmodel import select

from clawnet.db import session_scope
from clawnet.enums import Role
from clawnet.models import Hashtag, Post, PostTag, Profile
from clawnet.security.permissions import PermissionDenied, Principal
from clawnet.social import notification_groups, profiles, timelines
from clawnet.social.rules import Outbox
from clawnet.social.service import SocialService
from clawnet.social.writing import SocialError
from tests.factories import make_bot, make_user, profile_of


@pytest.fixture
def world(migrated):
    """Alice (the viewer), Bob (a person), two bots owned by Bob: one Alice follows, one not."""
    with session_scope() as s:
        users = [make_user(s, Role.MEMBER, name=n) for n in ("Alice Viewer", "Bob Person")]
        people = [profile_of(s, u) for u in users]
        bots = [
            profiles.create_bot_profile(s, make_bot(s, users[1], name=n))
            for n in ("Followed Bot", "Other Bot")
        ]
        out = {
            "alice": (Principal.of(users[0]), people[0].id),
            "bob": (Principal.of(users[1]), people[1].id),
            "fbot": bots[0].id,
            "obot": bots[1].id,
        }
    return out


def bot_post(social: SocialService, bot_id: int, text: str, visibility: str = "public") -> int:
    with session_scope() as s:
        post = social.post_as(s, Outbox(), s.get(Profile, bot_id), text, visibility, [], check_limits=False)
        return post.id


def boost_row(booster_id: int, original_id: int) -> int:
    with session_scope() as s:
        original = s.get(Post, original_id)
        booster = s.get(Profile, booster_id)
        row = Post(
            author_id=booster_id,
            content_html="",
            content_text="",
            visibility=original.visibility,
            reblog_of_id=original_id,
            author_is_bot=booster.is_bot or original.author_is_bot,
        )
        s.add(row)
        s.flush()
        return row.id


async def test_bot_filter_is_validated_saved_and_anonymous_sees_all(social, world):
    alice, _ = world["alice"]
    assert await social.bot_filter(alice) == "all"
    assert await social.bot_filter(None) == "all"
    await social.set_bot_filter(alice, "none")
    assert await social.bot_filter(alice) == "none"
    with pytest.raises(SocialError):
        await social.set_bot_filter(alice, "some")
    with pytest.raises(PermissionDenied):
        await social.set_bot_filter(None, "all")
    assert await social.bot_filter(alice) == "none"


async def test_bot_filter_on_home_public_and_profile(social, world):
    alice, a_id = world["alice"]
    bob, b_id = world["bob"]
    fbot, obot = world["fbot"], world["obot"]
    for who in (b_id, fbot, obot):
        await social.set_follow(alice, who, True)
    person = await social.create_post(bob, "a person's words")
    followed_bot = bot_post(social, fbot, "followed bot words")
    other_bot = bot_post(social, obot, "other bot words")

    def seen(which: str) -> set[int]:
        with session_scope() as s:
            if which == "home":
                return set(timelines.home_ids(s, a_id))
            if which == "public":
                return set(timelines.public_ids(s, viewer_id=a_id))
            return set(timelines.profile_ids(s, a_id, obot)) | set(timelines.profile_ids(s, a_id, fbot))

    for which in ("home", "public"):
        assert {person, followed_bot, other_bot} <= seen(which)
    assert seen("profile") == {followed_bot, other_bot}

    await social.set_bot_filter(alice, "none")
    for which in ("home", "public"):
        assert person in seen(which)
        assert not {followed_bot, other_bot} & seen(which)
    assert seen("profile") == set()

    await social.set_follow(alice, obot, False)
    await social.set_bot_filter(alice, "following")
    assert seen("home") >= {person, followed_bot} and other_bot not in seen("home")
    assert seen("public") >= {person, followed_bot} and other_bot not in seen("public")
    assert seen("profile") == {followed_bot}
    with session_scope() as s:  # anonymous readers see every bot
        assert {person, followed_bot, other_bot} <= set(timelines.public_ids(s))


async def test_boosts_of_bot_posts_are_hidden_under_no_bots(social, world):
    alice, _ = world["alice"]
    bob, b_id = world["bob"]
    await social.set_follow(alice, b_id, True)
    original = bot_post(social, world["obot"], "a bot wrote this")
    boost = boost_row(b_id, original)
    person = await social.create_post(bob, "plain")
    a_id = world["alice"][1]
    with session_scope() as s:
        assert boost in timelines.home_ids(s, a_id)
    await social.set_bot_filter(alice, "none")
    with session_scope() as s:
        assert boost not in timelines.home_ids(s, a_id)
        assert boost not in timelines.public_ids(s, viewer_id=a_id)
        assert person in timelines.home_ids(s, a_id)


async def test_search_finds_people_bots_posts_and_tags(social, world):
    alice, _ = world["alice"]
    bob, _ = world["bob"]
    post = await social.create_post(bob, "Thinking about pelicans today")
    with session_scope() as s:
        tag = Hashtag(name="pelicans")
        s.add(tag)
        s.flush()
        s.add(PostTag(post_id=post, tag_id=tag.id))
        s.add(Hashtag(name="penguins"))
    found = await social.search(alice, "bob")
    assert any(p.name == "Bob Person" for p in found.profiles)
    assert [p.name for p in (await social.search(alice, "person")).profiles] == ["Bob Person"]  # contains
    assert {p.name for p in (await social.search(alice, "bot")).profiles} == {"Followed Bot", "Other Bot"}
    assert [p.id for p in (await social.search(alice, "pelicans")).posts] == [post]
    assert [p.id for p in (await social.search(None, "pelic")).posts] == [post]  # last word as prefix
    assert [p.id for p in (await social.search(alice, "thinking pelicans")).posts] == [post]
    assert (await social.search(alice, "pelicans walrus")).posts == []  # every word must match
    tags = (await social.search(alice, "#pe", kind="tags")).tags
    assert [t.name for t in tags] == ["pelicans", "penguins"] and tags[0].posts == 1
    only_posts = await social.search(alice, "pelicans", kind="posts")
    assert only_posts.profiles == [] and only_posts.tags == [] and only_posts.posts
    assert (await social.search(alice, "   ")).posts == []
    assert (await social.search(alice, '"* OR NEAR(')).posts == []  # no query syntax leaks through
    with pytest.raises(SocialError):
        await social.search(alice, "x", kind="secrets")


async def test_search_takes_whole_words_first_and_words_they_begin_when_a_page_is_not_full(social, world):
    from clawnet.social import search

    _, a_id = world["alice"]
    bob, _ = world["bob"]
    whole = await social.create_post(bob, "one pelican")
    longer = await social.create_post(bob, "pelicans galore")  # newer, but only begins with the word
    with session_scope() as s:
        assert search.post_ids(s, a_id, "pelican", 1) == [whole]  # a page of whole words: no prefix scan
        assert search.post_ids(s, a_id, "pelican", 5) == [longer, whole]  # not full: newest first
        assert search.post_ids(s, a_id, "pelic", 5) == [longer, whole]


async def test_search_respects_followers_only_posts_and_the_bot_filter(social, world):
    alice, a_id = world["alice"]
    bob, b_id = world["bob"]
    private = await social.create_post(bob, "secret albatross", "followers")
    bot = bot_post(social, world["obot"], "robotic albatross")
    boost = boost_row(b_id, bot)
    assert [p.id for p in (await social.search(alice, "albatross")).posts] == [bot]
    assert [p.id for p in (await social.search(None, "albatross")).posts] == [bot]
    assert private in [p.id for p in (await social.search(bob, "albatross")).posts]  # own
    await social.set_follow(alice, b_id, True)
    ids = [p.id for p in (await social.search(alice, "albatross")).posts]
    assert ids == [bot, private] and boost not in ids  # boost rows are never results
    await social.set_bot_filter(alice, "none")
    assert [p.id for p in (await social.search(alice, "albatross")).posts] == [private]
    assert a_id


async def test_full_text_index_follows_edits_and_deletes(social, world):
    alice, _ = world["alice"]
    bob, _ = world["bob"]
    post = await social.create_post(bob, "original flamingo")
    assert [p.id for p in (await social.search(alice, "flamingo")).posts] == [post]
    await social.edit_post(bob, post, "changed heron")
    assert (await social.search(alice, "flamingo")).posts == []
    assert [p.id for p in (await social.search(alice, "heron")).posts] == [post]
    with session_scope() as s:  # other updates (counters) leave the index alone
        s.exec(sa.update(Post).where(Post.id == post).values(like_count=5))
    assert [p.id for p in (await social.search(alice, "heron")).posts] == [post]
    await social.delete_post(bob, post)
    assert (await social.search(alice, "heron")).posts == []
    with session_scope() as s:
        if s.get_bind().dialect.name == "sqlite":
            check = "INSERT INTO posts_fts(posts_fts, rank) VALUES ('integrity-check', 1)"
            s.exec(sa.text(check))  # raises when the index and the table disagree


async def test_notifications_filter_by_kind_and_group_likes_of_one_post(social, migrated):
    with session_scope() as s:
        users = [make_user(s, Role.MEMBER, name=f"N{i}") for i in range(5)]
        ids = [s.exec(select(Profile.id).where(Profile.user_id == u.id)).one() for u in users]
        actors = [Principal.of(u) for u in users]
        handles = [s.get(Profile, i).handle for i in ids]
    owner, others = actors[0], actors[1:]
    post = await social.create_post(owner, "like this")
    other_post = await social.create_post(owner, "and this")
    await social.set_follow(others[0], ids[0], True)
    for a in others:
        await social.set_like(a, post, True)
    await social.set_like(others[0], other_post, True)
    await social.create_post(others[1], f"hello @{handles[0]}")

    everything = await social.notifications(owner)
    assert [n.kind for n in everything] == ["mention", "like", "like", "like", "like", "like", "follow"]
    likes = await social.notifications(owner, kinds=["like"])
    assert [n.kind for n in likes] == ["like"] * 5
    assert [n.kind for n in await social.notifications(owner, kinds=["mention", "follow"])] == [
        "mention",
        "follow",
    ]
    grouped = notification_groups.group(everything)
    assert [(n.kind, n.others) for n in grouped] == [("mention", 0), ("like", 0), ("like", 3), ("follow", 0)]
    assert grouped[2].actor_handle == handles[4]  # the newest liker leads the group
    assert notification_groups.kinds_for("reblog") == ["reblog"]
    assert notification_groups.kinds_for("all") is None


def test_the_full_text_triggers_exist_at_head(migrated):
    """A later migration that rebuilds `posts` (SQLite batch mode) drops its triggers with the old
    table: it must create them again, or search silently goes stale."""
    with session_scope() as s:
        names = set(s.exec(sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars())
        assert {"posts_fts_ai", "posts_fts_ad", "posts_fts_au"} <= names


async def test_no_bots_holds_on_the_tag_timeline_mentions_trending_and_search(social, world):
    """'No bots' leaves a bot's words out of every list a viewer reads: its posts and boosts of them
    on a tag's timeline, its mentions of the viewer, trending tags, search; a person's stay."""
    alice, alice_id = world["alice"]
    bob, _ = world["bob"]
    with session_scope() as s:
        alice_handle = s.get(Profile, alice_id).handle
    bot_words = bot_post(social, world["fbot"], f"#filtertag zebrafish from a bot @{alice_handle}")
    person_words = await social.create_post(bob, "#filtertag zebrafish from a person")
    boosted = await social.boost(bob, bot_words)
    assert boosted != bot_words

    def shown(views) -> set[int]:
        return {v.id for v in views} | {v.row_id for v in views}

    await social.set_bot_filter(alice, "all")
    assert {bot_words, person_words} <= shown(await social.tag_timeline(alice, "filtertag"))
    assert bot_words in shown(await social.mentions(alice))
    assert bot_words in shown((await social.search(alice, "zebrafish")).posts)

    await social.set_bot_filter(alice, "none")
    tag_rows = await social.tag_timeline(alice, "filtertag")
    assert person_words in shown(tag_rows)
    assert all(not v.is_bot for v in tag_rows) and bot_words not in shown(tag_rows)
    assert boosted not in shown(tag_rows)
    assert bot_words not in shown(await social.mentions(alice))
    found = (await social.search(alice, "zebrafish")).posts
    assert shown(found) & {bot_words, boosted} == set() and person_words in shown(found)
    home = await social.timeline(alice, "home")
    public = await social.timeline(alice, "public")
    assert all(not v.is_bot for v in home + public)
    assert bot_words not in shown(home + public) and boosted not in shown(home + public)
