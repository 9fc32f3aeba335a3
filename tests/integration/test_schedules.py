"""Schedules on a real gateway with the local echo model: a short interval fires and its runs
appear in the history (outcome, duration); pause, run now, drift and delete do what they say on
the gateway's scheduler; a schedule survives a gateway kill -9 and a ClawNet restart (ClawNet's
database is the desired state: a job removed on the gateway comes back when ClawNet reconnects)."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from sqlmodel import col, select

from clawnet import db
from clawnet.bots.forms import BotInput
from clawnet.bots.providers import ensure_local_echo_provider
from clawnet.bots.schedule_views import IN_SYNC, ScheduleRow
from clawnet.bots.service import BotsService
from clawnet.controlplane.controller import FleetController
from clawnet.controlplane.cron_jobs import ScheduleInput
from clawnet.controlplane.gateway_cron import CronApi
from clawnet.controlplane.protocol import GatewayConnection
from clawnet.db import session_scope
from clawnet.enums import BotStatus, Role
from clawnet.errors import PermissionDenied
from clawnet.models import AuditEvent, BotAssignment
from clawnet.security.permissions import Principal
from clawnet.security.secret_fields import GATEWAY_TOKEN
from clawnet.settings import Settings, get_settings
from tests.conftest import _reset_process_caches
from tests.factories import gateway_of, make_user
from tests.integration.conftest import start_fleet
from tests.support.server import free_port, free_port_range

# One control plane and one pooled gateway for the module: the second test's bot joins the
# first one's gateway without a start of its own.
pytestmark = [pytest.mark.gateway, pytest.mark.asyncio(loop_scope="module")]


@dataclass
class Shared:
    settings: Settings
    controller: FleetController
    service: BotsService
    admin: Principal
    provider_id: int

    def bot_input(self, name: str) -> BotInput:
        return BotInput(name=name, provider_id=self.provider_id, model_id="echo-1")


@pytest.fixture(scope="module")
def module_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CLAWNET_DATA_DIR", str(tmp_path_factory.mktemp("schedules") / "data"))
        for name in (
            "DATABASE_URL",
            "CLAWNET_SECRET_KEY",
            "CLAWNET_PREVIOUS_SECRET_KEYS",
            "CLAWNET_KEY_FILE",
        ):
            mp.delenv(name, raising=False)
        mp.setenv("CLAWNET_GATEWAY_BASE_PORT", str(free_port_range()))
        mp.setenv("CLAWNET_ECHO_PORT", str(free_port()))
        _reset_process_caches()
        db.migrate()
        yield get_settings()
        _reset_process_caches()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared(module_env: Settings) -> AsyncIterator[Shared]:
    with session_scope() as s:
        admin = Principal.of(make_user(s, Role.ADMIN))
        provider_id = ensure_local_echo_provider(s).id
    assert provider_id is not None
    controller = await start_fleet(module_env)
    holder = Shared(
        module_env, controller, BotsService(module_env, controller.bus, controller), admin, provider_id
    )
    try:
        yield holder
    finally:
        holder.controller.settings = dataclasses.replace(holder.settings, stop_gateways_on_exit=True)
        await holder.controller.stop()


async def until(check: Callable[[], Any], timeout: float = 90, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        await asyncio.sleep(0.5)


async def row(service: BotsService, actor: Principal, bot_id: int, name: str) -> ScheduleRow:
    view = await service.schedules(actor, bot_id)
    return next(r for r in view.rows if r.name == name)


async def test_a_short_interval_fires_and_pause_run_now_drift_and_delete_act_on_the_gateway(shared: Shared):
    service, admin = shared.service, shared.admin
    bot_id = await service.create_bot(admin, shared.bot_input("Ticker"))
    bot = await service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=180)
    link = shared.controller.links.connected(bot.gateway_id or 0)
    assert link is not None
    cron = CronApi(link.api)

    said = await service.save_schedule(
        admin, bot_id, ScheduleInput("Tick", "every", every="10s", message="REPLY WITH: tick")
    )
    assert said == "Schedule \u201cTick\u201d added."
    tick = await row(service, admin, bot_id, "Tick")
    assert (
        tick.managed
        and tick.state == IN_SYNC
        and tick.job_id
        and tick.next_run.startswith(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"))
    )
    view = await service.schedules(admin, bot_id)
    assert any(not r.managed for r in view.rows), "OpenClaw's own jobs (memory dreaming) are listed too"

    # It fires by itself; the run is in the history with its outcome and duration.
    runs = await until(lambda: service.schedule_runs(admin, bot_id, tick.job_id), 120, "a first run")
    assert runs[0].outcome == "ok" and runs[0].completion == "succeeded"
    assert runs[0].duration.endswith(" s") and "tick" in runs[0].detail

    # Paused on the gateway too; "run now" still runs it once.
    await service.pause_schedule(admin, tick.id, True)
    job = next(j for j in await cron.jobs() if j.id == tick.job_id)
    assert job.enabled is False
    assert (await row(service, admin, bot_id, "Tick")).next_run == "paused"
    before = len(await service.schedule_runs(admin, bot_id, tick.job_id))
    await service.run_schedule_now(admin, tick.id)
    await until(
        lambda: _more_runs(service, admin, bot_id, tick.job_id, before), 120, "the manual run in the history"
    )

    # Changed behind ClawNet's back: shown as drift; resolved either way.
    await link.client.call(
        "cron.update", {"id": tick.job_id, "patch": {"payload": {"kind": "agentTurn", "message": "other"}}}
    )
    drifted = await row(service, admin, bot_id, "Tick")
    assert drifted.drift and "message" in drifted.state
    await service.resolve_schedule_drift(admin, tick.id, "clawnet")
    assert (await row(service, admin, bot_id, "Tick")).state == IN_SYNC
    job = next(j for j in await cron.jobs() if j.id == tick.job_id)
    assert job.raw["payload"]["message"] == "REPLY WITH: tick"
    await link.client.call(
        "cron.update", {"id": tick.job_id, "patch": {"payload": {"kind": "agentTurn", "message": "theirs"}}}
    )
    await service.resolve_schedule_drift(admin, tick.id, "gateway")
    kept = await row(service, admin, bot_id, "Tick")
    assert kept.message == "theirs" and kept.state == IN_SYNC

    # A viewer reads but cannot change; the owner deletes it from the gateway as well.
    with session_scope() as s:
        viewer = Principal.of(make_user(s, Role.VIEWER))
        s.add(BotAssignment(user_id=viewer.user_id, bot_id=bot_id))
    assert [r.name for r in (await service.schedules(viewer, bot_id)).rows if r.managed] == ["Tick"]
    with pytest.raises(PermissionDenied):
        await service.delete_schedule(viewer, tick.id)
    await service.delete_schedule(admin, tick.id)
    assert tick.job_id not in {j.id for j in await cron.jobs()}
    with session_scope() as s:
        actions = s.exec(
            select(AuditEvent.action).where(col(AuditEvent.action).startswith("schedule."))
        ).all()
    assert {
        "schedule.create",
        "schedule.paused",
        "schedule.run",
        "schedule.reapply",
        "schedule.delete",
    } <= set(actions)


async def _more_runs(service: BotsService, actor: Principal, bot_id: int, job_id: str, count: int) -> bool:
    return len(await service.schedule_runs(actor, bot_id, job_id)) > count


async def test_a_schedule_survives_a_gateway_kill_and_a_clawnet_restart(shared: Shared):
    service, admin, first = shared.service, shared.admin, shared.controller
    bot_id = await service.create_bot(admin, shared.bot_input("Keeper"))
    await service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=180)
    await service.save_schedule(
        admin, bot_id, ScheduleInput("Daily", "cron", cron_expr="0 9 * * *", message="morning report")
    )
    job_id = (await row(service, admin, bot_id, "Daily")).job_id
    assert job_id

    pid = gateway_of(bot_id).pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    await until(lambda: (gateway_of(bot_id).pid or pid) != pid, 60, "a new gateway process")
    await service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=180)
    daily = await until(lambda: _connected_row(service, admin, bot_id), 60, "the gateway's jobs")
    assert (daily.job_id, daily.state) == (job_id, IN_SYNC)

    # ClawNet goes away leaving its gateway running (as after a crash); meanwhile someone removes
    # the job on the gateway. The next ClawNet on the same data folder adopts the gateway and
    # writes the schedule back.
    first.settings = dataclasses.replace(first.settings, stop_gateways_on_exit=False)
    await first.stop()
    gw = gateway_of(bot_id)
    conn = await GatewayConnection.open(f"ws://127.0.0.1:{gw.base_port}", GATEWAY_TOKEN.unseal(gw.token_enc))
    try:
        await conn.call("cron.remove", {"id": job_id})
        assert job_id not in {j.id for j in await CronApi(conn).jobs()}
    finally:
        await conn.close()

    pid = gateway_of(bot_id).pid
    second = shared.controller = await start_fleet(shared.settings)
    service = shared.service = BotsService(shared.settings, second.bus, second)
    second.kick()
    await service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=180)
    assert gateway_of(bot_id).pid == pid  # adopted, not restarted
    back = await until(lambda: _connected_row(service, admin, bot_id), 90, "the schedule back on the gateway")
    assert back.state == IN_SYNC and back.message == "morning report" and back.job_id != job_id
    assert back.next_run.endswith(")") and "09:00" in back.next_run


async def _connected_row(service: BotsService, actor: Principal, bot_id: int) -> ScheduleRow | None:
    found = await row(service, actor, bot_id, "Daily")
    return found if found.job_id else None
