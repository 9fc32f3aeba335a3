"""Access requests in a real Chromium against a real ClawNet, a real gateway and the fake Telegram
Bot API: a stranger writes to a running bot whose DMs need approval, the request appears in the
already open inbox and the navigation's count without a reload, approving lets the stranger in
(their next message is answered), revoking shuts them out again, dismissing keeps another one out,
and a viewer sees the requests but no way to decide them."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from clawnet.enums import Role
from tests.e2e.helpers import assign_bot, bot_id_from_url, make_account, register, sign_in
from tests.support.fake_telegram import FakeTelegram
from tests.support.server import running_clawnet

pytestmark = [pytest.mark.e2e, pytest.mark.scaleout]
OWNER = "keeper@example.com"
VIEWER = "watcher@example.com"
TOKEN = "123456789:AAH0f2l4xmPBtDoormanTokenForTests_abcd"
STRANGER = 424242424
OTHER = 434343434
SCREENSHOTS = os.environ.get("CLAWNET_SCREENSHOTS", "")


def eventually(check, what: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"not within {timeout_s:.0f} s: {what}"
        time.sleep(0.2)


def shot(page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def telegram():
    with FakeTelegram() as fake:
        fake.add_bot(TOKEN, "doorman_bot")
        yield fake


@pytest.fixture(scope="module")
def server(tmp_path_factory, telegram):
    env = {"CLAWNET_TELEGRAM_API_ROOT": telegram.api_root}
    with running_clawnet(tmp_path_factory.mktemp("clawnet-access"), env) as srv:
        yield srv


@pytest.fixture(scope="module")
def doorman(server, browser) -> int:
    """The owner's running bot: Telegram, DMs by pairing (the default)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(60_000)
    page = context.new_page()
    register(page, server.url, OWNER, "Kim Keeper", "kim")
    expect(page.get_by_test_id("dashboard-page")).to_be_visible()
    page.goto(f"{server.url}/bots/new")
    page.get_by_label("Name").fill("Doorman")
    page.get_by_test_id("wizard-next").click()
    page.get_by_test_id("wizard-channel-telegram").click()
    token = page.get_by_label("Bot token")
    token.fill(TOKEN)
    token.blur()
    page.get_by_test_id("wizard-next").click()
    expect(page.get_by_label("Direct messages")).to_have_value("pairing")
    for _ in range(2):  # access -> advanced -> review
        page.get_by_test_id("wizard-next").click()
    page.get_by_test_id("wizard-launch").click()
    expect(page.get_by_test_id("launch-open")).to_be_visible(timeout=180_000)
    expect(page.get_by_test_id("launch-progress-line").last).to_contain_text("Running", timeout=180_000)
    page.get_by_test_id("launch-open").click()
    page.wait_for_url("**/bots/*")
    bot_id = bot_id_from_url(page.url)
    expect(page.get_by_test_id("bot-status")).to_have_text("Running", timeout=180_000)
    context.close()
    return bot_id


def texts_to(telegram: FakeTelegram, chat_id: int) -> list[str]:
    return [m["text"] for m in telegram.bots[TOKEN].sent if int(m["chat_id"]) == chat_id]


