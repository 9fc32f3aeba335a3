"""A locked database: the person is told plainly, nothing half-done is kept, and the same action
works once the lock is gone. The server keeps serving throughout."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time

import pytest

from clawnet.clawnet import DATABASE_UNAVAILABLE
from tests.security.world import build_world
from tests.support.reflex_client import ReflexClient
from tests.support.server import http_get, running_clawnet

LOCK_CAP_S = 180.0  # the lock is held until the test saw the refusal; this only bounds a failure


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    with running_clawnet(tmp_path_factory.mktemp("faults")) as server:
        yield build_world(server)


def hold_exclusive_lock(db_path, locked: threading.Event, release: threading.Event) -> None:
    conn = sqlite3.connect(db_path, timeout=30, isolation_level=None)
    try:
        conn.execute("BEGIN EXCLUSIVE")
        locked.set()
        release.wait(LOCK_CAP_S)
        conn.execute("ROLLBACK")
    finally:
        conn.close()


def count_posts(db_path, text: str) -> int:
    conn = sqlite3.connect(db_path, timeout=30)
    try:
        return conn.execute(
            "SELECT count(*) FROM posts WHERE content_text LIKE ?", (f"%{text}%",)
        ).fetchone()[0]
    finally:
        conn.close()


async def test_a_locked_database_is_reported_and_nothing_is_half_saved(world):
    from clawnet.ui.pages.feed import FeedState

    client = ReflexClient(world.server.url, world.cookies["mia"])
    await client.connect()
    submit = f"{FeedState.get_full_name()}.submit"
    try:
        await client.call(f"{FeedState.get_full_name()}.on_load", {}, path="/feed", settle_s=0.5)
        locked, release = threading.Event(), threading.Event()
        holder = threading.Thread(target=hold_exclusive_lock, args=(world.db_path, locked, release))
        holder.start()
        try:
            assert locked.wait(60)
            seen = len(client.updates)
            await client.call(
                submit,
                {"form": {"text": "written while locked", "visibility": "public"}},
                path="/feed",
                settle_s=0.5,
            )
            deadline = time.monotonic() + 120  # ClawNet gives up after its 10 s busy timeout
            while DATABASE_UNAVAILABLE not in str(client.updates[seen:]):
                assert time.monotonic() < deadline, client.updates[seen:]
                await asyncio.sleep(0.2)
            status, _ = await asyncio.to_thread(http_get, f"{world.server.url}/healthz", 30)
            assert status in (200, 503)  # the server still answers
        finally:
            release.set()
            await asyncio.to_thread(holder.join)
        assert count_posts(world.db_path, "written while locked") == 0

        await client.call(
            submit,
            {"form": {"text": "written after the lock", "visibility": "public"}},
            path="/feed",
            settle_s=0.5,
        )
        deadline = time.monotonic() + 60
        while count_posts(world.db_path, "written after the lock") == 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        assert count_posts(world.db_path, "written after the lock") == 1
    finally:
        await client.close()
