"""Mastodon apps sign in through OAuth in a real Chromium: the app sends the person to the consent
page, they approve, the app trades the code for a token (Mastodon.py) and acts as them. Personal
access tokens are made and revoked in Settings."""

from __future__ import annotations

import uuid

import pytest
from mastodon import Mastodon, MastodonAPIError, MastodonIllegalArgumentError
from playwright.sync_api import expect

from tests.e2e.helpers import register

pytestmark = [pytest.mark.e2e]
OOB = "urn:ietf:wg:oauth:2.0:oob"


def test_authorization_code_flow_and_personal_tokens(social_server, new_page):
    base = social_server.url
    handle = "oa" + uuid.uuid4().hex[:8]
    page = new_page()
    register(page, base, f"{handle}@example.com", "OAuth Person", handle)
    expect(page.locator("[data-testid=feed-page], [data-testid=dashboard-page]")).to_be_visible(
        timeout=60_000
    )

    client_id, client_secret = Mastodon.create_app(
        "Phone app", api_base_url=base, scopes=["read", "write"], redirect_uris=OOB
    )
    app = Mastodon(
        client_id=client_id, client_secret=client_secret, api_base_url=base, version_check_mode="none"
    )
    page.goto(app.auth_request_url(scopes=["read", "write"], redirect_uris=OOB, state="s1"))
    expect(page.get_by_test_id("oauth-title")).to_contain_text("Phone app", timeout=30_000)
    expect(page.get_by_test_id("oauth-scopes")).to_contain_text("write")
    page.get_by_test_id("oauth-approve").click()
    code = page.get_by_test_id("oauth-code").inner_text(timeout=30_000).strip()
    token = app.log_in(code=code, redirect_uri=OOB, scopes=["read", "write"])
    assert token
    assert app.account_verify_credentials().username == handle
    with pytest.raises(MastodonIllegalArgumentError):  # a code works once (invalid_grant)
        app.log_in(code=code, redirect_uri=OOB, scopes=["read", "write"])

    page.goto(f"{base}/settings")
    expect(page.get_by_test_id("settings-apps")).to_contain_text("Phone app", timeout=30_000)
    page.get_by_test_id("pat-name").fill("my script")
    page.get_by_test_id("pat-create").click()
    pat = page.get_by_test_id("pat-token").inner_text(timeout=30_000).strip()
    script = Mastodon(access_token=pat, api_base_url=base, version_check_mode="none")
    assert script.account_verify_credentials().username == handle
    row = page.locator("[data-testid^=pat-row-]", has_text="my script")
    row.locator("[data-testid^=pat-revoke-]").click()
    expect(row).to_have_count(0, timeout=30_000)
    with pytest.raises(MastodonAPIError):
        script.account_verify_credentials()
