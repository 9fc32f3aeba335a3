"""The alert centre on a phone-sized screen (390 x 844) in a real Chromium, against a real
ClawNet and a real gateway: the owner lowers the "gateway down" threshold in the alert settings,
the gateway is killed, the alert appears in the already open page and the navigation's count
without a reload, is acknowledged, and moves to the history by itself when the gateway is back.
No control sticks out of the screen sideways."""

from __future__ import annotations

import os
import signal
import time

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from clawnet.bots.forms import BotInput
from clawnet.bots.service import BotsService
from clawnet.controlplane.access import RemoteControl
from clawnet.enums import BotStatus, ProviderKind, Role
from clawnet.events import EventBus
from clawnet.models import Bot, ModelProvider, User
from clawnet.security.permissions import Principal
from clawnet.settings import get_settings
from tests.e2e.helpers import gateway_pid, make_account, open_menu_item, server_db, sign_in
from tests.security.world import server_process_env
from tests.support.reflex_client import run_in_thread
from tests.support.server import running_clawnet

pytestmark = [pytest.mark.e2e, pytest.mark.scaleout]
OWNER = "pager@example.com"
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = os.environ.get("CLAWNET_SCREENSHOTS", "")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_clawnet(tmp_path_factory.mktemp("clawnet-alerts"), {"CLAWNET_ALERT_CHECK_S": "2"}) as srv:
        yield srv


def create_bot(server, email: str, name: str) -> int:
    """A bot made by the bots service as another ClawNet process would (with the server's keys)."""
    with server_process_env(server):
        with server_db(server) as s:
            owner = Principal.of(s.exec(select(User).where(User.email == email)).one())
            echo = s.exec(
                select(ModelProvider).where(ModelProvider.kind == ProviderKind.LOCAL_ECHO.value)
            ).one()
        bus = EventBus()
        service = BotsService(get_settings(), bus, RemoteControl(bus, server.database_url))
        inp = BotInput(name=name, provider_id=echo.id, model_id="echo-1")
        return run_in_thread(lambda: service.create_bot(owner, inp))


def wait_running(server, bot_id: int, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        with server_db(server) as s:
            if s.get(Bot, bot_id).actual_status == BotStatus.RUNNING.value:
                return
        assert time.monotonic() < deadline, "the bot did not start"
        time.sleep(0.5)


def shot(page: Page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=f"{SCREENSHOTS}/{name}.png", full_page=True)


def fits_the_screen(page: Page) -> None:
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page is {width[0]} px wide on a {width[1]} px screen"


def reachable(page: Page, locator) -> None:
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box


def test_the_alert_centre_on_a_phone_shows_a_gateway_fault_live_and_acknowledges_it(server, browser):
    make_account(server, OWNER, Role.OPERATOR, "pager")
    bot_id = create_bot(server, OWNER, "Pager Bot")
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(60_000)
    page = context.new_page()
    try:
        sign_in(page, server.url, OWNER)
        # On a phone the navigation is one menu; the open count sits beside its button.
        open_menu_item(page, "navmenu-alerts")
        expect(page.get_by_test_id("alerts-none-open")).to_be_visible()
        fits_the_screen(page)

        threshold = page.get_by_test_id("alerts-rule-value-gateway_down")
        reachable(page, threshold)
        threshold.fill("abc")
        page.get_by_test_id("alerts-settings-save").click()
        expect(page.get_by_role("alert").filter(has_text="A number")).to_be_visible()  # per-field error
        threshold.fill("0")
        save = page.get_by_test_id("alerts-settings-save")
        reachable(page, save)
        save.click()
        expect(page.get_by_text("Alert settings saved.")).to_be_visible()

        wait_running(server, bot_id)
        os.kill(gateway_pid(server, bot_id), signal.SIGKILL)
        item = page.get_by_test_id("alerts-open-item")
        expect(item).to_be_visible(timeout=90_000)  # no reload: it arrives over the page's socket
        expect(item).to_contain_text("is down")
        expect(page.get_by_test_id("navmenu-alerts-count")).to_have_text("1")
        fits_the_screen(page)
        shot(page, "alerts-phone-open")

        ack = item.get_by_role("button", name="Acknowledge: ")
        reachable(page, ack)
        ack.click()
        expect(item.get_by_test_id("alerts-item-state")).to_have_text("acknowledged")
        expect(item.get_by_role("button")).to_have_count(0)

        # The gateway comes back: the alert resolves by itself and moves to the history.
        expect(page.get_by_test_id("alerts-none-open")).to_be_visible(timeout=180_000)
        expect(page.get_by_test_id("alerts-history-item").first).to_contain_text("resolved")
        expect(page.get_by_test_id("navmenu-alerts-count")).to_have_count(0)
        fits_the_screen(page)
        shot(page, "alerts-phone-resolved")
    finally:
        context.close()
