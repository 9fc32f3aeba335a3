"""The operator UI in a real Chromium, against a real ClawNet with real OpenClaw gateways (only
the model is faked, and Telegram's Bot API, which cannot be reached from here)."""

from __future__ import annotations

import os
import re
import signal

import pytest
from playwright.sync_api import expect

from clawnet.enums import Role
from clawnet.ui.pages.bot_detail import BotDetailState
from clawnet.ui.pages.dashboard import DashboardState
from tests.e2e.helpers import (
    assign_bot,
    bot_id_from_url,
    bot_row,
    gateway_pid,
    make_account,
    register,
    session_cookie,
    sign_in,
)
from tests.support.fake_telegram import FakeTelegram
from tests.support.reflex_client import handler_name, reflex_client, run_in_thread
from tests.support.server import running_clawnet

pytestmark = pytest.mark.e2e
ADMIN = "ops@example.com"
GOOD_TOKEN = "123456789:AAH0f2l4xmPBtFakeTokenForTests_abcdefg"
UNKNOWN_TOKEN = "987654321:AAH0f2l4xmPBtUnknownTokenForTests_xyz"


@pytest.fixture(scope="module")
def telegram():
    with FakeTelegram() as fake:
        fake.add_bot(GOOD_TOKEN, "helper_bot")
        yield fake


@pytest.fixture(scope="module")
def server(tmp_path_factory, telegram):
    env = {"CLAWNET_TELEGRAM_API_ROOT": telegram.api_root}
    with running_clawnet(tmp_path_factory.mktemp("clawnet-operator"), env) as srv:
        yield srv


@pytest.fixture(scope="module")
def admin_ready(server, browser):
    context = browser.new_context()
    page = context.new_page()
    register(page, server.url, ADMIN, "Ops Admin", "ops")
    expect(page.get_by_test_id("dashboard-page")).to_be_visible()
    context.close()
    return ADMIN


def create_bot_with_wizard(page, base: str, name: str) -> int:
    page.goto(f"{base}/bots/new")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Persona").fill("You are a cheerful test bot.")
    page.get_by_test_id("wizard-next").click()
    expect(page.get_by_test_id("wizard-channel-telegram")).to_be_visible()
    page.get_by_test_id("wizard-next").click()
    page.get_by_test_id("wizard-next").click()
    expect(page.get_by_test_id("wizard-tools-profile")).to_be_visible()
    page.get_by_test_id("wizard-next").click()
    expect(page.get_by_test_id("review-name")).to_have_text(name)
    expect(page.get_by_test_id("review-config-check")).to_contain_text(
        "OpenClaw accepts this configuration", timeout=60_000
    )
    page.get_by_test_id("wizard-launch").click()
    expect(page.get_by_test_id("launch-open")).to_be_visible(timeout=180_000)
    page.get_by_test_id("launch-open").click()
    expect(page.get_by_test_id("bot-detail-page")).to_be_visible()
    return bot_id_from_url(page.url)


def test_the_wizard_creates_a_bot_that_answers_in_the_chat_panel(server, admin_ready, new_page):
    page = new_page()
    sign_in(page, server.url, ADMIN)
    bot_id = create_bot_with_wizard(page, server.url, "Helper Bot")
    expect(page.get_by_test_id("bot-status")).to_have_text("Running")
    page.get_by_test_id("chat-input").fill("REPLY WITH: Hello from the browser!")
    page.get_by_test_id("chat-send").click()
    expect(page.get_by_test_id("chat-reply")).to_have_text("Hello from the browser!", timeout=120_000)
    expect(page.locator("[data-testid^=session-item-]")).to_have_count(1, timeout=30_000)
    expect(page.get_by_test_id("transcript")).to_contain_text("Hello from the browser!")
    page.get_by_test_id("nav-sessions").click()
    expect(page.get_by_test_id("sessions-table")).to_contain_text("Helper Bot")
    assert bot_row(server, "Helper Bot").id == bot_id


def test_a_killed_gateway_shows_on_the_open_dashboard_then_recovers_without_reload(
    server, admin_ready, new_page
):
    page = new_page()
    sign_in(page, server.url, ADMIN)
    bot = bot_row(server, "Helper Bot")
    card_status = page.get_by_test_id(f"bot-card-status-{bot.id}")
    expect(card_status).to_have_text("Running", timeout=60_000)
    page.evaluate("window.__no_reload_marker = 42")
    os.kill(gateway_pid(server, bot.id), signal.SIGKILL)
    expect(card_status).to_have_text("Error", timeout=60_000)
    expect(page.get_by_test_id(f"bot-card-error-{bot.id}")).to_contain_text("Restarting")
    expect(card_status).to_have_text("Running", timeout=120_000)
    assert page.evaluate("window.__no_reload_marker") == 42  # the same page all along


