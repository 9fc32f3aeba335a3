"""Routing rules and groups in a real Chromium: two bots on one gateway (imported from an
openclaw.json), OpenClaw's Telegram channel against the fake Bot API, and the echo model, whose
replies say which bot answered."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from clawnet.enums import Role
from tests.e2e.helpers import assign_bot, bot_row, make_account, register, sign_in
from tests.support.fake_telegram import FakeTelegram
from tests.support.server import running_clawnet

pytestmark = pytest.mark.e2e
ADMIN = "router@example.com"
VIEWER = "watcher@example.com"
TOKEN_A = "123456789:AAH0f2l4xmPBtFakeTokenForTests_abcdefg"
TOKEN_B = "223456789:AAH0f2l4xmPBtFakeTokenForTests_bcdefgh"
ALICE, BOB = 111111111, 222222222
CONFIG = """{
  agents: {defaults: {model: {primary: "echo/echo-1"}}, entries: {
    alpha: {name: "Alpha"}, beta: {name: "Beta"},
  }},
  channels: {telegram: {accounts: {
    alpha: {botToken: "TOKEN_A", dmPolicy: "open", allowFrom: ["*"], groupPolicy: "allowlist",
            groups: {"-1001234567890": {requireMention: false}}},
    beta: {botToken: "TOKEN_B", dmPolicy: "open", allowFrom: ["*"]},
  }}},
  bindings: [
    {agentId: "alpha", match: {channel: "telegram", accountId: "alpha"}},
    {agentId: "beta", match: {channel: "telegram", accountId: "beta"}},
    {agentId: "beta", match: {channel: "telegram", accountId: "alpha", peer: {kind: "group", id: "-1009876543210"}}},
  ],
}""".replace("TOKEN_A", TOKEN_A).replace("TOKEN_B", TOKEN_B)


@pytest.fixture(scope="module")
def telegram():
    with FakeTelegram() as fake:
        fake.add_bot(TOKEN_A, "alpha_bot")
        fake.add_bot(TOKEN_B, "beta_bot")
        yield fake


@pytest.fixture(scope="module")
def server(tmp_path_factory, telegram):
    env = {"CLAWNET_TELEGRAM_API_ROOT": telegram.api_root}
    with running_clawnet(tmp_path_factory.mktemp("clawnet-routing"), env) as srv:
        yield srv


@pytest.fixture(scope="module")
def imported(server, browser):
    """The admin signs up and imports two bots sharing one gateway, with a routing rule."""
    context = browser.new_context()
    context.set_default_timeout(60_000)
    page = context.new_page()
    register(page, server.url, ADMIN, "Router", "router")
    expect(page.get_by_test_id("dashboard-page")).to_be_visible()
    page.goto(f"{server.url}/settings")
    page.get_by_label("openclaw.json to import").fill(CONFIG)
    page.get_by_test_id("import-preview").click()
    expect(page.get_by_test_id("import-preview-row")).to_have_count(2)
    page.get_by_test_id("import-confirm").click()
    expect(page.get_by_test_id("import-done")).to_contain_text("Imported 2 bots")
    context.close()
    return bot_row(server, "Alpha").id, bot_row(server, "Beta").id


def answer(telegram: FakeTelegram, token: str, person: int, text: str, timeout: float = 120) -> str:
    """What the Telegram bot `token` answers `person` who sends `text`."""
    sent = telegram.bots[token].sent
    count = len(sent)
    telegram.push_message(token, chat_id=person, from_id=person, text=text, username=f"user{person}")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        replies = [m for m in sent[count:] if int(m.get("chat_id", 0)) == person]
        if replies:
            return str(replies[0]["text"])
        time.sleep(0.2)
    raise AssertionError(f"no answer to {text!r} within {timeout:.0f} s")


def who_answers(telegram: FakeTelegram, token: str, person: int, expected: str, timeout: float = 120) -> str:
    """Ask until `expected` answers (a saved change reaches the gateway within seconds) or time runs out."""
    deadline = time.monotonic() + timeout
    got = ""
    while time.monotonic() < deadline:
        got = answer(telegram, token, person, "REPLY WITH: {agent} here", timeout=deadline - time.monotonic())
        if got == f"{expected} here":
            return expected
        time.sleep(1)
    return got


def test_a_rule_edited_in_the_browser_changes_which_bot_answers_a_person(
    server, telegram, imported, new_page
):
    alpha_id, beta_id = imported
    page = new_page()
    sign_in(page, server.url, ADMIN)
    page.goto(f"{server.url}/bots/{beta_id}?tab=routing")
    expect(page.get_by_test_id("bot-status")).to_have_text("Running", timeout=180_000)
    # The imported rule shows up, in OpenClaw's words and order.
    rules = page.get_by_test_id("routing-rule")
    expect(rules).to_have_count(1)
    expect(rules.first).to_contain_text("Exact conversation")
    expect(rules.first).to_contain_text("Group -1009876543210, on Telegram: Alpha's account")
    expect(page.get_by_test_id("routing-tiers")).to_contain_text("2. Parent conversation")
    assert who_answers(telegram, TOKEN_A, ALICE, "Alpha") == "Alpha"

    # A wrong id is refused next to the form, in the channel's own terms.
    page.get_by_label("Listen on").select_option("telegram|alpha")
    page.get_by_label("Conversation", exact=True).select_option("direct")
    page.get_by_label("Conversation id").fill("alice")
    page.get_by_test_id("routing-add").click()
    expect(page.get_by_test_id("routing-draft-error")).to_contain_text("not a Telegram person")
    page.get_by_label("Conversation id").fill(str(ALICE))
    page.get_by_label("Conversation id").press("Tab")  # the field's debounced change is sent now
    expect(page.get_by_test_id("routing-draft-error")).to_have_count(0)  # the edit cleared the error
    page.get_by_test_id("routing-add").click()
    expect(rules).to_have_count(2)
    expect(page.get_by_test_id("routing-dirty")).to_be_visible()
    page.get_by_test_id("routing-save").click()
    expect(page.get_by_test_id("routing-status")).to_contain_text(
        "OpenClaw accepts these rules", timeout=60_000
    )
    expect(page.get_by_test_id("routing-dirty")).to_have_count(0)

    # Alice, writing to Alpha's Telegram bot, is now answered by Beta; Bob still by Alpha.
    assert who_answers(telegram, TOKEN_A, ALICE, "Beta") == "Beta"
    assert who_answers(telegram, TOKEN_A, BOB, "Alpha") == "Alpha"
    # Alpha's page says that another bot takes some of its messages.
    page.goto(f"{server.url}/bots/{alpha_id}?tab=routing")
    expect(page.get_by_test_id("routing-incoming")).to_contain_text("Beta: Direct chat 111111111")

    # Editing the rule in place (to Bob) moves the conversation; the imported rule survives.
    page.goto(f"{server.url}/bots/{beta_id}?tab=routing")
    direct = rules.filter(has_text="Direct chat")
    direct.get_by_test_id("routing-rule-edit").click()
    expect(page.get_by_label("Conversation id")).to_have_value(str(ALICE))
    page.get_by_label("Conversation id").fill(str(BOB))
    page.get_by_test_id("routing-add").click()
    expect(rules.filter(has_text=f"Direct chat {BOB}")).to_have_count(1)
    page.get_by_test_id("routing-save").click()
    expect(page.get_by_test_id("routing-status")).to_contain_text(
        "OpenClaw accepts these rules", timeout=60_000
    )
    assert who_answers(telegram, TOKEN_A, BOB, "Beta") == "Beta"
    assert who_answers(telegram, TOKEN_A, ALICE, "Alpha") == "Alpha"
    page.reload()
    expect(rules).to_have_count(2)
    expect(rules.filter(has_text="Group -1009876543210")).to_have_count(1)


def test_groups_are_edited_in_the_wizard_and_on_the_bot_page_with_ids_checked(server, imported, new_page):
    alpha_id, _ = imported
    page = new_page()
    sign_in(page, server.url, ADMIN)
    page.goto(f"{server.url}/bots/{alpha_id}?tab=routing")
    card = page.get_by_test_id("groups-telegram")
    expect(card.get_by_test_id("groups-policy-telegram")).to_have_value("allowlist")
    expect(card.get_by_test_id("groups-item-telegram")).to_have_count(1)
    expect(card.get_by_test_id("groups-item-mention")).to_have_value(
        "always"
    )  # imported requireMention: false
    card.get_by_label("New group id").fill("12345")
    card.get_by_test_id("groups-add-telegram").click()
    expect(card.get_by_test_id("groups-add-telegram-error")).to_contain_text("not a Telegram group id")
    card.get_by_label("New group id").fill("-1005555555555")
    card.get_by_test_id("groups-add-telegram").click()
    expect(card.get_by_test_id("groups-item-telegram")).to_have_count(2)
    card.get_by_label("Answer in -1005555555555").select_option("mention")
    card.get_by_test_id("groups-save-telegram").click()
    expect(card.get_by_test_id("groups-status-telegram")).to_contain_text("OpenClaw accepts", timeout=60_000)

    # The wizard shows the same groups (each with its own mention setting) and keeps them.
    page.goto(f"{server.url}/bots/new?edit={alpha_id}")
    page.get_by_test_id("wizard-step-3").click()
    chips = page.get_by_test_id("wizard-group-telegram-chip")
    expect(chips).to_have_count(2)
    expect(page.get_by_label("Answer in -1001234567890")).to_have_value("always")
    expect(page.get_by_label("Answer in -1005555555555")).to_have_value("mention")
    page.get_by_test_id("wizard-group-telegram-input").fill("-100")
    page.get_by_test_id("wizard-group-telegram-add").click()
    expect(page.get_by_test_id("wizard-group-telegram-error")).to_contain_text("negative numbers, like")
    page.get_by_label("Answer in -1005555555555").select_option("always")
    page.get_by_test_id("wizard-step-5").click()
    expect(page.get_by_test_id("review-config-check")).to_contain_text(
        "OpenClaw accepts this configuration", timeout=60_000
    )
    page.get_by_test_id("wizard-launch").click()
    expect(page.get_by_text("Changes saved")).to_be_visible()
    page.goto(f"{server.url}/bots/{alpha_id}?tab=routing")
    expect(page.get_by_label("Answer in -1005555555555")).to_have_value("always", timeout=30_000)
    # The imported routing rule of Beta on Alpha's account is still there after the wizard's edit.
    expect(page.get_by_test_id("routing-incoming")).to_contain_text("Beta: Group -1009876543210")


def test_a_viewer_sees_the_rules_but_cannot_change_them(server, imported, new_page):
    _, beta_id = imported
    viewer_id = make_account(server, VIEWER, Role.VIEWER, "watcher")
    assign_bot(server, viewer_id, beta_id)
    page = new_page()
    sign_in(page, server.url, VIEWER)
    page.goto(f"{server.url}/bots/{beta_id}?tab=routing")
    expect(page.get_by_test_id("routing-rule").first).to_be_visible()
    expect(page.get_by_test_id("routing-form")).to_have_count(0)
    expect(page.get_by_test_id("routing-rule-edit")).to_have_count(0)
    expect(page.get_by_test_id("groups-save-telegram")).to_have_count(0)
