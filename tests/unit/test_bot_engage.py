"""Bots engaging on the feed: insight drafts (written, approved with edits, discarded, refused to
others), the per-bot posting limit, the depth limit on chains of bot replies, mention replies
through the bot's own gateway (faked here), and a bot badge its token cannot remove."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlmodel import select

from clawnet.db import session_scope
from clawnet.enums import BotStatus, Role
from clawnet.errors import NotFound, UserError
from clawnet.events import EventBus, FleetEvent, Kind
from clawnet.models import Bot, Comment, InsightDraft, Post, Profile, utcnow
from clawnet.security.permissions import PermissionDenied, Principal
from clawnet.security.rate_limit import RateLimited
from clawnet.settings import get_settings
from clawnet.social import insights
from clawnet.social.engage_rules import chain_after
from clawnet.social.mentions import MentionReplier
from clawnet.social.profiles import create_bot_profile
from clawnet.social.service import SocialService
from clawnet.social.writing import SocialError
from tests.factories import assign, make_bot, make_user, profile_of


@dataclass
class World:
    owner: Principal
    other: Principal
    operator: Principal  # assigned to the bot, may configure it
    bot_id: int
    bot_profile: int
    bot_handle: str
    person_profile: int


def make_world() -> World:
    with session_scope() as s:
        owner, other, operator = (
            make_user(s, Role.OPERATOR),
            make_user(s, Role.MEMBER),
            make_user(s, Role.OPERATOR),
        )
        bot = make_bot(s, owner, "Tide Bot")
        bot.actual_status = BotStatus.RUNNING.value
        assign(s, operator, bot)
        profile = create_bot_profile(s, bot)
        person = profile_of(s, other)
        return World(
            Principal.of(owner), Principal.of(other), Principal.of(operator), bot.id or 0, profile.id or 0,
            profile.handle, person.id or 0,
        )  # fmt: skip


@pytest.fixture
def world(migrated) -> World:
    return make_world()


def set_bot(bot_id: int, **values) -> None:
    with session_scope() as s:
        bot = s.get(Bot, bot_id)
        for k, v in values.items():
            setattr(bot, k, v)
        s.add(bot)


def add_draft(bot_id: int, text: str) -> int:
    with session_scope() as s:
        draft = InsightDraft(bot_id=bot_id, text=text)
        s.add(draft)
        s.flush()
        return draft.id or 0


class FakeTurn:
    def __init__(self, text: str) -> None:
        self.text = text

    async def result(self, timeout: float) -> str:
        return self.text


@dataclass
class FakeControl:
    """The control plane's chat, answering every prompt with `answer` (the gateway is faked)."""

    answer: str = "Tides follow the moon."
    prompts: list[tuple[int, str, str | None]] = field(default_factory=list)

    async def chat(self, bot_id, text, *, user_id, session_key=None, timeout_s=None, purpose="chat"):
        self.prompts.append((bot_id, text, session_key))
        return FakeTurn(self.answer)


# --- insight drafts ----------------------------------------------------------------------------


async def test_drafts_mode_writes_a_draft_instead_of_posting(social, world):
    set_bot(world.bot_id, insight_mode="drafts")
    control = FakeControl("Learned: people love tides.")
    due = insights.Due(world.bot_id, "tide", world.bot_profile, 3)
    assert await insights.post_insight(control, social, due) is None  # type: ignore[arg-type]
    with session_scope() as s:
        assert s.exec(select(Post).where(Post.author_id == world.bot_profile)).all() == []
        drafts = s.exec(select(InsightDraft).where(InsightDraft.bot_id == world.bot_id)).all()
        assert [(d.text, d.status) for d in drafts] == [("Learned: people love tides.", "pending")]
    assert [d.text for d in await social.insight_drafts(world.owner, world.bot_id)] == [
        "Learned: people love tides."
    ]


async def test_publish_mode_still_posts(social, world):
    control = FakeControl("Published straight away.")
    due = insights.Due(world.bot_id, "tide", world.bot_profile, 3)
    post_id = await insights.post_insight(control, social, due)  # type: ignore[arg-type]
    with session_scope() as s:
        post = s.get(Post, post_id)
        assert post is not None and post.author_id == world.bot_profile and post.author_is_bot


async def test_approving_a_draft_publishes_it_as_the_bot_with_the_owners_edits(social, world):
    draft = add_draft(world.bot_id, "first wording")
    post_id = await social.approve_draft(world.owner, draft, "better wording, edited")
    with session_scope() as s:
        post = s.get(Post, post_id)
        assert post is not None and post.author_id == world.bot_profile
        assert post.content_text == "better wording, edited" and post.author_is_bot
        row = s.get(InsightDraft, draft)
        assert row is not None and row.status == "published" and row.post_id == post_id
    assert await social.insight_drafts(world.owner, world.bot_id) == []
    with pytest.raises(SocialError, match="already published"):
        await social.approve_draft(world.owner, draft)


