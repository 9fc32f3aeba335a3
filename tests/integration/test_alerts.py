"""Alerts from a real fault: a gateway killed with SIGKILL opens a "gateway down" alert, whose
email reaches an SMTP server on loopback and whose webhook arrives signed; the alert resolves when
the gateway is back. A budget event (published here as the budgets publish it) opens and resolves
a budget alert."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from clawnet.bots.alerts import AlertSettingsInput
from clawnet.bots.service import BotsService
from clawnet.controlplane.controller import FleetController
from clawnet.db import session_scope
from clawnet.enums import BotStatus
from clawnet.events import Kind
from clawnet.models import Bot, Gateway
from clawnet.security.permissions import Principal
from clawnet.settings import get_settings
from tests.integration.conftest import FleetData, start_fleet
from tests.support.alert_sinks import SmtpSink, WebhookSink

pytestmark = pytest.mark.gateway


@dataclass
class AlertFleet:
    controller: FleetController
    service: BotsService
    owner: Principal
    data: FleetData
    smtp: SmtpSink
    webhook: WebhookSink


@pytest.fixture
async def alert_fleet(fleet_env, fleet_admin: FleetData, monkeypatch) -> AsyncIterator[AlertFleet]:
    with SmtpSink() as smtp, WebhookSink() as webhook:
        monkeypatch.setenv("CLAWNET_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("CLAWNET_SMTP_PORT", str(smtp.port))
        monkeypatch.setenv("CLAWNET_SMTP_FROM", "alerts@clawnet.test")
        monkeypatch.setenv("CLAWNET_ALERT_CHECK_S", "2")
        monkeypatch.setenv("CLAWNET_ALERT_WEBHOOK_ALLOW_PRIVATE", "1")  # the webhook sink is on loopback
        get_settings.cache_clear()
        settings = get_settings()
        controller = await start_fleet(settings)
        try:
            yield AlertFleet(
                controller,
                BotsService(settings, controller.bus, controller),
                fleet_admin.admin,
                fleet_admin,
                smtp,
                webhook,
            )
        finally:
            await controller.stop()


async def configure(f: AlertFleet, **rules: str) -> None:
    view = await f.service.alert_settings(f.owner)
    form = AlertSettingsInput(
        rules={r.name: (r.enabled, rules.get(r.name, r.threshold)) for r in view.rules},
        email_enabled=True,
        email_to="",
        webhook_url=f.webhook.url + "/hook",
        bot_message_enabled=False,
        bot_message_bot_id=None,
        bot_message_channel="telegram",
        bot_message_to="",
        quiet_start="00:00",
        quiet_end="00:00",
        cooldown_min="0",
    )
    await f.service.save_alert_settings(f.owner, form)
    f.webhook.secret = await f.service.rotate_webhook_secret(f.owner)


async def until(check, timeout: float = 120.0, every: float = 0.5):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        if result := await check():
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(every)


async def test_a_killed_gateway_alerts_by_email_and_signed_webhook_then_resolves(alert_fleet: AlertFleet):
    f = alert_fleet
    bot_id = await f.service.create_bot(f.owner, f.data.bot_input("Watched"))
    await f.service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=180)
    await configure(f, gateway_down="0")
    with session_scope() as s:
        bot = s.get(Bot, bot_id)
        gw = s.get(Gateway, bot.gateway_id)
        pid, gateway_name = gw.pid, gw.name
    assert pid is not None

    os.kill(pid, signal.SIGKILL)
    (mail,) = await asyncio.to_thread(f.smtp.wait_for, 1, 120)
    assert mail["To"] == f.owner.email and f"Gateway {gateway_name} is down" in mail["Subject"]
    (hook,) = await asyncio.to_thread(f.webhook.wait_for, 1, 60)
    assert f.webhook.signed(hook)
    body = hook.json()
    assert body["event"] == "alert.opened" and body["alert"]["rule"] == "gateway_down"
    opened = await f.service.open_alerts(f.owner)
    assert [(a.rule, a.urgent) for a in opened] == [("gateway_down", True)]

    await f.service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=180)
    await until(lambda: _none_open(f))
    history = await f.service.alert_history(f.owner)
    assert history[0].id == opened[0].id and history[0].resolved_at is not None
    hooks = await asyncio.to_thread(f.webhook.wait_for, 2, 60)  # the resolution is delivered too
    assert hooks[1].json()["event"] == "alert.resolved" and f.webhook.signed(hooks[1])

    # Budgets publish this event; an alert opens at 80% and resolves when usage is back under.
    budget = {
        "owner_id": f.owner.user_id,
        "bot_id": bot_id,
        "period": "day",
        "metric": "cost",
        "threshold": 80,
        "used": 0.8,
        "limit": 1.0,
    }
    f.controller.bus.publish(Kind.BUDGET, budget, bot_id=bot_id)
    (alert,) = await until(lambda: _open_of(f, "budget"))
    assert "80% of the daily cost budget" in alert.title and not alert.urgent
    f.controller.bus.publish(Kind.BUDGET, {**budget, "threshold": 100, "used": 1.0}, bot_id=bot_id)
    await until(lambda: _open_of(f, "budget", 2))
    # The limit was raised: back at 80%, the 100% alert resolves and the 80% one stays.
    f.controller.bus.publish(Kind.BUDGET, {**budget, "used": 1.0, "limit": 1.2}, bot_id=bot_id)
    (still,) = await until(lambda: _open_of(f, "budget", 1))
    assert still.id == alert.id
    f.controller.bus.publish(Kind.BUDGET, {**budget, "threshold": 0, "used": 0.1}, bot_id=bot_id)
    await until(lambda: _none_open(f))


async def _none_open(f: AlertFleet) -> bool:
    return not await f.service.open_alerts(f.owner)


async def _open_of(f: AlertFleet, rule: str, count: int | None = None):
    """The open alerts of `rule` (falsy until there are `count` of them, when given)."""
    rows = [a for a in await f.service.open_alerts(f.owner) if a.rule == rule]
    return rows if count is None or len(rows) == count else []
