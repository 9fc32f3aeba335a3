"""Accounts in a real Chromium against a real ClawNet: the first visit registers the admin,
sign out, a wrong password says so, sign in, and an admin changes someone's role."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from clawnet.models import User
from tests.e2e.helpers import server_db
from tests.support.server import running_clawnet

pytestmark = [pytest.mark.e2e, pytest.mark.scaleout]

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin-password-123"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_clawnet(tmp_path_factory.mktemp("clawnet-accounts")) as srv:
        yield srv


def register(page, base: str, email: str, name: str, handle: str, password: str) -> None:
    page.goto(f"{base}/register")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Display name").fill(name)
    page.get_by_label("Handle").fill(handle)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Repeat password").fill(password)
    page.get_by_test_id("register-submit").click()


def sign_in(page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def db_user(server, email: str) -> User:
    with server_db(server) as s:
        return s.exec(select(User).where(User.email == email)).one()


def test_first_visit_registers_the_admin_then_sign_out_and_in(server, new_page):
    page = new_page()
    page.goto(server.url + "/")
    expect(page).to_have_url(re.compile(r"/register/?$"))
    expect(page.get_by_test_id("register-first-admin-note")).to_be_visible()

    register(page, server.url, ADMIN_EMAIL, "Ada Admin", "ada", "short")
    expect(page.get_by_test_id("register-password-error")).to_have_text("Use at least 10 characters.")

    register(page, server.url, ADMIN_EMAIL, "Ada Admin", "ada", ADMIN_PASSWORD)
    expect(page.get_by_test_id("dashboard-page")).to_be_visible()
    expect(page.get_by_test_id("nav-user-role")).to_have_text("admin")
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["clawnet_session"]["httpOnly"] is True
    assert cookies["clawnet_session"]["sameSite"] == "Lax"

    page.get_by_test_id("nav-sign-out").click()
    expect(page).to_have_url(re.compile(r"/login/?$"))
    page.goto(server.url + "/admin")
    expect(page).to_have_url(re.compile(r"/login/?\?next=/admin$"))

    sign_in(page, server.url, ADMIN_EMAIL, "not-the-password")
    expect(page.get_by_test_id("login-error")).to_contain_text("Wrong email or password.")

    sign_in(page, server.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    expect(page.get_by_test_id("nav-user-name")).to_have_text("Ada Admin")


def test_admin_changes_a_members_role(server, new_page):
    member_page = new_page()
    register(member_page, server.url, "mo@example.com", "Mo Member", "mo", "member-password-1")
    expect(member_page.get_by_test_id("feed-page")).to_be_visible()  # members land on the feed
    expect(member_page.get_by_test_id("nav-user-role")).to_have_text("member")
    expect(member_page.get_by_test_id("nav-dashboard")).to_have_count(0)

    admin_page = new_page()
    sign_in(admin_page, server.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    expect(admin_page.get_by_test_id("dashboard-page")).to_be_visible()
    admin_page.get_by_test_id("nav-admin").click()
    member = db_user(server, "mo@example.com")
    role_select = admin_page.get_by_label("Role of mo@example.com")
    expect(role_select).to_have_value("member")
    role_select.select_option("operator")
    expect(admin_page.get_by_test_id("admin-message")).to_have_text("Role changed to operator.")
    assert db_user(server, "mo@example.com").role == "operator"

    member_page.goto(server.url + "/")
    expect(member_page.get_by_test_id("dashboard-page")).to_be_visible()
    expect(member_page.get_by_test_id("nav-user-role")).to_have_text("operator")
    assert member.id is not None
