"""Rate limits in a real Chromium against a real ClawNet: the admin sets them in Settings (a wrong
field says what is wrong), and the bot page's chat then refuses the message past the limit with
"Too many chat messages. Try again in ..." next to the form. A member does not see the section."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from clawnet.enums import DesiredStatus
from clawnet.models import Bot
from tests.e2e.helpers import register, server_db, user_id
from tests.support.server import running_clawnet

pytestmark = pytest.mark.e2e
ADMIN = "limits-admin@example.com"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_clawnet(tmp_path_factory.mktemp("clawnet-limits")) as srv:
        yield srv


def test_the_admin_lowers_the_chat_limit_and_the_chat_says_to_wait(server, new_page):
    page = new_page()
    register(page, server.url, ADMIN, "Limits Admin", "limitsadmin")  # the first account: admin
    expect(page.get_by_test_id("dashboard-page")).to_be_visible()
    with server_db(server) as s:
        bot = Bot(
            owner_id=user_id(server, ADMIN),
            name="Quiet",
            agent_id="quiet",
            desired_status=DesiredStatus.STOPPED.value,
        )
        s.add(bot)
        s.flush()
        bot_id = bot.id

    page.goto(f"{server.url}/settings")
    expect(page.get_by_test_id("settings-limits")).to_be_visible()
    expect(page.get_by_test_id("limits-chat-count")).to_have_value("30")
    expect(page.get_by_test_id("limits-api-window")).to_have_value("300")
    page.get_by_test_id("limits-chat-count").fill("none")
    page.get_by_test_id("limits-save").click()
    expect(page.get_by_test_id("limits-chat-count-error")).to_have_text("Give a whole number.")
    page.get_by_test_id("limits-chat-count").fill("1")
    page.get_by_test_id("limits-chat-window").fill("3600")
    page.get_by_test_id("limits-save").click()
    expect(page.get_by_test_id("limits-chat-count-error")).to_have_count(0)
    expect(page.get_by_test_id("limits-error")).to_have_count(0)

    page.goto(f"{server.url}/bots/{bot_id}?tab=sessions")
    chat_input = page.get_by_test_id("chat-input")
    refused = re.compile(r"Too many chat messages\. Try again in \d+ minutes\.")
    for n in range(3):  # the first counts (and finds the bot stopped); a later one is refused
        chat_input.fill(f"hello {n}")
        page.get_by_test_id("chat-send").click()
        expect(page.get_by_test_id("chat-error")).to_be_visible(timeout=30_000)
        if refused.search(page.get_by_test_id("chat-error").inner_text()):
            break
    expect(page.get_by_test_id("chat-error")).to_have_text(refused)

    member = new_page()
    register(member, server.url, "limits-member@example.com", "Member", "limitsmember")
    member.goto(f"{server.url}/settings")
    expect(member.get_by_test_id("settings-page")).to_be_visible()
    expect(member.get_by_test_id("settings-limits")).to_have_count(0)
