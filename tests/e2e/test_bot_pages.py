"""A bot's pages as an owner uses them, in a real Chromium against a real ClawNet with real
gateways: the wizard's review says what will run, an edit changes only what was edited, the bot
page opens by agent id and says plainly when there is no such bot, each chat turn shows once, and
the feed settings (auto-posting, API tokens) are on the bot's page and work, and a schedule added
on the Schedules tab previews its next runs and is listed with them."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import expect
from sqlmodel import select

from clawnet.controlplane.kicks import write_kick
from clawnet.models import Bot, BotSession, Gateway, Schedule, TranscriptMessage
from tests.e2e.helpers import bot_id_from_url, bot_row, register, server_db, sign_in
from tests.support.fake_telegram import FakeTelegram
from tests.support.server import running_clawnet

pytestmark = [pytest.mark.e2e, pytest.mark.scaleout]
OWNER = "owner@example.com"
TOKEN = "123456789:AAH0f2l4xmPBtFakeTokenForTests_abcdefg"
ROUTER_TOKEN = "987654321:AAH0f2l4xmPBtRouterTokenForTests_abcd"

ROUTED_CONFIG = """{
  agents: {defaults: {model: {primary: "echo/echo-1"}}, entries: {
    router: {name: "Router", tools: {profile: "minimal", deny: ["exec", "browser"]}},
  }},
  channels: {telegram: {botToken: "TOKEN", dmPolicy: "allowlist", allowFrom: ["111111111"]}},
  bindings: [{agentId: "router", match: {channel: "telegram", peer: {kind: "group", id: "-100200300"}}}],
}""".replace("TOKEN", ROUTER_TOKEN)


def eventually(check, what: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"not within {timeout_s:.0f} s: {what}"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def telegram():
    with FakeTelegram() as fake:
        fake.add_bot(TOKEN, "greeter_bot")
        fake.add_bot(ROUTER_TOKEN, "router_bot")
        yield fake


@pytest.fixture(scope="module")
def server(tmp_path_factory, telegram):
    env = {"CLAWNET_TELEGRAM_API_ROOT": telegram.api_root}
    with running_clawnet(tmp_path_factory.mktemp("clawnet-bot-pages"), env) as srv:
        yield srv


@pytest.fixture(scope="module")
def owner_ready(server, browser):
    context = browser.new_context()
    page = context.new_page()
    register(page, server.url, OWNER, "Olive Owner", "olive")
    expect(page.get_by_test_id("dashboard-page")).to_be_visible()
    context.close()


def test_the_review_names_the_model_and_the_access_rules(server, owner_ready, new_page):
    page = new_page()
    sign_in(page, server.url, OWNER)
    page.goto(f"{server.url}/bots/new")
    page.get_by_label("Name").fill("Greeter")
    page.get_by_test_id("wizard-next").click()
    page.get_by_test_id("wizard-channel-telegram").click()
    token = page.get_by_label("Bot token")
    token.fill(TOKEN)
    token.blur()
    page.get_by_test_id("wizard-next").click()
    page.get_by_label("Direct messages").select_option("allowlist")
    page.get_by_label("Who may message the bot").fill("111111111")
    page.get_by_test_id("wizard-allow-telegram-add").click()
    page.get_by_test_id("wizard-next").click()
    page.get_by_test_id("wizard-next").click()
    expect(page.get_by_test_id("review-model")).to_have_text("Local echo (no API key) · Echo")
    access = page.get_by_test_id("review-access-telegram")
    expect(access).to_contain_text("111111111")
    expect(access).to_contain_text("llowlist")
    expect(page.get_by_test_id("review-config-check")).to_contain_text(
        "OpenClaw accepts this configuration", timeout=60_000
    )
    page.get_by_test_id("wizard-launch").click()
    expect(page.get_by_test_id("launch-open")).to_be_visible(timeout=180_000)
    lines = page.get_by_test_id("launch-progress-line")
    expect(lines.last).to_contain_text("Running", timeout=180_000)


def test_the_bot_page_opens_by_agent_id_and_says_when_there_is_no_such_bot(server, owner_ready, new_page):
    page = new_page()
    sign_in(page, server.url, OWNER)
    bot = bot_row(server, "Greeter")
    page.goto(f"{server.url}/bots/{bot.agent_id}")
    expect(page.get_by_test_id("bot-name")).to_have_text("Greeter")
    expect(page).to_have_title("Greeter · ClawNet")
    for missing in ("nope", "99999"):
        page.goto(f"{server.url}/bots/{missing}")
        expect(page.get_by_test_id("bot-not-found")).to_contain_text("does not exist")
        expect(page.get_by_test_id("bot-name")).to_have_count(0)


def test_each_chat_turn_shows_once(server, owner_ready, new_page):
    page = new_page()
    sign_in(page, server.url, OWNER)
    bot = bot_row(server, "Greeter")
    page.goto(f"{server.url}/bots/{bot.id}?tab=sessions")
    expect(page.get_by_test_id("bot-status")).to_have_text("Running", timeout=180_000)
    panel = page.get_by_test_id("transcript")  # the conversation, the local echo of a turn included
    for word in ("first", "second"):
        page.get_by_test_id("chat-input").fill(f"REPLY WITH: echo {word}")
        page.get_by_test_id("chat-send").click()
        expect(page.get_by_test_id("chat-reply")).to_have_text(f"echo {word}", timeout=120_000)
        expect(page.get_by_test_id("transcript")).to_contain_text(f"echo {word}", timeout=60_000)
    # The turns are in the transcript; the local echo of the last one has given way to it.
    for text in ("REPLY WITH: echo first", "REPLY WITH: echo second"):
        expect(panel.get_by_text(text, exact=True)).to_have_count(1)
    for text in ("echo first", "echo second"):
        expect(panel.get_by_text(text, exact=True)).to_have_count(1)


def test_auto_posting_and_a_token_the_owner_creates_on_the_bot_page(server, owner_ready, new_page):
    page = new_page()
    sign_in(page, server.url, OWNER)
    bot = bot_row(server, "Greeter")
    page.goto(f"{server.url}/bots/{bot.id}?tab=configuration")
    social = page.get_by_test_id("bot-social")
    expect(social).to_be_visible()
    enabled = page.get_by_test_id("autopost-enabled")
    enabled.click()  # a controlled checkbox: it shows checked once the server has the change
    expect(enabled).to_be_checked()
    page.get_by_test_id("autopost-max").fill("3")
    page.get_by_test_id("autopost-save").click()
    eventually(lambda: bot_row(server, "Greeter").auto_post_enabled, "auto-posting saved")
    assert bot_row(server, "Greeter").auto_post_max_per_day == 3

    page.get_by_test_id("token-name").fill("my script")
    page.get_by_test_id("token-create").click()
    token = page.get_by_test_id("token-new-value").inner_text(timeout=30_000).strip()
    assert token.startswith("cnb_")
    response = httpx.post(
        f"{server.url}/api/v1/posts",
        json={"text": "Posted by my script"},
        headers={"Authorization": f"Bearer {token}", "Origin": server.url},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    post_id = response.json()["id"]
    page.goto(f"{server.url}/feed?timeline=public")
    expect(page.get_by_test_id(f"post-body-{post_id}")).to_have_text("Posted by my script")
    expect(page.get_by_test_id(f"post-bot-badge-{post_id}")).to_be_visible()


def test_editing_the_persona_in_the_wizard_keeps_routing_and_denied_tools(server, owner_ready, new_page):
    page = new_page()
    sign_in(page, server.url, OWNER)
    page.goto(f"{server.url}/settings")
    page.get_by_label("openclaw.json to import").fill(ROUTED_CONFIG)
    page.get_by_test_id("import-preview").click()
    page.get_by_test_id("import-confirm").click()
    expect(page.get_by_test_id("import-done")).to_contain_text("Imported 1 bot")
    bot = bot_row(server, "Router")

    def exported() -> str:
        page.goto(f"{server.url}/bots/{bot.id}?tab=configuration")
        page.get_by_test_id("config-export").click()
        return page.get_by_test_id("config-export-text").inner_text(timeout=30_000)

    before = exported()
    assert '"deny"' in before and "-100200300" in before
    page.get_by_test_id("config-edit").click()
    expect(page.get_by_label("Name")).to_have_value("Router")  # the stored bot is loaded: edit it
    page.get_by_label("Persona").fill("You route messages kindly.")
    page.get_by_label("Name").click()  # moves the focus: the persona is saved
    for _ in range(4):
        page.get_by_test_id("wizard-next").click()
    page.get_by_test_id("wizard-launch").click()
    expect(page.get_by_test_id("launch-open")).to_be_visible(timeout=120_000)
    eventually(lambda: bot_row(server, "Router").persona == "You route messages kindly.", "the persona saved")
    assert exported() == before  # the persona lives in the bot's files: the config is untouched
    assert bot_id_from_url(page.url) == bot.id


def test_the_launch_shows_only_the_changes_of_its_own_gateway(server, owner_ready, new_page):
    page = new_page()
    sign_in(page, server.url, OWNER)
    page.goto(f"{server.url}/bots/new")
    page.get_by_label("Name").fill("Loner")
    for _ in range(3):
        page.get_by_test_id("wizard-next").click()
    page.get_by_test_id("wizard-placement").select_option("dedicated")
    page.get_by_test_id("wizard-next").click()
    expect(page.get_by_test_id("review-config-check")).to_contain_text(
        "OpenClaw accepts this configuration", timeout=60_000
    )
    page.get_by_test_id("wizard-launch").click()
    lines = page.get_by_test_id("launch-progress-line")
    expect(lines.filter(has_text="Running")).to_have_count(1, timeout=180_000)
    expect(lines.filter(has_text="Configuration applied")).to_have_count(1, timeout=60_000)
    shown = lines.all_inner_texts()

    # Meanwhile another gateway (the pool Greeter runs on) applies a change of its own.
    greeter = bot_row(server, "Greeter")
    with server_db(server) as s:
        pool = s.get(Gateway, greeter.gateway_id)
        assert pool is not None and pool.id != bot_row(server, "Loner").gateway_id
        applied = pool.applied_config_version
        bot = s.get(Bot, greeter.id)
        bot.emoji = "🦉"
        s.add(bot)
    write_kick(server.database_url)  # as another web worker asks the control plane

    def pool_applied() -> bool:
        with server_db(server) as s:
            return s.get(Gateway, greeter.gateway_id).applied_config_version > applied

    eventually(pool_applied, "the pool applied its change", timeout_s=120)
    time.sleep(5)  # its news reaches open pages in milliseconds: none may reach this one
    assert lines.all_inner_texts() == shown


def test_a_session_is_renamed_and_reset_from_the_sessions_tab(server, owner_ready, new_page):
    page = new_page()
    sign_in(page, server.url, OWNER)
    bot = bot_row(server, "Greeter")
    page.goto(f"{server.url}/bots/{bot.id}?tab=sessions")
    expect(page.get_by_test_id("bot-status")).to_have_text("Running", timeout=180_000)
    page.get_by_test_id("chat-input").fill("REPLY WITH: remember me")
    page.get_by_test_id("chat-send").click()
    transcript = page.get_by_test_id("transcript")
    expect(transcript.get_by_text("remember me", exact=True)).to_have_count(1, timeout=120_000)

    page.get_by_test_id("session-rename-input").fill("Olive's desk")
    page.get_by_test_id("session-rename").click()
    listed = page.get_by_test_id("session-list")
    expect(listed.get_by_text("Olive's desk", exact=True)).to_be_visible(timeout=30_000)

    page.get_by_test_id("session-reset").click()
    expect(page.get_by_test_id("session-confirm-bar")).to_contain_text("Olive's desk")
    page.get_by_test_id("session-confirm").click()
    expect(transcript.get_by_text("remember me", exact=True)).to_have_count(0, timeout=30_000)
    expect(listed.get_by_text("Olive's desk", exact=True)).to_be_visible()  # the name stays


def test_an_import_preview_asks_for_the_key_of_a_built_in_provider(server, owner_ready, new_page):
    """OpenClaw's implicit single agent on Anthropic (built in, key in OpenClaw's own store):
    the preview shows the bot, a key field for Anthropic, and the keys it does not carry over."""
    page = new_page()
    sign_in(page, server.url, OWNER)
    page.goto(f"{server.url}/settings")
    page.get_by_test_id("import-text").fill(
        '{agents: {defaults: {model: {primary: "anthropic/claude-sonnet-4-6"}, thinkingDefault: "low"}},\n'
        ' auth: {profiles: {"anthropic:default": {provider: "anthropic", mode: "api_key"}}}}'
    )
    page.get_by_test_id("import-preview").click()
    expect(page.get_by_test_id("import-preview-row")).to_have_count(1, timeout=30_000)
    expect(page.get_by_test_id("import-preview-row")).to_contain_text("was main")
    key = page.get_by_label("API key for anthropic (Anthropic)")
    expect(key).to_be_visible()
    expect(page.get_by_test_id("import-need-anthropic")).to_contain_text("auth profile 'anthropic:default'")
    expect(page.get_by_test_id("import-unsupported-key")).to_have_text(["agents.defaults.thinkingDefault"])
    page.get_by_test_id("import-confirm").click()  # the key is required: the browser asks for it
    assert key.evaluate("e => e.validity.valueMissing")
    with server_db(server) as s:
        assert s.exec(select(Bot).where(Bot.name == "Main")).first() is None  # nothing imported


def test_sessions_filter_search_and_page_in_the_url_and_transcripts_load_older(server, owner_ready, new_page):
    greeter = bot_row(server, "Greeter")
    now = datetime.now(UTC)
    with server_db(server) as s:
        for i in range(60):
            at = now - timedelta(seconds=i)
            s.add(
                BotSession(
                    bot_id=greeter.id, key=f"agent:{greeter.agent_id}:telegram:group:-{i}", channel="telegram",
                    peer=f"-{i}", kind="group", preview=f"group talk {i}", activity_at=at, last_message_at=at,
                )
            )  # fmt: skip
        long = BotSession(
            bot_id=greeter.id, key=f"agent:{greeter.agent_id}:discord:direct:7", channel="discord", peer="7",
            kind="direct", message_count=150, activity_at=now - timedelta(days=2), last_message_at=now,
        )  # fmt: skip
        s.add(long)
        s.flush()
        for seq in range(1, 151):
            text = "the zanzibar order" if seq == 3 else f"line {seq}"
            s.add(TranscriptMessage(session_id=long.id, seq=seq, role="user", text=text, created_at=now))
        long_id = long.id
    page = new_page()
    sign_in(page, server.url, OWNER)

    # A filtered list is a link; it pages with "Load more".
    page.goto(f"{server.url}/sessions?channel=telegram&kind=group")
    rows = page.locator("[data-testid^=sessions-row-link-]")
    expect(rows).to_have_count(50)
    expect(page.get_by_test_id("sessions-filter-channel")).to_have_value("telegram")
    page.get_by_test_id("sessions-load-more").click()
    expect(rows).to_have_count(60)
    expect(page.get_by_test_id("sessions-load-more")).to_have_count(0)
    page.get_by_test_id("sessions-filter-active").select_option("hour")  # the discord one is 2 days old
    expect(rows).to_have_count(50)
    expect(page).to_have_url(f"{server.url}/sessions?channel=telegram&kind=group&active=hour")

    # A search reaches the text of every message, and the result opens the transcript.
    page.get_by_test_id("sessions-filter-clear").click()
    page.get_by_test_id("sessions-search").fill("ZANZIBAR")
    page.get_by_test_id("sessions-search-submit").click()
    expect(rows).to_have_count(1)
    expect(page).to_have_url(f"{server.url}/sessions?q=ZANZIBAR")
    rows.first.click()
    lines = page.get_by_test_id("transcript-message")
    expect(lines).to_have_count(100)
    expect(page.get_by_test_id("transcript-count")).to_have_text("100 of 150 messages")
    page.get_by_test_id("transcript-load-older").click()
    expect(lines).to_have_count(150)
    expect(lines.first).to_contain_text("line 1")
    expect(page.get_by_test_id("transcript-load-older")).to_have_count(0)

    # The bot's own list filters too.
    page.get_by_test_id("bot-sessions-filter-channel").select_option("discord")
    expect(page.locator("[data-testid^=session-item-]:not([data-testid*=actions])")).to_have_count(1)
    expect(page.get_by_test_id(f"session-item-{long_id}")).to_have_attribute("data-selected", "true")


def test_a_skill_turned_off_on_the_skills_tab_stays_off_after_a_reload(server, owner_ready, new_page):
    page = new_page()
    sign_in(page, server.url, OWNER)
    bot = bot_row(server, "Greeter")
    page.goto(f"{server.url}/bots/{bot.id}?tab=skills")
    expect(page.get_by_test_id("bot-status")).to_have_text("Running", timeout=180_000)
    toggle = page.get_by_test_id("skill-toggle-weather")
    expect(toggle).to_be_checked(timeout=60_000)  # OpenClaw's default: every ready skill
    expect(page.get_by_test_id("skills-mode")).to_contain_text("every skill its gateway offers")
    toggle.click()
    expect(toggle).not_to_be_checked(timeout=30_000)
    page.reload()
    expect(page.get_by_test_id("skill-toggle-weather")).not_to_be_checked(timeout=60_000)
    expect(page.get_by_test_id("skill-toggle-healthcheck")).to_be_checked()  # the others stay on
    expect(page.get_by_test_id("skills-mode")).to_contain_text("only the skills turned on here")
    # Applied to the gateway: its own report says the bot's model no longer sees the skill.
    expect(page.get_by_test_id("skill-visible-weather")).to_have_text("No", timeout=60_000)


def test_a_schedule_added_in_the_browser_previews_its_next_runs_and_is_listed(server, owner_ready, new_page):
    page = new_page()
    sign_in(page, server.url, OWNER)
    bot = bot_row(server, "Greeter")
    page.goto(f"{server.url}/bots/{bot.id}?tab=schedules")
    expect(page.get_by_test_id("bot-schedules")).to_be_visible()
    page.get_by_test_id("schedule-add").click()
    page.get_by_label("Name").fill("Morning brief")
    page.get_by_label("Runs").select_option("cron")
    page.get_by_label("Cron expression").fill("0 9 * * 1-5")
    page.get_by_label("Time zone").fill("Europe/Paris")
    preview = page.get_by_test_id("schedule-preview")
    expect(preview.get_by_role("listitem")).to_have_count(3)
    expect(preview).to_contain_text("09:00 CET (in ")
    page.get_by_label("Cron expression").fill("0 9 * *")
    expect(page.get_by_test_id("schedule-preview-problem")).to_contain_text("5 fields")
    page.get_by_label("Cron expression").fill("0 9 * * 1-5")
    page.get_by_test_id("schedule-save").click()  # no message yet: said next to the field
    expect(page.get_by_test_id("schedule-message-error")).to_contain_text("what the bot should do")
    page.get_by_label("Message or task").fill("Summarize what happened overnight.")
    page.get_by_test_id("schedule-save").click()
    expect(page.get_by_test_id("schedule-form")).to_be_hidden()
    with server_db(server) as s:
        schedule = s.exec(select(Schedule).where(Schedule.bot_id == bot.id)).one()
    ref = str(schedule.id)
    expect(page.get_by_test_id(f"schedule-name-{ref}")).to_have_text("Morning brief")
    expect(page.get_by_test_id(f"schedule-next-{ref}")).to_contain_text("09:00 CET", timeout=30_000)
    expect(page.get_by_test_id(f"schedule-state-{ref}")).to_have_text("in sync")
