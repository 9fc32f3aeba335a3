"""Helpers for browser tests: signing in through the UI, and reading or preparing the running
server's database directly (as an operator at the console would)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from clawnet.accounts.registration import register as register_account
from clawnet.enums import Role
from clawnet.models import Bot, BotAssignment, Gateway, User
from tests.support.server import ClawNetServer, database_session

PASSWORD = "test-password-123"


@contextmanager
def server_db(server: ClawNetServer) -> Iterator[Session]:
    with database_session(server.database_url) as session:
        yield session


def make_account(server: ClawNetServer, email: str, role: Role, handle: str) -> int:
    with server_db(server) as s:
        user = register_account(s, email=email, display_name=handle.title(), password=PASSWORD, handle=handle)
        user.role = role.value
        s.add(user)
        s.flush()
        assert user.id is not None
        return user.id


def assign_bot(server: ClawNetServer, user_id: int, bot_id: int) -> None:
    with server_db(server) as s:
        s.add(BotAssignment(user_id=user_id, bot_id=bot_id))


def bot_row(server: ClawNetServer, name: str) -> Bot:
    with server_db(server) as s:
        return s.exec(select(Bot).where(Bot.name == name)).one()


def gateway_pid(server: ClawNetServer, bot_id: int) -> int:
    with server_db(server) as s:
        bot = s.get(Bot, bot_id)
        gw = s.get(Gateway, bot.gateway_id)
        assert gw.pid is not None
        return gw.pid


def user_id(server: ClawNetServer, email: str) -> int:
    with server_db(server) as s:
        return s.exec(select(User.id).where(User.email == email)).one()


def register(page: Page, base: str, email: str, name: str, handle: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/register")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Display name").fill(name)
    page.get_by_label("Handle").fill(handle)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Repeat password").fill(password)
    page.get_by_test_id("register-submit").click()


def sign_in(
    page: Page, base: str, email: str, password: str = PASSWORD, landing: str = "dashboard-page"
) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id(landing)).to_be_visible()


def session_cookie(page: Page) -> str:
    cookie = next(c for c in page.context.cookies() if c["name"] == "clawnet_session")
    return f"clawnet_session={cookie['value']}"


def bot_id_from_url(url: str) -> int:
    match = re.search(r"/bots/(\d+)", url)
    assert match, url
    return int(match.group(1))


def data_dir(server: ClawNetServer) -> Path:
    return server.data_dir


def open_menu_item(page: Page, testid: str, tries: int = 3) -> None:
    """On a phone: open the compact navigation menu and choose `testid`. A tap that lands before
    the page is ready (or before the person's role is known, which decides the fleet items) is
    tried again; the item must then appear."""
    item = page.get_by_test_id(testid)
    for _ in range(tries - 1):
        page.get_by_test_id("navmenu-button").click()
        try:
            expect(item).to_be_visible(timeout=10_000)
            break
        except AssertionError:
            page.keyboard.press("Escape")
    else:
        page.get_by_test_id("navmenu-button").click()
    item.click()
