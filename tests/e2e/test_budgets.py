"""Budgets and the kill switch in a real Chromium against a real ClawNet: a budget set on the
bot's Budget tab (with per-field errors) below what the bot already spent pauses it, the
dashboard shows "Paused: budget", and the owner's kill switch pauses and resumes every bot."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from clawnet.controlplane.budget_rules import record_usage
from clawnet.enums import DesiredStatus
from clawnet.models import Bot, BotSession, TranscriptMessage, utcnow
from tests.e2e.helpers import register, server_db, user_id
from tests.support.server import running_clawnet

pytestmark = pytest.mark.e2e
OWNER = "budget-owner@example.com"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_clawnet(tmp_path_factory.mktemp("clawnet-budgets")) as srv:
        yield srv


def spent_bot(server, owner_id: int, name: str, cost: float) -> int:
    """A stopped bot of the owner that already spent `cost` today (as session sync records it)."""
    with server_db(server) as s:
        bot = Bot(
            owner_id=owner_id, name=name, agent_id=name.lower(), desired_status=DesiredStatus.STOPPED.value
        )
        s.add(bot)
        s.flush()
        session = BotSession(bot_id=bot.id, key=f"agent:{bot.agent_id}:main")
        s.add(session)
        s.flush()
        if cost:
            s.add(
                TranscriptMessage(
                    session_id=session.id, seq=1, role="assistant", cost_usd=cost, input_tokens=900
                )
            )
            record_usage(s, bot.id, utcnow(), cost, 900)
        assert bot.id is not None
        return bot.id


def test_budget_pauses_and_the_kill_switch_flips_every_bot(server, new_page):
    page = new_page()
    register(page, server.url, OWNER, "Budget Owner", "budgetowner")
    expect(page.get_by_test_id("dashboard-page")).to_be_visible()
    owner = user_id(server, OWNER)
    spender = spent_bot(server, owner, "Spender", 0.5)
    idle = spent_bot(server, owner, "Idle", 0)

    page.goto(f"{server.url}/bots/{spender}?tab=budget")
    expect(page.get_by_test_id("budget-usage-table")).to_be_visible()
    page.get_by_label("Daily cost limit (USD)").fill("lots")
    page.get_by_test_id("budget-save").click()
    expect(page.get_by_test_id("budget-day-cost-error")).to_contain_text("Enter a number")
    page.get_by_label("Daily cost limit (USD)").fill("0.40")
    page.get_by_label("Reply while paused").fill("Out of budget today.")
    page.get_by_test_id("budget-save").click()
    expect(page.get_by_test_id("budget-paused-banner")).to_have_text("Paused: budget")
    expect(page.get_by_test_id("budget-used-day_cost")).to_contain_text("$0.5000")
    expect(page.get_by_test_id("budget-header-paused")).to_have_text("Paused: budget")
    expect(page.get_by_test_id("budget-header-usage")).to_contain_text("(100%)")

    page.goto(f"{server.url}/")
    expect(page.get_by_test_id(f"budget-card-paused-{spender}")).to_have_text("Paused: budget")
    expect(page.get_by_test_id(f"budget-card-usage-{spender}")).to_contain_text("(100%)")
    expect(page.get_by_test_id(f"budget-card-paused-{idle}")).to_have_count(0)

    page.get_by_test_id("kill-switch-pause").click()
    expect(page.get_by_test_id(f"budget-card-paused-{idle}")).to_have_text("Paused: kill switch")
    expect(page.get_by_test_id(f"budget-card-paused-{spender}")).to_have_text("Paused: kill switch")
    page.get_by_test_id("kill-switch-resume").click()
    expect(page.get_by_test_id(f"budget-card-paused-{idle}")).to_have_count(0)
    expect(page.get_by_test_id(f"budget-card-paused-{spender}")).to_have_text("Paused: budget")
