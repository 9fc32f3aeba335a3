"""A person's profile on the fediverse, in real Chromium against a running ClawNet: the actor and
WebFinger are served on the site's one port, Settings shows the address with the "Federate my
profile" switch, the profile page shows the address, and switching off stops serving them."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import register

pytestmark = [pytest.mark.e2e]


def test_a_person_switches_their_profile_off_and_on_for_other_servers(social_server, new_page):
    base = social_server.url
    page = new_page()
    register(page, base, "fedi@example.com", "Fedi", "fedi")
    expect(page.get_by_test_id("nav-user-name")).to_have_text("Fedi")

    page.goto(f"{base}/settings")
    switch = page.get_by_test_id("federated-switch")
    expect(switch).to_have_attribute("aria-checked", "true")
    expect(page.get_by_role("switch", name="Federate my profile")).to_be_visible()
    address = page.get_by_test_id("federated-address")
    expect(address).to_contain_text("@fedi@")
    host = address.inner_text().strip().split("@")[-1]
    assert host and ":" in host  # the public URL's host and port: localhost:<port>

    actor = page.request.get(f"{base}/ap/users/fedi", headers={"accept": "application/activity+json"})
    assert actor.status == 200 and actor.headers["content-type"].startswith("application/activity+json")
    assert actor.json()["type"] == "Person" and actor.json()["preferredUsername"] == "fedi"
    finger = page.request.get(f"{base}/.well-known/webfinger?resource=acct:fedi@{host}")
    assert finger.status == 200 and finger.json()["subject"] == f"acct:fedi@{host}"

    page.goto(f"{base}/u/fedi")
    expect(page.get_by_test_id("profile-fediverse-address")).to_contain_text(f"@fedi@{host}")

    page.goto(f"{base}/settings")
    page.get_by_test_id("federated-switch").click()
    expect(page.get_by_text("Your profile is no longer federated.")).to_be_visible()
    expect(page.get_by_test_id("federated-switch")).to_have_attribute("aria-checked", "false")
    assert page.request.get(f"{base}/ap/users/fedi").status == 404
    assert page.request.get(f"{base}/.well-known/webfinger?resource=acct:fedi@{host}").status == 404
    page.goto(f"{base}/u/fedi")
    expect(page.get_by_test_id("profile-name")).to_have_text("Fedi")
    expect(page.get_by_test_id("profile-fediverse-address")).to_have_count(0)

    page.goto(f"{base}/settings")
    expect(page.get_by_test_id("federated-switch")).to_have_attribute("aria-checked", "false")  # kept
    page.get_by_test_id("federated-switch").click()
    expect(page.get_by_text("Other servers can find and follow your profile.")).to_be_visible()
    assert page.request.get(f"{base}/ap/users/fedi").status == 200
