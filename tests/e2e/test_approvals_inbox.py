"""The approvals inbox in a real Chromium against a real ClawNet and a real gateway: a bot made in
the wizard with "ask me before it runs a command" asks (the fake model calls its exec tool); the
approval appears live in the inbox open on a 390 px wide phone screen, with the navigation's
count, without horizontal scrolling and with the approve button in reach; approving it there
makes the command run and the bot's turn finish with the command's result."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import bot_id_from_url, open_menu_item, register, sign_in
from tests.support.server import running_clawnet

pytestmark = [pytest.mark.e2e, pytest.mark.scaleout]
OWNER = "runner-owner@example.com"
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = os.environ.get("CLAWNET_SCREENSHOTS", "")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_clawnet(tmp_path_factory.mktemp("clawnet-approvals")) as srv:
        yield srv


def overflows(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth > window.innerWidth"))


def test_an_exec_approval_arrives_live_on_a_phone_and_approving_runs_it(server, browser, tmp_path: Path):
    desk = browser.new_context(viewport={"width": 1280, "height": 900})
    phone_ctx = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    for ctx in (desk, phone_ctx):
        ctx.set_default_timeout(60_000)
    try:
        page = desk.new_page()
        register(page, server.url, OWNER, "Rita Runner", "rita")
        expect(page.get_by_test_id("dashboard-page")).to_be_visible()
        page.goto(f"{server.url}/bots/new")
        page.get_by_label("Name").fill("Runner")
        for _ in range(3):
            page.get_by_test_id("wizard-next").click()
        page.get_by_test_id("wizard-tool-exec").click()
        page.get_by_test_id("wizard-exec-approval").click()
        expect(page.get_by_test_id("wizard-exec-approval")).to_be_checked()
        page.get_by_test_id("wizard-next").click()
        page.get_by_test_id("wizard-launch").click()
        expect(page.get_by_test_id("launch-open")).to_be_visible(timeout=180_000)
        page.get_by_test_id("launch-open").click()
        page.wait_for_url("**/bots/*")
        bot_id_from_url(page.url)
        expect(page.get_by_test_id("bot-status")).to_have_text("Running", timeout=180_000)

        phone = phone_ctx.new_page()
        sign_in(phone, server.url, OWNER)
        open_menu_item(phone, "navmenu-inbox")  # a phone gets the compact menu
        expect(phone.get_by_test_id("inbox-page")).to_be_visible()
        expect(phone.get_by_test_id("inbox-approvals-empty")).to_be_visible()
        expect(phone.get_by_test_id("inbox-access-count")).to_have_text("Access requests: 0")
        assert not overflows(phone), "the inbox scrolls sideways on a phone"

        target = tmp_path / "approved.txt"
        page.get_by_test_id("chat-input").fill(
            "TOOL CALL: exec " + json.dumps({"command": f"touch {target}"})
        )
        page.get_by_test_id("chat-send").click()
        asked = time.monotonic()

        card = phone.locator("[data-testid^='approval-card-']")
        expect(card).to_have_count(1, timeout=120_000)  # no reload: it arrives over the socket
        print(f"approval visible on the phone {time.monotonic() - asked:.2f} s after sending")
        expect(card).to_contain_text(f"touch {target}")
        expect(card).to_contain_text("Runner")
        expect(card).to_contain_text("expires in")
        expect(phone.get_by_test_id("navmenu-inbox-count")).to_have_text("1")
        expect(phone.get_by_test_id("inbox-approvals-count")).to_have_text("Approvals: 1")
        assert not overflows(phone), "the approval makes the inbox scroll sideways"
        approve = card.get_by_role("button", name=f"Approve once: touch {target}")
        approve.scroll_into_view_if_needed()
        box = approve.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
        assert not target.exists()
        if SCREENSHOTS:
            phone.screenshot(path=str(Path(SCREENSHOTS) / "inbox-phone-approval.png"), full_page=True)

        approve.click()
        expect(card).to_have_count(0)
        expect(phone.get_by_test_id("inbox-approvals-empty")).to_be_visible()
        expect(phone.get_by_test_id("navmenu-inbox-count")).to_have_count(0)
        phone.get_by_test_id("approval-history-toggle").click()
        expect(phone.locator("[data-testid^='approval-outcome-']")).to_contain_text("approved once by")
        expect(page.get_by_test_id("chat-reply").last).to_contain_text("Tool result", timeout=120_000)
        assert target.exists()
    finally:
        desk.close()
        phone_ctx.close()
