"""Account security in Chromium, on a ClawNet with outgoing mail (an SMTP server on loopback):
a password reset through the mailed link (with email verification on the way), and two-factor
sign-in after turning it on in Settings (with the sessions list)."""

from __future__ import annotations

import re
from email.message import Message

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from clawnet.accounts import totp
from tests.e2e.helpers import PASSWORD, register
from tests.support.alert_sinks import SmtpSink
from tests.support.server import running_clawnet

pytestmark = [pytest.mark.e2e]
NEW_PASSWORD = "a-brand-new-password"


@pytest.fixture(scope="module")
def mail_server(tmp_path_factory):
    with SmtpSink() as smtp:
        env = {"CLAWNET_SMTP_HOST": "127.0.0.1", "CLAWNET_SMTP_PORT": str(smtp.port)}
        with running_clawnet(tmp_path_factory.mktemp("clawnet-account-security"), env) as srv:
            yield srv, smtp


def _mail_to(smtp: SmtpSink, address: str, subject_part: str, count_before: int) -> Message:
    for msg in smtp.wait_for(count_before + 1)[count_before:]:
        if msg["To"] == address and subject_part in msg["Subject"]:
            return msg
    raise AssertionError(f"no '{subject_part}' mail to {address}")


def _register(page, base: str, email: str, name: str, handle: str) -> None:
    """Sign up, trying again if the form was filled before the page was live (a fresh server)."""
    for attempt in range(3):
        register(page, base, email, name, handle)
        try:
            page.wait_for_url(lambda url: "/register" not in url, timeout=30_000)
            return
        except PlaywrightTimeout:
            if attempt == 2:
                raise


def _link_path(msg: Message, prefix: str) -> str:
    body = msg.get_payload(decode=True).decode()
    match = re.search(rf"https?://[^/\s]+({prefix}/[A-Za-z0-9_\-]+)", body)
    assert match, body
    return match.group(1)


def test_password_reset_through_the_mailed_link_signs_out_everywhere(mail_server, new_page):
    server, smtp = mail_server
    base = server.url
    email = "reset-ann@example.com"
    before = len(smtp.messages)
    first = new_page()
    _register(first, base, email, "Ann Reset", "ann_reset")
    expect(first.get_by_test_id("dashboard-page")).to_be_visible()
    # Mail is configured: the new address is unconfirmed until the mailed link is opened.
    expect(first.get_by_test_id("verify-banner")).to_be_visible()
    verify = _link_path(_mail_to(smtp, email, "Confirm", before), "/verify")
    first.goto(base + verify)
    expect(first.get_by_test_id("verify-result")).to_contain_text(email)

    # Another browser asks for a reset; an unknown address gets the very same answer.
    other = new_page()
    other.goto(f"{base}/login")
    other.get_by_test_id("login-forgot").click()
    _ask_for_reset(other, "nobody-here@example.com")
    unknown_answer = other.get_by_test_id("forgot-sent").inner_text()
    before = len(smtp.messages)
    other.goto(f"{base}/forgot")
    _ask_for_reset(other, email)
    expect(other.get_by_test_id("forgot-sent")).to_have_text(unknown_answer)
    reset = _link_path(_mail_to(smtp, email, "Reset", before), "/reset")

    other.goto(base + reset)
    other.get_by_test_id("reset-password").fill(NEW_PASSWORD)
    other.get_by_test_id("reset-confirm").fill(NEW_PASSWORD)
    other.get_by_test_id("reset-submit").click()
    expect(other.get_by_test_id("reset-done")).to_be_visible()
    other.goto(base + reset)  # the link worked once
    expect(other.get_by_test_id("reset-invalid")).to_be_visible()

    first.goto(f"{base}/settings")  # the first browser was signed out by the reset
    expect(first.get_by_test_id("login-page")).to_be_visible()
    first.get_by_label("Email").fill(email)
    first.get_by_label("Password").fill(NEW_PASSWORD)
    first.get_by_test_id("login-submit").click()
    expect(first.get_by_test_id("settings-page")).to_be_visible()


def test_two_factor_sign_in_after_turning_it_on_in_settings(mail_server, new_page):
    server, _smtp = mail_server
    base = server.url
    email = "totp-bob@example.com"
    page = new_page()
    _register(page, base, email, "Bob Totp", "bob_totp")
    page.goto(f"{base}/settings")
    page.get_by_test_id("totp-setup").click()
    uri = page.get_by_test_id("totp-uri").inner_text()
    assert uri.startswith("otpauth://totp/")
    secret = re.search(r"secret=([A-Z2-7]+)", uri).group(1)
    page.get_by_test_id("totp-code").fill(totp.now_code(secret))
    page.get_by_test_id("totp-enable").click()
    expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
    expect(page.get_by_test_id("totp-disable")).to_be_visible()

    # A second browser: the password alone is not enough.
    second = new_page()
    second.goto(f"{base}/login")
    second.get_by_label("Email").fill(email)
    second.get_by_label("Password").fill(PASSWORD)
    second.get_by_test_id("login-submit").click()
    second.get_by_test_id("signin-totp-code").fill(
        "000000" if totp.now_code(secret) != "000000" else "111111"
    )
    second.get_by_test_id("signin-totp-submit").click()
    expect(second.get_by_test_id("signin-totp-code-error")).to_contain_text("Wrong code")
    # The code that turned 2FA on was spent; the next step's code is within the allowed drift.
    second.get_by_test_id("signin-totp-code").fill(totp.code_at(secret, totp.current_step() + 1))
    second.get_by_test_id("signin-totp-submit").click()
    second.wait_for_url(lambda url: "/login" not in url)
    second.goto(f"{base}/settings")
    expect(second.get_by_test_id("session-row")).to_have_count(2)
    expect(second.get_by_test_id("session-current")).to_have_count(1)
    second.get_by_test_id("sessions-revoke-others").click()
    expect(second.get_by_test_id("session-row")).to_have_count(1)
    page.goto(f"{base}/settings")  # the first browser's session was ended
    expect(page.get_by_test_id("login-page")).to_be_visible()


def _ask_for_reset(page, email: str) -> None:
    """Fill and send /forgot. On a loaded machine the page can become live after the field was
    filled, which empties it (the form then says "Enter your email address."): fill again."""
    for _ in range(3):
        page.get_by_test_id("forgot-email").fill(email)
        page.get_by_test_id("forgot-submit").click()
        try:
            expect(page.get_by_test_id("forgot-sent")).to_be_visible(timeout=15_000)
            return
        except AssertionError:
            continue
    expect(page.get_by_test_id("forgot-sent")).to_be_visible()
