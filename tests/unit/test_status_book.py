"""The status book says every change once, to every live view; and a reconcile pass that fails for
one gateway is not silent: it is logged and said on that gateway's status in plain words, and the
other gateways are still brought up to date."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from clawnet.controlplane.db_runner import DbRunner
from clawnet.controlplane.reconciler import Reconciler, ReconcilerDeps
from clawnet.controlplane.status import StatusBook
from clawnet.controlplane.tasks import TaskSet
from clawnet.db import session_scope
from clawnet.enums import GatewayKind, GatewayStatus
from clawnet.events import EventBus, Kind
from clawnet.models import Gateway


@pytest.fixture
async def book(migrated):
    runner = DbRunner(migrated.database_url)
    bus = EventBus()
    yield StatusBook(runner, bus), bus
    runner.shutdown()


def add_gateway(name: str) -> int:
    with session_scope() as s:
        gw = Gateway(name=name, kind=GatewayKind.LOCAL.value, token_enc="x", base_port=None)
        s.add(gw)
        s.flush()
        assert gw.id is not None
        return gw.id


def drained(sub) -> list[tuple[int | None, str, str]]:
    out = []
    while (event := sub.get_nowait()) is not None:
        out.append((event.gateway_id, event.payload["status"], event.payload["detail"]))
    return out


async def test_a_status_is_published_when_it_changes_and_when_announced(book):
    status, bus = book
    gid = add_gateway("one")
    with bus.subscribe([Kind.GATEWAY_STATUS]) as sub:
        await status.set_gateway(gid, GatewayStatus.STARTING, "starting")
        await status.set_gateway(gid, GatewayStatus.STARTING, "starting")  # unchanged: said once
        await status.set_gateway(gid, GatewayStatus.RUNNING, "")
        await status.set_gateway(gid, GatewayStatus.RUNNING, "adopted", announce=True)
        await status.set_gateway(gid, GatewayStatus.RUNNING, "adopted", announce=True)
        await asyncio.sleep(0)
        assert drained(sub) == [
            (gid, "starting", "starting"),
            (gid, "running", ""),
            (gid, "running", "adopted"),
            (gid, "running", "adopted"),
        ]


async def test_a_failed_pass_is_recorded_on_its_gateway_and_the_others_still_reconcile(
    book, migrated, caplog
):
    status, bus = book
    broken, healthy = add_gateway("broken"), add_gateway("healthy")
    reconciled: list[int] = []
    reconciler = Reconciler(
        ReconcilerDeps(
            settings=migrated,
            db=status.db,
            bus=bus,
            supervisor=SimpleNamespace(processes={}),  # type: ignore[arg-type]
            links=SimpleNamespace(ids=list),  # type: ignore[arg-type]
            status=status,
            restarts=SimpleNamespace(pending=lambda _g: False, schedule=lambda _g, _n: 1.0),  # type: ignore[arg-type]
            tasks=TaskSet(),
            kick=lambda: None,
            fail_turns=lambda _g, _r: None,
        )
    )

    async def reconcile_gateway(gateway_id: int, *, restart: bool = False) -> None:
        if gateway_id == broken:
            raise RuntimeError("the disk is full")
        reconciled.append(gateway_id)

    reconciler.reconcile_gateway = reconcile_gateway  # type: ignore[method-assign]
    with bus.subscribe([Kind.GATEWAY_STATUS]) as sub:
        await reconciler.reconcile_all()
        await asyncio.sleep(0)
        heard = drained(sub)
    assert reconciled == [healthy]
    with session_scope() as s:
        row = s.get(Gateway, broken)
        assert row is not None
        assert "the disk is full" in row.status_detail and "tries again" in row.status_detail
        assert "the disk is full" in row.last_error
    assert [(g, st) for g, st, _ in heard] == [(broken, row.actual_status)]
    assert any("reconciling failed" in r.message for r in caplog.records)
