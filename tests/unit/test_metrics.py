"""`/metrics`: off without a scrape token, refused with a missing or wrong one, and what it
returns parses with prometheus_client's own text parser; per-bot series are capped."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import select

from clawnet import db, metrics
from clawnet.api import build_api, request_timer
from clawnet.enums import BotStatus, Role, TurnStatus
from clawnet.metrics import fleet, scrape
from clawnet.models import (
    Alert,
    AlertDelivery,
    ApprovalRequest,
    Bot,
    BotPause,
    BotSession,
    Budget,
    ChatTurn,
    Gateway,
    GatewayMetric,
    utcnow,
)
from clawnet.settings import get_settings
from tests.factories import make_bot, make_user

TOKEN = "scrape-me-please-0123456789"


def seed(n_bots: int) -> None:
    with db.session_scope() as s:
        owner = make_user(s, Role.ADMIN)
        gw = Gateway(name="pool-1", token_enc="x", actual_status="running", restart_count=2)
        s.add(gw)
        s.flush()
        s.add(GatewayMetric(gateway_id=gw.id, rss_bytes=123_000_000, event_loop_delay_p99_ms=12.5))
        for i in range(n_bots):
            bot = make_bot(s, owner)
            bot.gateway_id = gw.id
            bot.actual_status = BotStatus.RUNNING.value if i % 2 == 0 else BotStatus.ERROR.value
            s.add(bot)
            s.flush()
            s.add(BotSession(bot_id=bot.id, key=f"k{i}", message_count=3, total_tokens=100, cost_usd=0.01))
            s.add(
                ChatTurn(
                    bot_id=bot.id, session_key="k", idempotency_key=f"i{i}", status=TurnStatus.DONE.value
                )
            )


@pytest.fixture
def app(migrated, monkeypatch):
    monkeypatch.setenv("CLAWNET_METRICS_TOKEN", TOKEN)
    get_settings.cache_clear()
    scrape._cached.read_at = 0.0  # no figures cached from another test's database
    return request_timer(build_api())


async def get(app, headers=None) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get("/metrics", headers=headers or {})


async def test_metrics_are_off_without_a_token(migrated, monkeypatch):
    monkeypatch.delenv("CLAWNET_METRICS_TOKEN", raising=False)
    get_settings.cache_clear()
    response = await get(build_api(), {"Authorization": "Bearer anything"})
    assert response.status_code == 404


async def test_a_missing_or_wrong_token_is_refused(app):
    assert (await get(app)).status_code == 401
    assert (await get(app, {"Authorization": "Bearer wrong"})).status_code == 401
    assert (await get(app, {"Authorization": f"Basic {TOKEN}"})).status_code == 401
    assert not metrics.token_accepted(f"Bearer {TOKEN}", "")


async def test_scrape_parses_and_has_the_fleet(app):
    seed(3)
    metrics.CHAT_TURN_SECONDS.labels(outcome="done").observe(1.5)
    await get(app, {"Authorization": f"Bearer {TOKEN}"})  # one timed request before
    response = await get(app, {"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    bots = {s.labels["status"]: s.value for s in families["clawnet_bots"].samples}
    assert bots["running"] == 2 and bots["error"] == 1
    assert {s.labels["status"]: s.value for s in families["clawnet_gateways"].samples}["running"] == 1
    up = families["clawnet_gateway_up"].samples[0]
    assert up.value == 1 and up.labels["name"] == "pool-1"
    assert families["clawnet_gateway_rss_bytes"].samples[0].value == 123_000_000
    assert families["clawnet_gateway_event_loop_delay_p99_seconds"].samples[0].value == pytest.approx(0.0125)
    assert families["clawnet_gateway_restarts"].samples[0].value == 2
    assert len(families["clawnet_bot_up"].samples) == 3
    assert sum(s.value for s in families["clawnet_bot_messages"].samples) == 9
    assert families["clawnet_fleet_cost_usd"].samples[0].value == pytest.approx(0.03)
    assert families["clawnet_chat_turn_seconds"].type == "histogram"
    web = [s for s in families["clawnet_web_request_seconds"].samples if s.name.endswith("_count")]
    assert any(s.labels["route"] == "/metrics" and s.labels["status"] == "2xx" for s in web)


async def test_per_bot_series_are_capped_into_other(migrated):
    seed(5)
    with db.session_scope() as s:
        snap = fleet.read_snapshot(s, max_bots=3)
    assert len(snap.bots) == 4 and "other" in snap.bots
    assert snap.bots["other"].messages == 6  # two bots summed
    assert sum(f.up for f in snap.bots.values()) == 3


async def test_other_domains_add_figures_through_the_hook(app):
    def figures(_session):
        yield GaugeMetricFamily("clawnet_test_hook_figure", "A figure from a hook.", value=7)

    def broken(_session):
        raise RuntimeError("boom")

    metrics.register_source("test-hook", figures)
    metrics.register_source("test-broken", broken)
    try:
        response = await get(app, {"Authorization": f"Bearer {TOKEN}"})
    finally:
        metrics.unregister_source("test-hook")
        metrics.unregister_source("test-broken")
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    assert families["clawnet_test_hook_figure"].samples[0].value == 7
    assert "clawnet_bots" in families


async def test_chat_turns_are_timed(migrated):
    from clawnet.controlplane.chat import ChatRouter, Turn
    from clawnet.controlplane.db_runner import DbRunner
    from clawnet.events import EventBus

    def count(name: str, **labels: str) -> float:
        return metrics.REGISTRY.get_sample_value(name, labels) or 0.0

    runner = DbRunner(migrated.database_url)
    try:
        router = ChatRouter(runner, EventBus(), links=None, tasks=None)  # type: ignore[arg-type]
        before = (
            count("clawnet_chat_turn_seconds_count", outcome="done"),
            count("clawnet_chat_first_reply_seconds_count"),
        )
        turn = Turn(
            turn_id=0, bot_id=1, gateway_id=1, session_key="k", idempotency_key="idem", run_id="run-1"
        )
        router._by_key["run-1"] = turn
        router.on_chat_event(1, {"runId": "run-1", "state": "delta", "deltaText": "Hel"})
        router.on_chat_event(1, {"runId": "run-1", "state": "delta", "deltaText": "lo"})
        router.on_chat_event(1, {"runId": "run-1", "state": "final", "message": {}})
        await turn.result(timeout=10)
        after = (
            count("clawnet_chat_turn_seconds_count", outcome="done"),
            count("clawnet_chat_first_reply_seconds_count"),
        )
        assert after == (before[0] + 1, before[1] + 1)  # the first reply is timed once
    finally:
        runner.shutdown()


async def test_budgets_pauses_alerts_and_approvals_are_figures(app):
    seed(3)
    with db.session_scope() as s:
        bots = s.exec(select(Bot)).all()
        owner_id = bots[0].owner_id
        s.add(BotPause(bot_id=bots[0].id, reason="budget"))
        s.add(BotPause(bot_id=bots[1].id, reason="kill_switch"))
        s.add(BotPause(bot_id=bots[2].id, reason="none"))
        s.add(
            Budget(
                scope="bot",
                bot_id=bots[0].id,
                owner_id=owner_id,
                period="day",
                metric="cost",
                limit_amount=1,
                last_threshold=100,
            )
        )
        s.add(Budget(scope="owner", owner_id=owner_id, period="month", metric="tokens", limit_amount=9))
        alert = Alert(owner_id=owner_id, rule="gateway_down", subject="gateway:1", title="down")
        s.add(alert)
        s.add(Alert(owner_id=owner_id, rule="budget", subject="b", title="t", state="resolved"))
        s.flush()
        s.add(AlertDelivery(alert_id=alert.id, route="webhook", event="opened", ok=True))
        s.add(
            ApprovalRequest(
                bot_id=bots[0].id,
                kind="exec",
                approval_id="a1",
                gateway_id=bots[0].gateway_id,
                requested_at=utcnow(),
            )
        )
    response = await get(app, {"Authorization": f"Bearer {TOKEN}"})
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    paused = {s.labels["reason"]: s.value for s in families["clawnet_bots_paused"].samples}
    assert paused == {"budget": 1, "kill_switch": 1}
    budgets = {
        (s.labels["scope"], s.labels["threshold"]): s.value for s in families["clawnet_budgets"].samples
    }
    assert budgets == {("bot", "100"): 1, ("owner", "0"): 1}
    live = [(s.labels["rule"], s.value) for s in families["clawnet_alerts_live"].samples]
    assert live == [("gateway_down", 1)]  # the resolved one is not live
    opened = {s.labels["rule"]: s.value for s in families["clawnet_alerts_opened_last_day"].samples}
    assert opened == {"gateway_down": 1, "budget": 1}
    sent = [
        (s.labels["route"], s.labels["ok"], s.value)
        for s in families["clawnet_alert_deliveries_last_day"].samples
    ]
    assert sent == [("webhook", "true", 1)]
    pending = {s.labels["kind"]: s.value for s in families["clawnet_approvals_pending"].samples}
    assert pending == {"exec": 1, "plugin": 0}
