"""Settings → Federation in a real Chromium against a real ClawNet: the admin sees whether
federation is on and this instance's host, the servers it delivers to with their state and
counts, blocks one with a reason, unblocks it, and retries a dead one. A member does not see the
section."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from clawnet.models import Profile, utcnow
from clawnet.models.federation import Delivery, FederationHost
from tests.e2e.helpers import register, server_db
from tests.support.server import running_clawnet

pytestmark = pytest.mark.e2e
ADMIN = "fed-admin@example.com"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_clawnet(tmp_path_factory.mktemp("clawnet-federation")) as srv:
        yield srv


def _row(page, host: str):
    return page.get_by_test_id("federation-host-row").filter(has_text=host)


def test_the_admin_blocks_unblocks_and_retries_hosts(server, new_page):
    page = new_page()
    register(page, server.url, ADMIN, "Fed Admin", "fedadmin")  # the first account: admin
    expect(page.get_by_test_id("dashboard-page")).to_be_visible()
    with server_db(server) as s:
        sender = s.exec(select(Profile).where(Profile.handle == "fedadmin")).one()
        assert sender.id is not None
        s.add(FederationHost(host="dead.example", failures=30, last_error="HTTP 503: down", dead_at=utcnow()))
        for host, state, error in (
            ("dead.example", "dead", "HTTP 503: down"),
            ("ok.example", "done", ""),
            ("ok.example", "pending", ""),
        ):
            s.add(
                Delivery(
                    activity_id="http://x/a",
                    inbox_url=f"http://{host}/inbox",
                    host=host,
                    sender_profile_id=sender.id,
                    body="{}",
                    state=state,
                    last_error=error,
                    next_attempt_at=utcnow() + timedelta(hours=1),
                )
            )

    page.goto(f"{server.url}/settings")
    expect(page.get_by_test_id("settings-federation-hosts")).to_be_visible()
    expect(page.get_by_test_id("federation-status")).to_contain_text("Federation is on")
    expect(page.get_by_test_id("federation-host-row")).to_have_count(2)
    expect(_row(page, "dead.example").get_by_test_id("federation-host-state")).to_have_text("dead")
    expect(_row(page, "dead.example")).to_contain_text("HTTP 503: down")
    expect(_row(page, "ok.example").get_by_test_id("federation-host-pending")).to_have_text("1")

    page.get_by_label("Reason for blocking a host").fill("spam")
    page.get_by_role("button", name="Block ok.example").click()
    expect(_row(page, "ok.example").get_by_test_id("federation-host-state")).to_have_text("blocked")
    expect(_row(page, "ok.example")).to_contain_text("spam")
    expect(_row(page, "ok.example").get_by_test_id("federation-host-pending")).to_have_text("0")
    page.get_by_test_id("unblock-host-ok.example").click()
    expect(_row(page, "ok.example").get_by_test_id("federation-host-state")).to_have_text("ok")

    page.get_by_test_id("retry-host-dead.example").click()  # (the worker may try it at once: failing)
    expect(_row(page, "dead.example").get_by_test_id("federation-host-state")).to_have_text(
        re.compile("^(ok|failing)$")
    )
    expect(_row(page, "dead.example").get_by_test_id("federation-host-pending")).to_have_text("1")

    page.get_by_test_id("federation-block-host").fill("spam.example")
    page.get_by_test_id("federation-block-form-reason").fill("only spam")
    page.get_by_test_id("federation-block-submit").click()
    expect(_row(page, "spam.example").get_by_test_id("federation-host-state")).to_have_text("blocked")

    member = new_page()
    register(member, server.url, "fed-member@example.com", "Member", "fedmember")
    member.goto(f"{server.url}/settings")
    expect(member.get_by_test_id("settings-page")).to_be_visible()
    expect(member.get_by_test_id("settings-federation-hosts")).to_have_count(0)
