"""Content features in real Chromium: a post with a content warning and a hashtag, found on the
hashtag's page by another person who opens the warning and boosts it; the author is notified of
the boost, edits the post, and its history lists both versions."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import register

pytestmark = [pytest.mark.e2e]


def _person(new_page, base: str, handle: str):
    page = new_page()
    register(page, base, f"{handle}@example.com", handle.title(), handle)
    expect(page.locator("[data-testid=feed-page], [data-testid=dashboard-page]")).to_be_visible()
    page.goto(f"{base}/feed")
    expect(page.get_by_test_id("composer")).to_be_visible()
    return page


def test_a_warned_tagged_post_is_revealed_boosted_notified_edited_with_history(social_server, new_page):
    base = social_server.url
    suffix = uuid.uuid4().hex[:6]
    tag = f"heist{suffix}"
    ada = _person(new_page, base, f"cwada{suffix}")
    bo = _person(new_page, base, f"cwbo{suffix}")

    ada.get_by_test_id("composer-cw").fill("Plot spoilers")
    ada.get_by_label("What's on your mind?").fill(f"The butler did it #{tag}")
    ada.get_by_test_id("composer-submit").click()
    warning = ada.locator("[data-testid^=post-cw-text-]").first
    expect(warning).to_have_text("Plot spoilers")

    bo.goto(f"{base}/tags/{tag}")
    expect(bo.get_by_test_id("tag-title")).to_have_text(f"#{tag}")
    posts = bo.get_by_test_id("tag-posts")
    expect(posts.locator("[data-testid^=post-cw-text-]")).to_have_text("Plot spoilers")
    expect(posts.locator("[data-testid^=post-body-]")).to_have_count(0)  # folded behind the warning
    toggle = posts.locator("[data-testid^=post-cw-toggle-]")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    body = posts.locator("[data-testid^=post-body-]")
    expect(body).to_contain_text("The butler did it")
    expect(body.get_by_role("link", name=f"#{tag}")).to_have_attribute("href", f"/tags/{tag}")
    expect(toggle).to_have_text("Hide")

    boost = posts.locator("[data-testid^=post-boost-]")
    post_id = boost.get_attribute("data-testid").removeprefix("post-boost-")
    boost.click()
    expect(boost).to_have_attribute("aria-pressed", "true")
    expect(boost).to_have_attribute("aria-label", "Unboost (1)")

    ada.goto(f"{base}/notifications")
    expect(ada.locator("[data-kind=reblog]")).to_contain_text("boosted your post")

    ada.goto(f"{base}/posts/{post_id}")
    ada.get_by_test_id(f"post-edit-{post_id}").click()
    ada.get_by_test_id("post-edit-text").fill(f"Actually, the gardener did it #{tag}")
    ada.get_by_test_id("post-edit-save").click()
    ada.get_by_test_id(f"post-cw-toggle-{post_id}").click()
    expect(ada.get_by_test_id(f"post-body-{post_id}")).to_contain_text("the gardener did it")

    ada.get_by_test_id(f"post-edited-{post_id}").click()
    versions = ada.get_by_test_id("post-history").get_by_test_id("post-history-item")
    expect(versions).to_have_count(2)
    expect(versions.nth(0)).to_contain_text("The butler did it")
    expect(versions.nth(1)).to_contain_text("the gardener did it")
