"""Process-wide instances: the event bus, the fleet controller (when it runs in this process)
and the fleet service pages call. The web app's lifespan starts and stops them.

The control plane must run exactly once per installation. With one web worker it runs inside
it ("embedded", the default). With several workers, set CLAWNET_CONTROLLER=external and run
`clawnet controller` as its own process; the workers then only write desired state and listen.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from clawnet.fleet.controller import FleetController
from clawnet.fleet.events import EventBus
from clawnet.fleet.service import FleetService
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


async def start(*, run_controller: bool | None = None) -> None:
    """Start what this process runs: the control plane when embedded."""
    global _controller, _service
    settings = get_settings()
    from clawnet.db import session_scope
    from clawnet.fleet.service import ensure_local_echo_provider

    with session_scope() as session:  # so a new user can try a bot with no API key
        ensure_local_echo_provider(session)
    if run_controller is None:
        run_controller = settings.controller_mode == "embedded"
    if run_controller and _controller is None:
        _controller = FleetController(settings, bus())
        await _controller.start()
        schedule_insights(_controller)
        log.info("control plane started in this process")
    _service = FleetService(settings, bus(), _controller)


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
    global _controller, _service
    if _controller is not None:
        await _controller.stop()
        _controller = None
    _service = None
