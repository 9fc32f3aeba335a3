"""The dashboard of a big fleet in a real Chromium: cards come a page at a time (48), the
server searches and filters, the address bar keeps the page, the summary counts every bot.
The bots are stopped by their owner, so no gateway is started."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from clawnet import routes
from clawnet.enums import BotStatus, DesiredStatus
from clawnet.models import Bot
from tests.e2e.helpers import register, server_db, sign_in, user_id
from tests.support.server import running_clawnet

pytestmark = pytest.mark.e2e
OWNER = "pager@example.com"
COUNT = 100  # three pages: 48, 48, 4


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_clawnet(tmp_path_factory.mktemp("clawnet-pages"), {}) as srv:
        yield srv


@pytest.fixture(scope="module")
def bots(server, browser) -> dict[str, int]:
    context = browser.new_context()
    page = context.new_page()
    register(page, server.url, OWNER, "Pager", "pager")
    expect(page.get_by_test_id("dashboard-page")).to_be_visible(timeout=60_000)
    context.close()
    ids = {}
    with server_db(server) as s:
        owner = user_id(server, OWNER)
        for n in range(COUNT):
            status = BotStatus.ERROR if n % 25 == 0 else BotStatus.STOPPED
            bot = Bot(
                owner_id=owner,
                name=f"Fleet {n:03d}",
                agent_id=f"fleet-{n:03d}",
                desired_status=DesiredStatus.STOPPED.value,
                actual_status=status.value,
            )
            s.add(bot)
            s.flush()
            assert bot.id is not None
            ids[bot.name] = bot.id
    return ids


@pytest.fixture
def page(server, bots, browser):
    context = browser.new_context()
    context.set_default_timeout(60_000)
    page = context.new_page()
    sign_in(page, server.url, OWNER)
    yield page
    context.close()


def cards(page) -> list[str]:
    return (
        page.get_by_test_id("bot-cards")
        .get_by_role("article")
        .evaluate_all("(els) => els.map((e) => e.getAttribute('aria-label'))")
    )


def test_a_hundred_bots_come_in_pages_of_48(page, server, bots):
    info = page.get_by_test_id("dashboard-page-info")
    expect(info).to_have_text("Bots 1 to 48 of 100 · page 1 of 3")
    expect(page.get_by_test_id("fleet-summary-total")).to_contain_text("100")
    expect(page.get_by_test_id("fleet-summary-error")).to_contain_text("4")
    assert cards(page) == [f"Fleet {n:03d}" for n in range(48)]
    expect(page.get_by_test_id("dashboard-page-previous")).to_be_disabled()

    page.get_by_role("button", name="Next page of bots").click()
    expect(info).to_have_text("Bots 49 to 96 of 100 · page 2 of 3")
    expect(page.get_by_test_id("dashboard-search")).to_be_in_viewport()  # the new page is read from its top
    expect(page.get_by_test_id(f"bot-card-{bots['Fleet 048']}")).to_be_visible()
    expect(page.get_by_test_id(f"bot-card-{bots['Fleet 000']}")).to_have_count(0)
    expect(page).to_have_url(server.url + routes.DASHBOARD + "?page=2")

    page.get_by_test_id("dashboard-page-next").click()
    expect(info).to_have_text("Bots 97 to 100 of 100 · page 3 of 3")
    assert cards(page) == [f"Fleet {n:03d}" for n in range(96, 100)]
    expect(page.get_by_test_id("dashboard-page-next")).to_be_disabled()

    page.reload()  # the address keeps the page
    expect(info).to_have_text("Bots 97 to 100 of 100 · page 3 of 3")
    page.get_by_test_id("dashboard-page-previous").click()
    expect(info).to_have_text("Bots 49 to 96 of 100 · page 2 of 3")


def test_search_and_status_filter_run_on_the_server_across_pages(page, server, bots):
    info = page.get_by_test_id("dashboard-page-info")
    expect(info).to_have_text("Bots 1 to 48 of 100 · page 1 of 3")  # loaded: typing now is not undone
    page.get_by_test_id("dashboard-search").fill("fleet 09")
    expect(info).to_have_text("Bots 1 to 10 of 10 · page 1 of 1")
    assert cards(page) == [f"Fleet {n:03d}" for n in range(90, 100)]
    expect(page).to_have_url(re.compile(r"\?q=fleet\+09$"))
    expect(page.get_by_test_id("fleet-summary-total")).to_contain_text("100")  # the summary: every bot

    page.get_by_test_id("dashboard-search").fill("")
    page.get_by_test_id("dashboard-status-filter").select_option("error")
    expect(info).to_have_text("Bots 1 to 4 of 4 · page 1 of 1")
    assert cards(page) == [f"Fleet {n:03d}" for n in (0, 25, 50, 75)]
    assert all(
        page.get_by_test_id(f"bot-card-{bots[name]}").get_attribute("data-status") == "error"
        for name in cards(page)
    )

    page.get_by_test_id("dashboard-search").fill("no such bot")
    expect(page.get_by_test_id("dashboard-no-match")).to_be_visible()
    expect(page.get_by_test_id("dashboard-pager")).to_have_count(0)
    expect(page.get_by_test_id("dashboard-empty")).to_have_count(0)  # not "no bots yet"

    page.goto(server.url + routes.DASHBOARD + "?status=error&page=9")  # a link to a page past the end
    expect(info).to_have_text("Bots 1 to 4 of 4 · page 1 of 1")
    expect(page.get_by_test_id("dashboard-status-filter")).to_have_value("error")
