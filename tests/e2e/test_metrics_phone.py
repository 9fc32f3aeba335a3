"""Owner controls in a real Chromium against a real ClawNet: the 30-day uptime bar on the
dashboard and the bot page, the dashboard and navigation on a 390 px wide phone, and `/metrics`
served by the real app behind its scrape token. One server for all; the bot needs no gateway
(its owner keeps it stopped today), so no OpenClaw process is started."""

from __future__ import annotations

import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from prometheus_client.parser import text_string_to_metric_families

from clawnet import routes
from clawnet.enums import BotStatus, DesiredStatus
from clawnet.models import Bot, BotStatusChange
from tests.e2e.helpers import register, server_db, sign_in, user_id
from tests.support.server import http_get, running_clawnet

pytestmark = pytest.mark.e2e
OWNER = "owner@example.com"
TOKEN = "e2e-scrape-token-0123456789abcdef"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {"CLAWNET_METRICS_TOKEN": TOKEN}
    with running_clawnet(tmp_path_factory.mktemp("clawnet-metrics"), env) as srv:
        yield srv


@pytest.fixture(scope="module")
def bot_id(server, browser) -> int:
    """The owner, and a bot with recorded history: running since 3 days ago but for a 6-hour
    outage yesterday, and stopped by its owner at midnight."""
    context = browser.new_context()
    page = context.new_page()
    register(page, server.url, OWNER, "Owner", "owner")
    expect(page.get_by_test_id("dashboard-page")).to_be_visible(timeout=60_000)
    context.close()
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    yesterday = today - timedelta(days=1)
    with server_db(server) as s:
        bot = Bot(
            owner_id=user_id(server, OWNER),
            name="Uptime Bot",
            agent_id="uptime-bot",
            desired_status=DesiredStatus.STOPPED.value,
            actual_status=BotStatus.STOPPED.value,
        )
        s.add(bot)
        s.flush()
        assert bot.id is not None
        for at, status, wanted in [
            (today - timedelta(days=3), "running", True),
            (yesterday + timedelta(hours=8), "error", True),
            (yesterday + timedelta(hours=14), "running", True),
            (today, "running", False),
            (today + timedelta(seconds=1), "stopped", False),
        ]:
            s.add(BotStatusChange(bot_id=bot.id, status=status, desired_running=wanted, at=at))
        return bot.id


def yesterday_label() -> str:
    return (datetime.now(UTC) - timedelta(days=1)).strftime("%b %d")


def test_uptime_bar_on_the_dashboard_and_the_bot_page(server, bot_id, new_page):
    page = new_page()
    sign_in(page, server.url, OWNER)
    label = yesterday_label()
    bar = page.get_by_test_id(f"uptime-bar-card-{bot_id}")
    expect(bar).to_be_visible()
    expect(bar.get_by_role("img")).to_have_count(30)
    segment = bar.get_by_role("img", name=f"{label}: 75.0%")
    expect(segment).to_be_visible()
    expect(segment).to_have_attribute("title", f"{label}: 75.0%")
    expect(segment).to_have_attribute("data-uptime-colour", "red")
    expect(bar.get_by_role("img").first).to_have_attribute("data-uptime-colour", "gray")  # no data yet
    # 6 h down in 72 h wanted running (3 days ago to midnight).
    expect(page.get_by_test_id(f"uptime-total-card-{bot_id}")).to_have_text("91.7%")

    page.goto(server.url + routes.bot_detail(bot_id))
    bot_bar = page.get_by_test_id("uptime-bar-bot")
    expect(bot_bar).to_be_visible()
    expect(bot_bar.get_by_role("img")).to_have_count(30)
    expect(bot_bar.get_by_role("img", name=f"{label}: 75.0%")).to_have_attribute("data-uptime-colour", "red")
    expect(page.get_by_test_id("uptime-total-bot")).to_have_text("91.7%")


def test_dashboard_and_navigation_on_a_phone(server, bot_id, browser):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(60_000)
    try:
        page = context.new_page()
        sign_in(page, server.url, OWNER)
        expect(page.get_by_test_id(f"bot-card-{bot_id}")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        for testid in (
            "dashboard-search",
            "dashboard-status-filter",
            "dashboard-new-bot",
            f"bot-start-{bot_id}",
            f"bot-logs-{bot_id}",
            f"uptime-bar-card-{bot_id}",
            "navmenu-button",
        ):
            expect(page.get_by_test_id(testid)).to_be_in_viewport()
        expect(page.get_by_test_id("nav-dashboard")).to_be_hidden()  # the wide nav gives way
        # The compact menu reaches every page.
        page.get_by_test_id("navmenu-button").click()
        expect(page.get_by_test_id("navmenu-sessions")).to_be_visible()
        expect(page.get_by_test_id("navmenu-sign-out")).to_be_visible()
        page.get_by_test_id("navmenu-bots").click()
        expect(page).to_have_url(server.url + routes.BOTS)
        page.get_by_test_id("navmenu-button").click()
        page.get_by_test_id("navmenu-dashboard").click()
        expect(page.get_by_test_id("dashboard-page")).to_be_visible()
        page.get_by_test_id("dashboard-search").fill("uptime")
        expect(page.get_by_test_id(f"bot-card-{bot_id}")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        context.close()


def test_metrics_endpoint_of_the_running_app(server, bot_id):
    status, _ = http_get(server.url + routes.METRICS)
    assert status == 401
    http_get(server.url + routes.HEALTH)
    request = urllib.request.Request(  # noqa: S310 (loopback test URL)
        server.url + routes.METRICS, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        assert response.status == 200
        text = response.read().decode()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert {s.labels["bot"] for s in families["clawnet_bot_up"].samples} == {"uptime-bot"}
    assert {s.labels["status"]: s.value for s in families["clawnet_bots"].samples}["stopped"] == 1
    timed = {
        s.labels["route"]
        for s in families["clawnet_web_request_seconds"].samples
        if s.name.endswith("_count")
    }
    assert routes.HEALTH in timed
