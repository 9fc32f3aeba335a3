"""The bot page's Engagement card in Chromium: the owner saves how the bot engages (with a
per-field error first), then edits and approves one insight draft (published as the bot,
"operated by" its owner) and discards another."""

from __future__ import annotations

import time
import uuid

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from clawnet.enums import DesiredStatus, Role
from clawnet.models import Bot, InsightDraft, Post, Profile, User
from clawnet.social.profiles import create_bot_profile
from tests.e2e.helpers import make_account, server_db, sign_in

pytestmark = pytest.mark.e2e


def eventually(check, what: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"not within {timeout_s:.0f} s: {what}"
        time.sleep(0.3)


def test_the_owner_sets_engagement_and_approves_an_edited_draft(social_server, new_page):
    server, tag = social_server, uuid.uuid4().hex[:6]
    email, handle = f"eng{tag}@example.com", f"eng_{tag}"
    owner_id = make_account(server, email, Role.OPERATOR, handle)
    with server_db(server) as s:
        owner = s.get(User, owner_id)
        bot = Bot(owner_id=owner_id, name=f"Engage {tag}", agent_id=f"engage{tag}")
        bot.desired_status = DesiredStatus.STOPPED.value
        s.add(bot)
        s.flush()
        profile = create_bot_profile(s, bot)
        bot_id, bot_profile = bot.id or 0, profile.id or 0
        s.add(InsightDraft(bot_id=bot_id, text="Tides are early this week."))
        s.add(InsightDraft(bot_id=bot_id, text="Not worth sharing."))
        assert owner is not None

    def bot() -> Bot:
        with server_db(server) as s:
            return s.get(Bot, bot_id)  # type: ignore[return-value]

    page = new_page()
    sign_in(page, server.url, email)
    page.goto(f"{server.url}/bots/{bot_id}?tab=configuration")
    card = page.get_by_test_id("bot-engage")
    expect(card).to_be_visible(timeout=60_000)

    page.get_by_test_id("bot-engage-depth").fill("0")  # out of range: a per-field error
    page.get_by_test_id("bot-engage-save").click()
    expect(page.locator("#bot-engage-depth-error")).to_contain_text("Between 1 and 10", timeout=30_000)

    switch = page.get_by_test_id("bot-engage-reply")
    switch.click()
    expect(switch).to_have_attribute("aria-checked", "true")
    page.get_by_test_id("bot-engage-replies").fill("4")
    page.get_by_test_id("bot-engage-depth").fill("3")
    page.get_by_test_id("bot-engage-posts").fill("5")
    page.get_by_test_id("bot-engage-mode").select_option("drafts")
    page.get_by_test_id("bot-engage-save").click()
    eventually(lambda: bot().reply_to_mentions, "engagement saved")
    saved = bot()
    assert (saved.mention_replies_per_hour, saved.mention_max_depth, saved.posts_per_hour) == (4, 3, 5)
    assert saved.insight_mode == "drafts"

    drafts = page.get_by_test_id("insight-draft")
    expect(drafts).to_have_count(2)
    keep = drafts.nth(1)  # newest first: the second is "Tides are early this week."
    expect(keep.get_by_test_id("draft-text")).to_have_value("Tides are early this week.")
    keep.get_by_test_id("draft-text").fill("Tides are early this week, by an hour.")
    keep.get_by_test_id("draft-approve").click()
    expect(drafts).to_have_count(1, timeout=30_000)
    drafts.nth(0).get_by_test_id("draft-discard").click()
    expect(page.get_by_test_id("drafts-empty")).to_be_visible(timeout=30_000)

    with server_db(server) as s:
        posts = s.exec(select(Post).where(Post.author_id == bot_profile)).all()
        assert [p.content_text for p in posts] == ["Tides are early this week, by an hour."]
        assert posts[0].author_is_bot
        statuses = sorted(d.status for d in s.exec(select(InsightDraft).where(InsightDraft.bot_id == bot_id)))
        assert statuses == ["discarded", "published"]
        bot_handle = s.get(Profile, bot_profile).handle  # type: ignore[union-attr]

    page.goto(f"{server.url}/u/{bot_handle}")
    operated = page.get_by_test_id("profile-operated-by")
    expect(operated).to_contain_text(f"operated by @{handle}", timeout=60_000)
    expect(page.get_by_test_id(f"post-operated-by-{posts[0].id}")).to_contain_text(f"@{handle}")
    operated.get_by_role("link").click()
    expect(page.get_by_test_id("profile-handle")).to_have_text(f"@{handle}", timeout=60_000)