def test_each_wizard_step_says_what_is_wrong(server, admin_ready, new_page):
    page = new_page()
    sign_in(page, server.url, ADMIN)
    page.goto(f"{server.url}/bots/new")
    page.get_by_test_id("wizard-next").click()
    expect(page.get_by_test_id("wizard-name-error")).to_have_text("Give the bot a name.")
    page.get_by_label("Name").fill("Helper Bot")  # taken by the first test
    page.get_by_test_id("wizard-next").click()
    expect(page.get_by_test_id("wizard-name-error")).to_contain_text(
        "You already have a bot called 'Helper Bot'"
    )
    page.get_by_label("Name").fill("Picky Bot")
    page.get_by_test_id("wizard-next").click()

    page.get_by_test_id("wizard-channel-telegram").click()
    token_field = page.get_by_label("Bot token")
    token_field.fill("12345")
    page.get_by_test_id("wizard-next").click()
    expect(page.get_by_test_id("wizard-cred-telegram-bottoken-error")).to_contain_text(
        "not a Telegram bot token"
    )
    token_field.fill(UNKNOWN_TOKEN)
    token_field.blur()
    page.get_by_test_id("wizard-telegram-test").click()
    expect(page.get_by_test_id("wizard-telegram-check")).to_contain_text("Telegram does not know this token")
    token_field.fill(GOOD_TOKEN)
    token_field.blur()
    page.get_by_test_id("wizard-telegram-test").click()
    expect(page.get_by_test_id("wizard-telegram-check")).to_have_text("Connected to @helper_bot.")
    page.get_by_test_id("wizard-next").click()

    page.get_by_label("Direct messages").select_option("allowlist")
    page.get_by_label("Who may message the bot").fill("alice")
    page.get_by_test_id("wizard-allow-telegram-add").click()
    expect(page.get_by_test_id("wizard-allow-telegram-error")).to_contain_text("not a Telegram user id")
    page.get_by_test_id("wizard-next").click()
    expect(page.get_by_test_id("wizard-allow-telegram-field-error")).to_contain_text("at least one entry")
    page.get_by_label("Who may message the bot").fill("111111111")
    page.get_by_test_id("wizard-allow-telegram-add").click()
    expect(page.get_by_test_id("wizard-allow-telegram-chip")).to_have_count(1)
    page.get_by_test_id("wizard-next").click()

    page.get_by_label("Idle minutes").fill("0")
    page.get_by_label("Tool profile").click()  # moves the focus: the field is saved
    page.get_by_test_id("wizard-next").click()
    expect(page.get_by_test_id("wizard-reset-idle-error")).to_contain_text("Between 1 minute and 7 days")
    page.get_by_label("Idle minutes").fill("30")
    page.get_by_label("Tool profile").select_option("full")
    expect(page.get_by_test_id("wizard-warning").first).to_contain_text("run commands")
    page.get_by_test_id("wizard-next").click()
    expect(page.get_by_test_id("review-config-check")).to_contain_text(
        "OpenClaw accepts this configuration", timeout=60_000
    )
    # Back and forth keeps what was typed.
    page.get_by_test_id("wizard-step-1").click()
    expect(page.get_by_label("Name")).to_have_value("Picky Bot")
    page.get_by_test_id("wizard-step-3").click()
    expect(page.get_by_test_id("wizard-allow-telegram-chip")).to_have_text("111111111")


def test_a_viewer_can_see_but_not_start_or_stop_a_bot(server, admin_ready, new_page):
    bot = bot_row(server, "Helper Bot")
    viewer_id = make_account(server, "vera@example.com", Role.VIEWER, "vera")
    assign_bot(server, viewer_id, bot.id)
    page = new_page()
    sign_in(page, server.url, "vera@example.com")
    expect(page.get_by_test_id(f"bot-card-{bot.id}")).to_be_visible()
    expect(page.get_by_test_id(f"bot-stop-{bot.id}")).to_have_count(0)
    expect(page.get_by_test_id(f"bot-restart-{bot.id}")).to_have_count(0)
    page.goto(f"{server.url}/bots/{bot.id}")
    expect(page.get_by_test_id("bot-status")).to_be_visible()
    expect(page.get_by_test_id("detail-stop")).to_have_count(0)
    expect(page.get_by_test_id("chat-panel")).to_have_count(0)

    cookie = session_cookie(page)

    async def call_handlers_as_viewer() -> list[dict]:
        async with reflex_client(server.url, cookie) as client:
            updates = await client.call(
                handler_name(DashboardState, "stop_bot"), {"bot_id": str(bot.id)}, settle_s=2
            )
            updates += await client.call(
                handler_name(BotDetailState, "stop"), {}, path=f"/bots/{bot.id}", settle_s=2
            )
            return updates

    updates = run_in_thread(call_handlers_as_viewer)
    assert bot_row(server, "Helper Bot").desired_status == "running"  # refused by the handler
    refusals = [e for u in updates for e in u.get("events") or [] if "not start, stop or chat" in str(e)]
    assert refusals, updates


SAMPLE_CONFIG = """{
  agents: {entries: {
    importer_one: {name: "Imported One", identity: {emoji: "1️⃣"}},
    importer_two: {name: "Imported Two", tools: {profile: "minimal"}},
  }, defaults: {model: {primary: "echo/echo-1"}}},
}"""


def test_importing_an_openclaw_json_creates_the_bots_it_describes(server, admin_ready, new_page):
    page = new_page()
    sign_in(page, server.url, ADMIN)
    page.goto(f"{server.url}/settings")
    page.get_by_label("openclaw.json to import").fill(SAMPLE_CONFIG)
    page.get_by_test_id("import-preview").click()
    expect(page.get_by_test_id("import-preview-row")).to_have_count(2)
    page.get_by_test_id("import-confirm").click()
    expect(page.get_by_test_id("import-done")).to_contain_text("Imported 2 bots")
    page.get_by_test_id("nav-bots").click()
    expect(page.get_by_test_id("bots-table")).to_contain_text("Imported One")
    expect(page.get_by_test_id("bots-table")).to_contain_text("Imported Two")
    one = bot_row(server, "Imported One")
    expect(page.get_by_test_id(f"bots-row-status-{one.id}")).to_have_text(
        re.compile("Running|Starting|Pending")
    )