async def test_an_operator_who_may_configure_the_bot_approves_too(social, world):
    draft = add_draft(world.bot_id, "as written")
    post_id = await social.approve_draft(world.operator, draft)
    with session_scope() as s:
        post = s.get(Post, post_id)
        assert post is not None and post.content_text == "as written"


async def test_discarding_a_draft_publishes_nothing(social, world):
    draft = add_draft(world.bot_id, "not this one")
    await social.discard_draft(world.owner, draft)
    with session_scope() as s:
        row = s.get(InsightDraft, draft)
        assert row is not None and row.status == "discarded" and row.post_id is None
        assert s.exec(select(Post).where(Post.author_id == world.bot_profile)).all() == []
    assert await social.insight_drafts(world.owner, world.bot_id) == []


async def test_others_cannot_list_approve_or_discard_drafts(social, world):
    draft = add_draft(world.bot_id, "private draft")
    for actor in (world.other, None):
        with pytest.raises(PermissionDenied):
            await social.insight_drafts(actor, world.bot_id)
        with pytest.raises(PermissionDenied):
            await social.approve_draft(actor, draft, "hijacked")
        with pytest.raises(PermissionDenied):
            await social.discard_draft(actor, draft)
    with pytest.raises(NotFound):
        await social.approve_draft(world.owner, 999999)
    with session_scope() as s:
        row = s.get(InsightDraft, draft)
        assert row is not None and row.status == "pending"


# --- settings and the per-bot posting limit ----------------------------------------------------


async def test_engagement_settings_are_the_owners_and_checked_per_field(social, world):
    saved = await social.set_engagement(
        world.owner, world.bot_id, reply_to_mentions=True, replies_per_hour=5, max_depth=3,
        insight_mode="drafts", posts_per_hour=2,
    )  # fmt: skip
    assert (saved.reply_to_mentions, saved.replies_per_hour, saved.max_depth) == (True, 5, 3)
    assert (saved.insight_mode, saved.posts_per_hour) == ("drafts", 2)
    assert await social.engagement(world.owner, world.bot_id) == saved
    with pytest.raises(UserError) as caught:
        await social.set_engagement(
            world.owner, world.bot_id, reply_to_mentions=True, replies_per_hour=0, max_depth=99,
            insight_mode="shout", posts_per_hour=-1,
        )  # fmt: skip
    assert set(caught.value.field_errors) == {
        "replies_per_hour",
        "max_depth",
        "insight_mode",
        "posts_per_hour",
    }
    with pytest.raises(PermissionDenied):
        await social.set_engagement(
            world.other, world.bot_id, reply_to_mentions=False, replies_per_hour=1, max_depth=1,
            insight_mode="publish", posts_per_hour=0,
        )  # fmt: skip


async def test_posts_per_hour_is_enforced_on_token_posts_and_draft_approvals(social, world):
    set_bot(world.bot_id, posts_per_hour=2)
    token = await social.create_bot_token(world.owner, world.bot_id, "script")
    await social.post_with_token(token, "one", "public")
    await social.post_with_token(token, "two", "public")
    with pytest.raises(RateLimited, match="2 times an hour"):
        await social.post_with_token(token, "three", "public")
    draft = add_draft(world.bot_id, "waits")
    with pytest.raises(RateLimited, match="2 times an hour"):
        await social.approve_draft(world.owner, draft)
    with session_scope() as s:  # an hour later the bot may post again
        for post in s.exec(select(Post).where(Post.author_id == world.bot_profile)).all():
            post.created_at = utcnow() - timedelta(hours=2)
            s.add(post)
    assert await social.approve_draft(world.owner, draft)
    set_bot(world.bot_id, posts_per_hour=0)  # 0: only the per-account limits
    await social.post_with_token(token, "four", "public")


# --- the badge ---------------------------------------------------------------------------------


async def test_a_bot_token_cannot_unset_the_bot_badge(social, world):
    token = await social.create_bot_token(world.owner, world.bot_id, "script")
    post_id = await social.post_with_token(token, "I am definitely a person", "public")
    # The owner editing their profile edits their person profile, never the bot's.
    await social.update_profile(world.owner, display_name="Not A Bot", bio="human")
    with session_scope() as s:
        post = s.get(Post, post_id)
        bot_profile = s.get(Profile, world.bot_profile)
        assert post is not None and post.author_is_bot and post.author_id == world.bot_profile
        assert bot_profile is not None and bot_profile.is_bot and bot_profile.display_name == "Tide Bot"
    # The badge is copied from the profile, whatever the post says or claims.
    post_id = await social.post_with_token(token, "is_bot=false author_is_bot=0", "public")
    with session_scope() as s:
        post = s.get(Post, post_id)
        assert post is not None and post.author_is_bot
    card = await social.profile(None, world.bot_handle)
    assert card is not None and card.is_bot


# --- mentions ----------------------------------------------------------------------------------


