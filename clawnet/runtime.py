"""Process-wide instances: the event bus, the fleet controller (when it runs in this process)
and the fleet service pages call. The web app's lifespan starts and stops them.

The control plane must run exactly once per installation. "Embedded" (the default), it runs
inside the web worker that holds the controller lock (`clawnet.controlplane.leader`): with several
workers one leads and the others take over if it dies. "External" (CLAWNET_CONTROLLER=external),
it runs only in `clawnet controller`, its own process. Workers without it write desired state and
listen; with REFLEX_REDIS_URL set, events cross processes over Redis pub/sub.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import uuid
from typing import Any

from clawnet.bots.service import FleetService
from clawnet.controlplane.controller import FleetController
from clawnet.controlplane.leader import ControllerLock
from clawnet.events.bus import EventBus
from clawnet.settings import get_settings
from clawnet.social.service import SocialService

log = logging.getLogger(__name__)

_bus: EventBus | None = None
_web_app: Any = None
_controller: FleetController | None = None
_service: FleetService | None = None
_social: SocialService | None = None


def bus() -> EventBus:
    global _bus
    if _bus is None:
        _bus = EventBus(origin=uuid.uuid4().hex)
    return _bus


def set_web_app(app: Any) -> None:
    """The Reflex app of this process (live pages ask it which browsers are connected)."""
    global _web_app
    _web_app = app


def web_app() -> Any:
    return _web_app


def controller() -> FleetController | None:
    return _controller


def social() -> SocialService:
    global _social
    if _social is None:
        _social = SocialService(get_settings(), bus())
    return _social


def service() -> FleetService:
    global _service
    if _service is None:
        _service = FleetService(get_settings(), bus(), _controller)
    return _service


LEADER_RETRY_S = 2.0

_lock: ControllerLock | None = None
_contend_task: asyncio.Task[None] | None = None


def redis_url() -> str:
    return os.environ.get("REFLEX_REDIS_URL", "")


async def start(*, run_controller: bool | None = None, wait_for_lock: bool = False) -> None:
    """Start what this process runs: the event transport, and the control plane if this process
    may run it and holds the controller lock (otherwise it keeps trying in the background)."""
    global _service, _lock, _contend_task
    settings = get_settings()
    from clawnet.bots.service import ensure_local_echo_provider
    from clawnet.db import session_scope

    with session_scope() as session:  # so a new user can try a bot with no API key
        ensure_local_echo_provider(session)
    if (url := redis_url()) and bus()._transport is None:
        from clawnet.events.redis import RedisTransport

        await bus().attach_transport(RedisTransport(url))
        log.info("events cross processes over Redis")
    _service = FleetService(settings, bus(), _controller)
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
    settings = get_settings()
    _controller = FleetController(settings, bus())
    await _controller.start()
    schedule_insights(_controller)
    service().controller = _controller
    log.info("control plane started in this process (pid %s)", os.getpid())


INSIGHTS_EVERY_S = 15 * 60


def schedule_insights(controller: FleetController) -> None:
    """Bots' auto-posts run with the control plane (they talk to gateways)."""
    from clawnet.social.insights import run_due_insights

    controller.health.scheduler.add_job(
        run_due_insights,
        "interval",
        seconds=INSIGHTS_EVERY_S,
        id="insights",
        args=[controller, social()],
        coalesce=True,
        max_instances=1,
    )


async def stop() -> None:
    global _controller, _service, _contend_task
    if _contend_task is not None:
        _contend_task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await _contend_task
        _contend_task = None
    if _controller is not None:
        await _controller.stop()
        _controller = None
    if _lock is not None:
        _lock.release()
    await bus().detach_transport()
    _service = None
