"""PostgreSQL and Redis stopped and started under a scaled-out ClawNet (two web workers and the
control plane, on real servers from Debian's packages, one gateway shared by the module):
pages and the API say so plainly, nothing made before is lost, a chat sent during an outage is
never answered after its asker was told it failed, and everything resumes without a restart.

Figures (the time from PostgreSQL back to pages working) are printed; `bench/fault_services.py`
measures them on their own."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from clawnet.controlplane.chat import ChatError
from clawnet.controlplane.remote import RemoteChats
from clawnet.events import EventBus, Kind
from clawnet.runtime import redis_transport
from clawnet.security.permissions import Principal
from tests.support.aio import run_async
from tests.support.reflex_client import ReflexClient
from tests.support.server import ClawNetServer, http_get, start_clawnet
from tests.support.services import PostgresServer, RedisServer

pytestmark = [pytest.mark.gateway, pytest.mark.postgres]


@dataclass
class Install:
    server: ClawNetServer
    pg: PostgresServer
    redis: RedisServer
    cookie: str
    admin: Principal
    bot_id: int


def scaled_out_install(data_dir) -> Iterator[Install]:
    """PostgreSQL + Redis + ClawNet with two workers, an admin with a session and a running bot."""
    from clawnet.accounts import registration, sign_in
    from clawnet.bots import BotsService
    from clawnet.bots.forms import BotInput
    from clawnet.bots.providers import ensure_local_echo_provider
    from clawnet.db import session_scope
    from clawnet.enums import Role
    from clawnet.events import EventBus
    from clawnet.settings import get_settings
    from tests.security.world import server_process_env

    pg, redis = PostgresServer(), RedisServer()
    try:
        pg.start()
        redis.start()
        env = {"DATABASE_URL": pg.url, "REFLEX_REDIS_URL": redis.url, "GRANIAN_WORKERS": "2"}
        server = start_clawnet(data_dir, env)
        try:
            with server_process_env(server):
                with session_scope() as s:
                    user = registration.register(
                        s, email="ada@example.com", display_name="Ada", password="pw-123456789", handle="ada"
                    )
                    user.role = Role.ADMIN.value
                    s.add(user)
                    s.flush()
                    token = sign_in.redeem_login_ticket(s, sign_in.issue_login_ticket(s, user)).token
                    admin = Principal.of(user)
                    provider_id = ensure_local_echo_provider(s).id
                service = BotsService(get_settings(), EventBus(), None)  # a worker: the server runs it
                bot_id = run_async(
                    service.create_bot(
                        admin, BotInput(name="Steady", provider_id=provider_id, model_id="echo-1")
                    )
                )
                wait_until(lambda: bot_status(bot_id) == "running", 240, "the bot never ran")
                yield Install(server, pg, redis, f"clawnet_session={token}", admin, bot_id)
        finally:
            server.stop()
    finally:
        redis.close()
        pg.close()


@pytest.fixture(scope="module")
def install(tmp_path_factory) -> Iterator[Install]:
    yield from scaled_out_install(tmp_path_factory.mktemp("scaled") / "data")


def wait_until(check, timeout_s: float, what: str, every_s: float = 0.2) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):  # the database may be coming back
            if check():
                return
        time.sleep(every_s)
    raise AssertionError(what)


def bot_status(bot_id: int) -> str:
    from clawnet.db import session_scope
    from clawnet.models import Bot

    with session_scope() as s:
        bot = s.get(Bot, bot_id)
        return bot.actual_status if bot else ""


def count_rows(sql: str, text: str) -> int:
    import sqlalchemy as sa

    from clawnet.db import get_engine

    with get_engine().connect() as conn:
        return int(conn.execute(sa.text(sql), {"t": f"%{text}%"}).scalar() or 0)


def posts(text: str) -> int:
    return count_rows("SELECT count(*) FROM posts WHERE content_text LIKE :t", text)


def chat_turns(text: str) -> int:
    return count_rows("SELECT count(*) FROM chat_turns WHERE message LIKE :t", text)


async def submit_post(install: Install, text: str, settle_s: float = 3.0) -> list[dict]:
    """Post through a page's event handler, as a browser tab on one of the workers does."""
    from clawnet.ui.pages.feed import FeedState

    client = ReflexClient(install.server.url, install.cookie)
    await client.connect()
    try:
        await client.call(f"{FeedState.get_full_name()}.on_load", {}, path="/feed", settle_s=0.5)
        seen = len(client.updates)
        await client.call(
            f"{FeedState.get_full_name()}.submit",
            {"form": {"text": text, "visibility": "public"}},
            path="/feed",
            settle_s=settle_s,
        )
        return client.updates[seen:]
    finally:
        await client.close()


