"""Moderation in real Chromium: a person reports a post, an admin hides it from the queue with a
reason (the reporter no longer sees it, its author sees the reason); a person mutes another and
their posts leave the feed."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from clawnet.enums import Role
from tests.e2e.helpers import make_account, sign_in

pytestmark = [pytest.mark.e2e]


def _person(server, new_page, role: Role, prefix: str) -> tuple[Page, str]:
    handle = f"{prefix}_{uuid.uuid4().hex[:8]}"
    email = f"{handle}@example.com"
    make_account(server, email, role, handle)
    page = new_page()
    sign_in(page, server.url, email, landing="dashboard-page" if role is Role.ADMIN else "feed-page")
    return page, handle


def _post(page: Page, base: str, text: str) -> str:
    page.goto(f"{base}/feed")
    page.get_by_label("What's on your mind?").fill(text)
    page.get_by_test_id("composer-submit").click()
    body = page.locator("[data-testid^=post-body-]", has_text=text).first
    expect(body).to_be_visible()
    return body.get_attribute("data-testid").removeprefix("post-body-")


def _public_feed(page: Page, base: str) -> None:
    page.goto(f"{base}/feed")
    page.get_by_test_id("feed-tab-public").click()
    expect(page.get_by_test_id("feed-tab-public")).to_have_attribute("aria-pressed", "true")


def test_a_reported_post_is_hidden_by_an_admin_with_a_reason(social_server, new_page):
    base = social_server.url
    author, author_handle = _person(social_server, new_page, Role.MEMBER, "abe")
    reporter, _ = _person(social_server, new_page, Role.MEMBER, "rita")
    admin, _ = _person(social_server, new_page, Role.ADMIN, "mod")
    text = f"Buy cheap pills {uuid.uuid4().hex[:6]}"
    post_id = _post(author, base, text)
    own_id = _post(reporter, base, f"My own words {uuid.uuid4().hex[:6]}")  # newer: shows the feed loaded

    _public_feed(reporter, base)
    expect(reporter.get_by_test_id(f"post-body-{post_id}")).to_be_visible()
    reporter.get_by_test_id(f"post-report-{post_id}").click()
    reporter.get_by_test_id("report-reason").fill("Spam")
    reporter.get_by_test_id("report-submit").click()
    expect(reporter.get_by_test_id("report-reason")).to_have_count(0)  # the dialog closed

    admin.goto(f"{base}/admin")
    admin.get_by_test_id("admin-moderation-link").click()
    expect(admin.get_by_test_id("moderation-queue")).to_be_visible()
    row = admin.locator("[data-testid^=report-row-]", has_text=text)
    expect(row).to_contain_text("Spam")
    admin.get_by_test_id("moderation-reason").fill("Breaks rule 2: no spam")
    row.locator("[data-testid^=report-hide-]").click()
    expect(admin.locator("[data-testid^=report-row-]", has_text=text)).to_have_count(0)

    _public_feed(reporter, base)
    expect(reporter.get_by_test_id(f"post-body-{own_id}")).to_be_visible()
    expect(reporter.get_by_test_id(f"post-body-{post_id}")).to_have_count(0)

    author.goto(f"{base}/u/{author_handle}")
    expect(author.get_by_test_id(f"post-hidden-{post_id}")).to_contain_text("Breaks rule 2: no spam")


def test_muting_someone_takes_their_posts_out_of_the_feed(social_server, new_page):
    base = social_server.url
    loud, loud_handle = _person(social_server, new_page, Role.MEMBER, "max")
    me, _ = _person(social_server, new_page, Role.MEMBER, "mia")
    post_id = _post(loud, base, f"Very loud opinion {uuid.uuid4().hex[:6]}")
    own_id = _post(me, base, f"A quiet thought {uuid.uuid4().hex[:6]}")

    _public_feed(me, base)
    expect(me.get_by_test_id(f"post-body-{post_id}")).to_be_visible()
    me.goto(f"{base}/u/{loud_handle}")
    me.get_by_test_id("profile-mute").click()
    me.get_by_test_id("mute-duration").select_option("24")
    me.get_by_test_id("mute-confirm").click()
    expect(me.get_by_test_id("profile-mute")).to_have_text("Unmute")

    _public_feed(me, base)
    expect(me.get_by_test_id(f"post-body-{own_id}")).to_be_visible()
    expect(me.get_by_test_id(f"post-body-{post_id}")).to_have_count(0)

    me.goto(f"{base}/settings")
    expect(me.get_by_test_id("settings-muted")).to_contain_text("@" + loud_handle)
