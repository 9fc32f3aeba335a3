"""Fixtures shared by every test: an isolated ClawNet installation (data folder, database,
keys) per test, so tests never see each other's rows or the developer's ./data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session

import tests.support  # noqa: F401 (the environment every test runs in: see its docstring)
from clawnet import db
from clawnet.security import crypto
from clawnet.settings import Settings, get_settings


def _reset_process_caches() -> None:
    get_settings.cache_clear()
    db.dispose_engines()
    crypto.set_key_ring(None)


@pytest.fixture
def clawnet_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Point ClawNet's settings at a fresh data folder for this test."""
    data_dir = tmp_path / "data"
    monkeypatch.setenv("CLAWNET_DATA_DIR", str(data_dir))
    for name in ("DATABASE_URL", "CLAWNET_SECRET_KEY", "CLAWNET_PREVIOUS_SECRET_KEYS", "CLAWNET_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    _reset_process_caches()
    yield get_settings()
    _reset_process_caches()


@pytest.fixture
def migrated(clawnet_env: Settings) -> Settings:
    """A fresh installation with its schema at head."""
    db.migrate()
    return clawnet_env


@pytest.fixture
def session(migrated: Settings) -> Iterator[Session]:
    """A session on the fresh database; commits when the test passes."""
    with db.session_scope() as s:
        yield s


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL database: CLAWNET_TEST_POSTGRES_URL if set, else a throwaway server from
    Debian's package, started for this test session."""
    import os

    if url := os.environ.get("CLAWNET_TEST_POSTGRES_URL"):
        yield url
        return
    from tests.support.services import postgres_server

    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A throwaway Redis server from Debian's package, for this test session."""
    from tests.support.services import redis_server

    with redis_server() as url:
        yield url


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests run last: Playwright's sync API keeps an event loop running for the rest of
    the session, and asyncio tests cannot start their own loop after it."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)
    # pytest-timeout's 300 s (pyproject) is a hang guard. A test that starts real gateways several
    # times (9-20 s each on 2 cores) or a module's ClawNet server must reach its own, clearer waits.
    for item in items:
        slow = item.get_closest_marker("gateway") or item.get_closest_marker("e2e")
        if slow and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(900))
