"""What open pages hear when an owner starts or stops a bot: one small per-bot event, never a
whole-fleet reload (with many dashboards open, a reload per click costs every one of them a
database query and the full card list)."""

from __future__ import annotations

from clawnet.bots.service import BotsService
from clawnet.enums import Role
from clawnet.events import EventBus, Kind
from clawnet.security.permissions import PermissionDenied, Principal
from clawnet.settings import get_settings
from tests.factories import make_bot, make_user


def drain(events) -> list:
    out = []
    while (event := events.get_nowait()) is not None:
        out.append(event)
    return out


async def test_start_and_stop_publish_desired_state_not_a_fleet_reload(session):
    owner = make_user(session, Role.OPERATOR)
    bot = make_bot(session, owner)
    session.commit()
    bus = EventBus()
    service = BotsService(get_settings(), bus)
    with bus.subscribe([Kind.FLEET_CHANGED, Kind.BOT_DESIRED, Kind.BOT_STATUS, Kind.FLEET_KICK]) as events:
        await service.set_running(Principal.of(owner), bot.id, False)
        stopped = drain(events)
        await service.set_running(Principal.of(owner), bot.id, False)  # already stopped: nothing to say
        again = drain(events)
        await service.set_running(Principal.of(owner), bot.id, True)
        started = drain(events)
    assert [(e.kind, e.payload) for e in stopped if e.kind != Kind.FLEET_KICK] == [
        (Kind.BOT_DESIRED, {"desired": "stopped"})
    ]
    assert all(e.kind == Kind.FLEET_KICK for e in again)
    assert [(e.kind, e.bot_id, e.payload) for e in started if e.kind != Kind.FLEET_KICK] == [
        (Kind.BOT_DESIRED, bot.id, {"desired": "running"}),
        (Kind.BOT_STATUS, bot.id, {"status": "starting", "error": ""}),
    ]
    assert any(e.kind == Kind.FLEET_KICK for e in started)  # the controller still reconciles


async def test_a_viewer_cannot_start_or_stop(session):
    owner = make_user(session, Role.OPERATOR)
    viewer = make_user(session, Role.VIEWER)
    bot = make_bot(session, owner)
    session.commit()
    bus = EventBus()
    service = BotsService(get_settings(), bus)
    with bus.subscribe([Kind.BOT_DESIRED]) as events:
        try:
            await service.set_running(Principal.of(viewer), bot.id, False)
        except PermissionDenied:
            pass
        else:
            raise AssertionError("a viewer stopped a bot")
        assert drain(events) == []
