"""Browser fixtures: one Chromium per test session, a fresh context (cookies) per user."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: run scripts/bootstrap.sh --browser (make test does).")
    from playwright.sync_api import expect, sync_playwright

    # Assertions wait up to 20 s, not Playwright's 5 s: a loaded 2-core machine (a scaled-out
    # ClawNet with two workers, PostgreSQL and Redis beside the browser) can take seconds to run a
    # page's first event; a passing assertion still returns as soon as it holds.
    expect.set_options(timeout=20_000)

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def new_page(browser):
    """new_page() -> a page in its own browser context (its own cookies: another person)."""
    contexts = []

    def make():
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(60_000)  # waits, not speeds: pages answer in ms when well
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