async def chat_via_worker(
    install: Install, text: str, accept_timeout_s: float = 30.0, bus: EventBus | None = None
) -> str:
    """A chat turn asked for by a web worker without the control plane (over Redis); `bus`: a
    worker's bus that outlives the call (its held-back events are sent when Redis returns)."""
    own = bus is None
    if bus is None:
        bus = EventBus(origin="test-worker")
        await bus.attach_transport(redis_transport(install.redis.url))
    try:
        turn = await RemoteChats(bus, accept_timeout_s).send(
            install.bot_id, text, user_id=install.admin.user_id, session_key=None, timeout_s=60
        )
        return await turn.result(90)
    finally:
        if own:
            await bus.detach_transport()


async def test_postgresql_stopped_and_started(install: Install) -> None:
    url = install.server.url
    await submit_post(install, "post before the database outage")
    await asyncio.to_thread(
        wait_until, lambda: posts("post before the database outage") == 1, 60, "not saved"
    )
    assert await chat_via_worker(install, "REPLY WITH: chat before the outage") == "chat before the outage"

    install.pg.stop()
    try:
        status, body = await asyncio.to_thread(http_get, f"{url}/healthz", 30)
        assert status == 503 and b"unavailable" in body
        status, body = await asyncio.to_thread(http_get, f"{url}/api/v1/timelines/public", 30)
        assert status == 503, body  # said plainly, not a 500
        assert "database is busy or unavailable" in json.loads(body)["error"]
        for _ in range(3):  # the pages themselves are still served by every worker
            status, _ = await asyncio.to_thread(http_get, f"{url}/feed", 30)
            assert status == 200
        updates = await submit_post(install, "post during the database outage")
        assert "database is busy or unavailable" in str(updates), updates
    finally:
        install.pg.start()
    back_at = time.monotonic()

    def pages_work() -> bool:
        status, _ = http_get(f"{url}/healthz", 10)
        return status == 200

    await asyncio.to_thread(wait_until, pages_work, 120, "ClawNet never saw PostgreSQL again")
    await submit_post(install, "post after the database outage")
    await asyncio.to_thread(
        wait_until, lambda: posts("post after the database outage") == 1, 60, "no post after the outage"
    )
    print(f"\nPostgreSQL back -> pages working and a post saved: {time.monotonic() - back_at:.1f} s")
    assert posts("post before the database outage") == 1  # nothing lost
    assert posts("post during the database outage") == 0  # nothing half-saved
    assert chat_turns("chat before the outage") == 1
    assert await chat_via_worker(install, "REPLY WITH: chat after the outage") == "chat after the outage"


async def test_redis_stopped_and_started(install: Install) -> None:
    url = install.server.url
    worker = EventBus(origin="test-worker")  # a web worker's bus, kept through the outage
    await worker.attach_transport(redis_transport(install.redis.url))
    listener = EventBus(origin="test-listener")
    transport = redis_transport(install.redis.url)
    await listener.attach_transport(transport)
    try:
        install.redis.stop()
        try:
            for _ in range(4):  # both workers keep serving pages and reach the database
                status, _ = await asyncio.to_thread(http_get, f"{url}/feed", 30)
                assert status == 200
                status, _ = await asyncio.to_thread(http_get, f"{url}/healthz", 30)
                assert status == 200
            # A chat asked for while Redis is down fails plainly...
            with pytest.raises(ChatError) as failed:
                await chat_via_worker(install, "REPLY WITH: sent during the redis outage", 6, worker)
            assert "did not answer" in str(failed.value)
        finally:
            install.redis.start()
        reply = ""
        for _ in range(8):  # until every process has resubscribed
            with contextlib.suppress(ChatError):
                reply = await chat_via_worker(install, "REPLY WITH: after redis came back", 10, worker)
                break
        assert reply == "after redis came back"
        # ... and is not answered later, when its held-back request finally travels (the same
        # worker's events go out in order: it went before the one just answered).
        assert chat_turns("after redis came back") == 1  # answered exactly once
        assert chat_turns("sent during the redis outage") == 0

        # A request still held when its asker has given up is never sent (the worker's transport
        # drops it against its own clock), so it cannot be answered after "did not answer".
        worker.publish(
            Kind.CHAT_REQUEST,
            {
                "request_id": "held-back",
                "text": "REPLY WITH: held back",
                "user_id": install.admin.user_id,
                "session_key": None,
                "timeout_s": 60,
                "act_before": time.time() - 1,
            },
            bot_id=install.bot_id,
        )
        assert await chat_via_worker(install, "REPLY WITH: sent after it", 30, worker) == "sent after it"
        assert chat_turns("held back") == 0

        # Live updates resume: a post made in a worker reaches a subscriber in another process.
        await asyncio.wait_for(transport.subscribed.wait(), 60)
        with listener.subscribe([Kind.POST_CREATED]) as events:
            await submit_post(install, "post after redis came back")
            event = await events.get(timeout=60)
        assert event.payload.get("post_id")
    finally:
        await listener.detach_transport()
        await worker.detach_transport()
