"""Process-wide instances: the event bus, the control plane (when it runs in this process) and the
services pages and API routes call (`bots()`, `social()`, `accounts()`). The web app's lifespan
starts and stops them.

The control plane must run exactly once per installation. "Embedded" (the default), it runs
inside the web worker that holds the controller lock (`controlplane.leader`): with several
workers one leads and the others take over if it dies. "External" (CLAWNET_CONTROLLER=external),
it runs only in `clawnet controller`, its own process. Workers without it write desired state and
reach it through the database and, with REFLEX_REDIS_URL set, over Redis pub/sub.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import uuid

import sqlalchemy as sa

from clawnet.accounts.service import AccountsService
from clawnet.bots.providers import ensure_local_echo_provider
from clawnet.bots.service import BotsService
from clawnet.controlplane.access import LocalControl
from clawnet.controlplane.controller import FleetController
from clawnet.controlplane.leader import ControllerLock
from clawnet.db import run_in_session
from clawnet.events import EventBus
from clawnet.events.redis import CHANNEL, RedisTransport
from clawnet.security.message_keys import RingMessageKeys
from clawnet.security.rate_limit import use_redis
from clawnet.settings import get_settings
from clawnet.social.federation.delivery import DeliveryWorker, backoff_of
from clawnet.social.federation.service import FederationService
from clawnet.social.insights import run_due_insights
from clawnet.social.mastodon import MastodonService
from clawnet.social.mentions import MentionReplier
from clawnet.social.service import SocialService

log = logging.getLogger(__name__)

LEADER_RETRY_S = 2.0
INSIGHTS_EVERY_S = 15 * 60
HOME_TRIM_EVERY_S = 10 * 60

_bus: EventBus | None = None
_controller: FleetController | None = None
_bots: BotsService | None = None
_social: SocialService | None = None
_accounts: AccountsService | None = None
_federation: FederationService | None = None
_lock: ControllerLock | None = None
_contend_task: asyncio.Task[None] | None = None
_mentions: tuple[MentionReplier, asyncio.Task[None]] | None = None
_deliveries: tuple[DeliveryWorker, asyncio.Task[None]] | None = None


def bus() -> EventBus:
    global _bus
    if _bus is None:
        _bus = EventBus(origin=uuid.uuid4().hex)
    return _bus


def controller() -> FleetController | None:
    return _controller


def bots() -> BotsService:
    global _bots
    if _bots is None:
        _bots = BotsService(get_settings(), bus(), _controller)
    return _bots


def social() -> SocialService:
    global _social
    if _social is None:
        _social = SocialService(get_settings(), bus())
    return _social


def mastodon() -> MastodonService:
    """Mastodon's client API, over the social service."""
    return MastodonService(social())


def federation() -> FederationService:
    """ActivityPub: documents, inbox, remote accounts, deliveries."""
    global _federation
    if _federation is None:
        _federation = FederationService(get_settings(), bus())
    return _federation


def accounts() -> AccountsService:
    global _accounts
    if _accounts is None:
        _accounts = AccountsService(get_settings())
    return _accounts


def redis_url() -> str:
    return os.environ.get("REFLEX_REDIS_URL", "")


def redis_transport(url: str, channel: str = CHANNEL) -> RedisTransport:
    """Events over Redis at `url`, signed with a key derived from this installation's key ring."""
    return RedisTransport(url, RingMessageKeys(get_settings()), channel=channel)


async def start(*, run_controller: bool | None = None, wait_for_lock: bool = False) -> None:
    """Start what this process runs: the event transport, and the control plane if this process
    may run it and holds the controller lock (otherwise it keeps trying in the background)."""
    global _lock, _contend_task
    settings = get_settings()
    await run_in_session(ensure_local_echo_provider)  # so a new user can try a bot with no API key
    if (url := redis_url()) and not bus().has_transport:
        await bus().attach_transport(redis_transport(url))
        log.info("events cross processes over Redis (signed)")
    use_redis(url)  # rate limits count in Redis too, so every worker counts together
    bots().attach(_controller)
    if run_controller is None:
        run_controller = settings.controller_mode == "embedded"
    if not run_controller or _controller is not None:
        return
    _lock = _lock or ControllerLock(settings)
    if _lock.try_acquire():
        await _lead()
    elif wait_for_lock:
        log.info("another process runs the control plane; waiting for its lock")
        await _contend()
    else:
        log.info("another process runs the control plane; this one takes over if it stops")
        _contend_task = asyncio.create_task(_contend(), name="controller-lock")


async def _contend() -> None:
    assert _lock is not None
    while True:  # polled: a lock held by a dead process is released by the kernel or the database
        if _lock.try_acquire():
            break
        await asyncio.sleep(LEADER_RETRY_S)
    await _lead()


async def _lead() -> None:
    global _controller
    _controller = FleetController(get_settings(), bus())
    await _controller.start()
    _controller.scheduler.every(  # bots' auto-posts run with the control plane (they talk to gateways)
        INSIGHTS_EVERY_S, run_due_insights, name="insights", args=(LocalControl(_controller), social())
    )
    _controller.scheduler.every(HOME_TRIM_EVERY_S, social().trim_home_feeds, name="home-feed-trim")
    _start_mentions(_controller)
    _start_deliveries()
    bots().attach(_controller)
    log.info("control plane started in this process (pid %s)", os.getpid())


def _start_mentions(controller: FleetController) -> None:
    """Bots answer their @mentions with the control plane (they talk to gateways)."""
    global _mentions
    replier = MentionReplier(LocalControl(controller), social(), bus())
    _mentions = (replier, asyncio.create_task(replier.run(), name="mention-replies"))


def _start_deliveries() -> None:
    """The federation delivery queue is sent from the leader only (once, not once per worker)."""
    global _deliveries
    if _deliveries is None:
        settings = get_settings()
        worker = DeliveryWorker(settings, backoff=backoff_of(settings))
        _deliveries = (worker, asyncio.create_task(worker.run(), name="federation-deliveries"))


async def _stop_deliveries() -> None:
    global _deliveries
    if _deliveries is not None:
        worker, task = _deliveries
        _deliveries = None
        await worker.stop()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


async def _stop_mentions() -> None:
    global _mentions
    if _mentions is not None:
        replier, task = _mentions
        _mentions = None
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        await replier.stop()


async def stop() -> None:
    global _controller, _contend_task
    if _contend_task is not None:
        _contend_task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await _contend_task
        _contend_task = None
    await _stop_mentions()
    await _stop_deliveries()
    if _controller is not None:
        await _controller.stop()
        _controller = None
    if _lock is not None:
        _lock.release()
    await bus().detach_transport()
    if _bots is not None:
        _bots.attach(None)


async def database_problem() -> str:
    """'' when the database answers, else what kind of failure it was (for `/healthz`)."""
    try:
        await run_in_session(lambda s: s.exec(sa.text("SELECT 1")))  # type: ignore[call-overload]
    except Exception as exc:
        return type(exc).__name__
    return ""
