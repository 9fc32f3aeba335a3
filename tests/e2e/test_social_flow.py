"""The social network in real Chromium with two people: follow, post, like, comment; the other
person's notification count rises live; an XSS attempt renders as inert text; an anonymous
visitor reads the public timeline."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import register
from tests.support.server import running_clawnet

pytestmark = [pytest.mark.e2e, pytest.mark.scaleout]
XSS_RECORDER = "window.__xssCalls = []; window.__xss = (n) => window.__xssCalls.push(n);"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_clawnet(tmp_path_factory.mktemp("clawnet-social")) as srv:
        yield srv


def test_two_people_follow_post_like_and_comment_with_live_notifications(server, browser):
    ada_ctx, bo_ctx = browser.new_context(), browser.new_context()
    ada_ctx.set_default_timeout(20_000)
    bo_ctx.set_default_timeout(20_000)
    try:
        ada, bo = ada_ctx.new_page(), bo_ctx.new_page()
        register(ada, server.url, "ada@example.com", "Ada", "ada")
        expect(ada.get_by_test_id("dashboard-page")).to_be_visible()
        register(bo, server.url, "bo@example.com", "Bo", "bo")
        expect(bo.get_by_test_id("feed-page")).to_be_visible()

        bo.goto(f"{server.url}/u/ada")
        bo.get_by_test_id("profile-follow").click()
        expect(bo.get_by_test_id("profile-followers")).to_have_text("1 followers")
        ada.goto(f"{server.url}/feed")
        expect(ada.get_by_test_id("nav-unread-count")).to_have_text("1")  # Bo followed her

        bo.goto(f"{server.url}/feed")
        expect(bo.get_by_test_id("feed-tab-home")).to_have_attribute("aria-pressed", "true")
        ada.get_by_label("What's on your mind?").fill("Hello **world** from @ada, see https://example.com")
        ada.get_by_test_id("composer-submit").click()
        post = ada.locator("[data-testid^=post-body-]").first
        expect(post).to_contain_text("Hello world from @ada")
        expect(post.locator("strong")).to_have_text("world")
        expect(post.get_by_role("link", name="https://example.com")).to_have_attribute(
            "rel", "nofollow noopener"
        )

        banner = bo.get_by_test_id("feed-new-posts")
        expect(banner).to_have_text("1 new post — show")  # arrived live, no reload
        banner.click()
        post_id = (
            bo.locator("[data-testid^=post-body-]")
            .first.get_attribute("data-testid")
            .removeprefix("post-body-")
        )
        bo.get_by_test_id(f"post-like-{post_id}").click()
        expect(bo.get_by_test_id(f"post-like-{post_id}")).to_have_attribute("aria-pressed", "true")
        expect(ada.get_by_test_id("nav-unread-count")).to_have_text("2")  # the like, live

        bo.get_by_test_id(f"post-replies-{post_id}").click()
        bo.get_by_label("Your reply").fill("Nice one, @ada!")
        bo.get_by_test_id("reply-submit").click()
        expect(bo.get_by_test_id("comments")).to_contain_text("Nice one, @ada!")
        expect(ada.get_by_test_id("nav-unread-count")).to_have_text("3")  # the reply, live

        ada.get_by_test_id("nav-notifications").click()
        expect(ada.locator("[data-testid^=notification-]")).to_have_count(3)
        expect(ada.locator("[data-kind=reply]")).to_contain_text("Bo")
        ada.get_by_test_id("notifications-mark-read").click()
        expect(ada.get_by_test_id("nav-unread-count")).to_have_count(0)
    finally:
        ada_ctx.close()
        bo_ctx.close()


def test_an_xss_attempt_renders_as_inert_text(server, browser):
    ctx = browser.new_context()
    ctx.add_init_script(XSS_RECORDER)
    try:
        page = ctx.new_page()
        register(page, server.url, "mallory@example.com", "Mallory", "mallory")
        expect(page.get_by_test_id("nav-user-name")).to_have_text("Mallory")  # signed in
        page.goto(f"{server.url}/feed")
        attempts = [
            '<img src=x onerror="window.__xss(1)">',
            "<script>window.__xss(2)</script>",
            '<a href="javascript:window.__xss(3)">click me</a>',
            "<svg onload=window.__xss(4)>",
        ]
        for attempt in attempts:
            page.get_by_label("What's on your mind?").fill(attempt + " payload")
            page.get_by_test_id("composer-submit").click()
            expect(page.locator("[data-testid^=post-body-]").first).to_contain_text("payload")
        page.reload()
        page.locator("[data-testid^=post-body-]").first.wait_for()
        link = page.get_by_role("link", name="click me")
        if link.count():
            link.first.click()
        page.wait_for_timeout(500)
        assert page.evaluate("window.__xssCalls") == []
        assert (
            page.locator(
                "[data-testid^=post-body-] img, [data-testid^=post-body-] script, [data-testid^=post-body-] svg"
            ).count()
            == 0
        )
    finally:
        ctx.close()


def test_an_anonymous_visitor_reads_the_public_timeline(server, new_page):
    page = new_page()
    page.goto(f"{server.url}/feed")
    expect(page.get_by_test_id("feed-anonymous-note")).to_be_visible()
    expect(page.get_by_test_id("composer")).to_have_count(0)
    expect(page.locator("[data-testid^=post-body-]").first).to_be_visible()
    page.goto(f"{server.url}/u/ada")
    expect(page.get_by_test_id("profile-name")).to_have_text("Ada")
    expect(page.get_by_test_id("profile-follow")).to_have_count(0)


def test_a_person_edits_their_profile_with_an_avatar(server, browser, tmp_path):
    png = tmp_path / "me.png"
    # A 1x1 PNG (the server checks the content, not the name).
    png.write_bytes(
        bytes.fromhex(
            "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
            "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e2b8a1"
            "d30000000049454e44ae426082"
        )
    )
    ctx = browser.new_context()
    ctx.set_default_timeout(20_000)
    try:
        page = ctx.new_page()
        register(page, server.url, "cy@example.com", "Cy", "cy")
        expect(page.get_by_test_id("nav-user-name")).to_have_text("Cy")
        page.goto(f"{server.url}/settings")
        section = page.get_by_test_id("settings-profile")
        expect(section.get_by_label("Display name")).to_have_value("Cy")
        section.get_by_test_id("profile-avatar-upload").locator("input[type=file]").set_input_files(str(png))
        expect(section.get_by_role("img", name="Cy")).to_be_visible()
        section.get_by_label("Display name").fill("Cy Twin")
        section.get_by_label("Bio").fill("I write <b>tides</b> at https://example.com")
        section.get_by_test_id("profile-save").click()
        expect(page.get_by_text("Profile saved.")).to_be_visible()

        page.goto(f"{server.url}/u/cy")
        expect(page.get_by_test_id("profile-name")).to_have_text("Cy Twin")
        bio = page.get_by_test_id("profile-bio")
        expect(bio).to_contain_text("I write <b>tides</b>")  # shown as typed, not as markup
        expect(bio.get_by_role("link", name="https://example.com")).to_have_attribute(
            "rel", "nofollow noopener"
        )
        src = page.get_by_role("img", name="Cy Twin").get_attribute("src")
        assert src is not None and src.startswith("/media/avatars/")
        assert page.request.get(f"{server.url}{src}").headers["content-type"] == "image/png"

        page.goto(f"{server.url}/settings")
        name_field = section.get_by_label("Display name")
        expect(name_field).to_have_value("Cy Twin")  # loaded: typing now is not overwritten
        name_field.fill("   ")
        section.get_by_test_id("profile-save").click()
        expect(page.get_by_test_id("profile-error")).to_have_text("Enter a display name.")
    finally:
        ctx.close()