def test_a_strangers_request_appears_live_and_approving_lets_them_in(server, telegram, doorman, new_page):
    page = new_page()
    sign_in(page, server.url, OWNER)
    page.get_by_test_id("nav-access").click()
    expect(page.get_by_test_id("access-empty")).to_be_visible()
    expect(page.get_by_test_id("nav-access-count")).to_have_count(0)
    expect(page.get_by_test_id("access-message-note")).to_contain_text("does not keep the message")

    sent_at = time.monotonic()
    telegram.push_message(TOKEN, chat_id=STRANGER, from_id=STRANGER, text="hi, may I?", username="mallory")
    row = page.locator(f"[data-testid^='access-request-'][data-sender='{STRANGER}']")
    expect(row).to_be_visible(timeout=30_000)  # no reload: it arrives over the page's socket
    print(f"request visible in the open inbox {time.monotonic() - sent_at:.2f} s after the message")
    expect(page.get_by_test_id("nav-access-count")).to_have_text("1")
    expect(row).to_contain_text("Mallory (@mallory)")
    expect(row).to_contain_text("Doorman")
    expect(row).to_contain_text("telegram")
    expect(row).to_contain_text("in 60 min")
    shot(page, "access-inbox-pending")
    eventually(lambda: any("Pairing code" in t for t in texts_to(telegram, STRANGER)), "the pairing reply")

    row.get_by_role("button", name=f"Approve {STRANGER} on telegram").click()
    expect(row).to_have_count(0)
    expect(page.get_by_test_id("nav-access-count")).to_have_count(0)
    expect(page.get_by_test_id("access-empty")).to_be_visible()
    eventually(lambda: any("approved" in t for t in texts_to(telegram, STRANGER)), "the approval notice")

    telegram.push_message(
        TOKEN, chat_id=STRANGER, from_id=STRANGER, text="REPLY WITH: glad to be in", username="mallory"
    )
    eventually(lambda: "glad to be in" in texts_to(telegram, STRANGER), "an answer", 120)

    page.goto(f"{server.url}/bots/{doorman}?tab=channels")
    approved = page.get_by_test_id(f"access-approved-telegram:{STRANGER}")
    expect(approved).to_contain_text("Mallory (@mallory)")
    expect(approved).to_contain_text("approved")
    shot(page, "access-bot-channels-approved")
    page.get_by_test_id(f"access-revoke-telegram:{STRANGER}").click()
    expect(approved).to_have_count(0)
    time.sleep(3)  # the config change reaches the gateway
    before = len(texts_to(telegram, STRANGER))
    telegram.push_message(
        TOKEN, chat_id=STRANGER, from_id=STRANGER, text="REPLY WITH: still in?", username="mallory"
    )
    eventually(lambda: len(texts_to(telegram, STRANGER)) > before, "a reply after revoking")
    time.sleep(3)
    after = texts_to(telegram, STRANGER)[before:]
    assert "still in?" not in after and any("Pairing code" in t for t in after), after
    # The revoked stranger asked again: the bot's own tab shows it live.
    expect(page.locator(f"[data-testid^='access-request-'][data-sender='{STRANGER}']")).to_be_visible()
    shot(page, "access-bot-channels-request-again")

    page.goto(f"{server.url}/admin")  # every decision is in the audit log
    audit = page.get_by_test_id("audit-log")
    expect(audit).to_contain_text(f"approved telegram sender Mallory (@mallory) ({STRANGER}) for Doorman")
    expect(audit).to_contain_text(f"revoked telegram sender Mallory (@mallory) ({STRANGER}) for Doorman")
    shot(page, "access-audit-log")


def test_dismissing_keeps_a_stranger_out_and_a_viewer_cannot_decide(server, telegram, doorman, new_page):
    viewer_id = make_account(server, VIEWER, Role.VIEWER, "watcher")
    assign_bot(server, viewer_id, doorman)
    owner, viewer = new_page(), new_page()
    sign_in(owner, server.url, OWNER)
    owner.goto(f"{server.url}/access")
    sign_in(viewer, server.url, VIEWER)
    viewer.goto(f"{server.url}/access")
    expect(viewer.get_by_test_id("access-page")).to_be_visible()

    telegram.push_message(TOKEN, chat_id=OTHER, from_id=OTHER, text="open up", username="eve")
    selector = f"[data-testid^='access-request-'][data-sender='{OTHER}']"
    mine, theirs = owner.locator(selector), viewer.locator(selector)
    expect(mine).to_be_visible(timeout=30_000)
    expect(theirs).to_be_visible(timeout=30_000)
    expect(theirs).to_contain_text("view only")
    expect(theirs.get_by_role("button")).to_have_count(0)
    expect(viewer.get_by_test_id("access-view-only-note")).to_be_visible()
    expect(viewer.get_by_test_id("access-notify")).to_have_count(0)
    expect(viewer.get_by_test_id("nav-access-count")).not_to_have_count(0)
    shot(viewer, "access-inbox-viewer")

    mine.get_by_role("button", name=f"Dismiss {OTHER} on telegram").click()
    expect(mine).to_have_count(0)
    expect(theirs).to_have_count(0)  # the viewer's page follows too
    before = len(texts_to(telegram, OTHER))
    telegram.push_message(TOKEN, chat_id=OTHER, from_id=OTHER, text="REPLY WITH: now?", username="eve")
    eventually(lambda: len(texts_to(telegram, OTHER)) > before, "a reply after dismissing")
    time.sleep(3)
    after = texts_to(telegram, OTHER)[before:]
    assert "now?" not in after and any("Pairing code" in t for t in after), after