def test_the_depth_of_a_bot_reply_counts_bot_replies_in_a_row():
    person = Comment(post_id=1, author_id=1, content_html="", bot_chain=0)
    first = Comment(post_id=1, author_id=2, content_html="", bot_chain=chain_after(None, True))
    second = Comment(post_id=1, author_id=3, content_html="", bot_chain=chain_after(first, True))
    assert (first.bot_chain, second.bot_chain) == (1, 2)
    assert chain_after(second, True) == 3
    assert chain_after(second, False) == 0  # a person's reply ends the chain
    assert chain_after(person, True) == 1


async def test_a_mentioned_bot_answers_as_a_comment_mentioning_the_author(social, world):
    set_bot(world.bot_id, reply_to_mentions=True)
    replier = MentionReplier(FakeControl("High tide is at noon."), social, EventBus())  # type: ignore[arg-type]
    post_id = await social.create_post(world.other, f"@{world.bot_handle} when is high tide?")
    with session_scope() as s:
        author = s.get(Profile, world.person_profile)
        assert author is not None
        handle = author.handle
    event = FleetEvent(Kind.POST_CREATED, {"post_id": post_id, "mentions": [world.bot_profile]})
    [comment_id] = await replier.handle(event)
    with session_scope() as s:
        comment = s.get(Comment, comment_id)
        assert comment is not None and comment.author_id == world.bot_profile and comment.post_id == post_id
        assert comment.content_text == f"@{handle} High tide is at noon." and comment.bot_chain == 1
    assert await replier.handle(event) == []  # the same mention is answered once


async def test_no_reply_when_switched_off_or_over_the_hourly_limit(social, world):
    replier = MentionReplier(FakeControl(), social, EventBus())  # type: ignore[arg-type]

    async def mention() -> list[int]:
        post_id = await social.create_post(world.other, f"@{world.bot_handle} hello")
        return await replier.handle(
            FleetEvent(Kind.POST_CREATED, {"post_id": post_id, "mentions": [world.bot_profile]})
        )

    assert await mention() == []  # reply_to_mentions is off by default
    set_bot(world.bot_id, reply_to_mentions=True, mention_replies_per_hour=2)
    assert len(await mention()) == 1 and len(await mention()) == 1
    assert await mention() == []


async def test_two_bots_mentioning_each_other_stop_at_the_max_depth(social, world):
    with session_scope() as s:
        owner = s.get(Bot, world.bot_id)
        assert owner is not None
        other_bot = make_bot(s, _user(s, world.owner), "Echo Bot")
        other_bot.actual_status = BotStatus.RUNNING.value
        other_profile = create_bot_profile(s, other_bot)
        other_id, other_profile_id = other_bot.id or 0, other_profile.id or 0
    for bot_id in (world.bot_id, other_id):
        set_bot(bot_id, reply_to_mentions=True, mention_max_depth=2)
    bus = EventBus()
    events = bus.subscribe([Kind.COMMENT_CREATED, Kind.POST_CREATED])
    social = SocialService(get_settings(), bus)
    replier = MentionReplier(FakeControl("Indeed."), social, bus)  # type: ignore[arg-type]
    token = await social.create_bot_token(world.owner, world.bot_id, "script")
    await social.post_with_token(token, f"@{_handle(other_profile_id)} shall we talk?", "public")
    replies: list[int] = []
    while (event := events.get_nowait()) is not None:
        replies += await replier.handle(event)
    events.close()
    with session_scope() as s:
        chain = [(c.author_id, c.bot_chain) for c in s.exec(select(Comment).order_by(Comment.id)).all()]
    assert chain == [(other_profile_id, 1), (world.bot_profile, 2)]
    assert len(replies) == 2


def _user(session, principal: Principal):
    from clawnet.models import User

    return session.get(User, principal.user_id)


def _handle(profile_id: int) -> str:
    with session_scope() as s:
        profile = s.get(Profile, profile_id)
        assert profile is not None
        return profile.handle


async def test_the_poll_answers_a_mention_no_event_brought(social, world):
    set_bot(world.bot_id, reply_to_mentions=True)
    replier = MentionReplier(FakeControl("Noon."), social, EventBus())  # type: ignore[arg-type]
    assert await replier.poll() == []  # the first look only notes where to start
    post_id = await social.create_post(world.other, f"@{world.bot_handle} when?")  # no event reaches it
    [comment_id] = await replier.poll()
    with session_scope() as s:
        comment = s.get(Comment, comment_id)
        assert comment is not None and comment.post_id == post_id and comment.author_id == world.bot_profile
    assert await replier.poll() == []
    # A reply to the bot's comment that does not mention it is not a mention.
    await social.comment(world.other, post_id, "thanks!", parent_id=comment_id)
    assert await replier.poll() == []
    # One that mentions it is (a reply to the bot, recorded as a reply notification).
    asked = await social.comment(
        world.other, post_id, f"@{world.bot_handle} and tomorrow?", parent_id=comment_id
    )
    [answer] = await replier.poll()
    with session_scope() as s:
        comment = s.get(Comment, answer)
        assert comment is not None and comment.parent_id == asked and comment.bot_chain == 1
