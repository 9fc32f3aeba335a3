"""Budgets and the kill switch on a real gateway: a priced model (the fake LLM reports token
usage, OpenClaw prices it from the provider's cost), OpenClaw's Telegram channel against the fake
Bot API. Crossing 80% publishes a warning; 100% pauses the bot (its agent moves to ClawNet's
paused model by a hot config change: the next channel message gets the pause reply and no
request reaches the fake LLM); a raised limit resumes it; the kill switch pauses and resumes a
pool (a turn already running finishes on its model), all with the gateway's process unchanged."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from sqlmodel import col, select

from clawnet.bots.alerts import AlertSettingsInput
from clawnet.bots.forms import BotInput, ChannelInput
from clawnet.bots.service import BotsService
from clawnet.controlplane.budget_rules import recorded_usage
from clawnet.controlplane.echo_llm import FakeLLM
from clawnet.db import session_scope
from clawnet.enums import BotStatus, ProviderKind
from clawnet.events import Kind
from clawnet.models import Bot, BotPause, Gateway, ModelProvider, TranscriptMessage, utcnow
from clawnet.security.secret_fields import PROVIDER_API_KEY
from clawnet.settings import get_settings
from tests.integration.conftest import FleetData, start_fleet
from tests.integration.test_routing import ALICE, TOKEN_A, connected, reply_to
from tests.support.alert_sinks import SmtpSink, WebhookSink
from tests.support.fake_telegram import FakeTelegram

pytestmark = pytest.mark.gateway
PAUSE_TEXT = "Budget reached for today, back soon."


@pytest.fixture
def telegram(fleet_env, monkeypatch):
    with FakeTelegram() as fake:
        monkeypatch.setenv("CLAWNET_TELEGRAM_API_ROOT", fake.api_root)
        get_settings.cache_clear()
        fake.add_bot(TOKEN_A, "spender_bot")
        yield fake


@pytest.fixture
def sinks(fleet_env, monkeypatch):
    """Where the owner's alerts land: SMTP and a webhook receiver on loopback."""
    with SmtpSink() as smtp, WebhookSink() as webhook:
        monkeypatch.setenv("CLAWNET_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("CLAWNET_SMTP_PORT", str(smtp.port))
        monkeypatch.setenv("CLAWNET_SMTP_FROM", "alerts@clawnet.test")
        monkeypatch.setenv("CLAWNET_ALERT_WEBHOOK_ALLOW_PRIVATE", "1")
        get_settings.cache_clear()
        yield smtp, webhook


async def alerts_by_email_and_webhook(service: BotsService, owner, webhook: WebhookSink) -> None:
    view = await service.alert_settings(owner)
    form = AlertSettingsInput(
        rules={r.name: (r.enabled, r.threshold) for r in view.rules},
        email_enabled=True,
        email_to="",
        webhook_url=webhook.url + "/hook",
        bot_message_enabled=False,
        bot_message_bot_id=None,
        bot_message_channel="telegram",
        bot_message_to="",
        quiet_start="00:00",
        quiet_end="00:00",
        cooldown_min="15",
    )
    await service.save_alert_settings(owner, form)
    webhook.secret = await service.rotate_webhook_secret(owner)


def budget_mail(smtp: SmtpSink, percent: int) -> list[str]:
    return [
        str(m["Subject"])
        for m in smtp.messages
        if f"{percent}% of the daily cost budget" in str(m["Subject"])
    ]


def budget_hooks(webhook: WebhookSink, percent: int) -> list[Any]:
    out = []
    for r in list(webhook.requests):
        body = r.json()
        if body.get("alert", {}).get("rule") == "budget" and f"{percent}%" in body["alert"].get("title", ""):
            out.append(r)
    return out


def priced_provider(base_url: str) -> int:
    with session_scope() as s:
        provider = ModelProvider(
            name="priced",
            display_name="Priced",
            kind=ProviderKind.OPENAI_COMPATIBLE.value,
            base_url=base_url,
            models=[{"id": "priced-1", "name": "Priced", "cost_input": 50.0, "cost_output": 100.0}],
        )
        provider.api_key_enc = PROVIDER_API_KEY.seal("test-key")
        s.add(provider)
        s.flush()
        assert provider.id is not None
        return provider.id


def spent_today(bot_id: int) -> float:
    with session_scope() as s:
        start = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
        return recorded_usage(s, [bot_id], start)[0]


async def until(check: Any, what: str, timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        await asyncio.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def gateway_state(bot_id: int) -> tuple[int | None, dict[str, Any], bool]:
    """(pid, applied agents, applied == desired) of the bot's gateway."""
    with session_scope() as s:
        gw = s.get(Gateway, s.get(Bot, bot_id).gateway_id)
        agents = ((gw.applied_config or {}).get("agents") or {}).get("entries") or {}
        return (
            gw.pid,
            agents,
            bool(gw.applied_config_hash and gw.applied_config_hash == gw.desired_config_hash),
        )


def agent_model(bot_id: int) -> str:
    with session_scope() as s:
        agent_id = s.get(Bot, bot_id).agent_id
    _pid, agents, _synced = gateway_state(bot_id)
    return str(((agents.get(agent_id) or {}).get("model") or {}).get("primary") or "")


async def applied_model(bot_id: int, paused: bool) -> None:
    def ok() -> bool:
        _pid, _agents, synced = gateway_state(bot_id)
        return synced and agent_model(bot_id).startswith("clawnet-paused/") == paused

    await until(ok, f"the gateway to apply paused={paused}")


def thresholds(sub) -> list[int]:
    out = []
    while (event := sub.get_nowait()) is not None:
        out.append(event.payload["threshold"])
    return out


async def test_budget_pauses_and_resumes_and_the_kill_switch_flips_a_pool(
    telegram, sinks, fleet_admin: FleetData
):
    smtp, webhook = sinks
    llm = await FakeLLM().start()
    provider_id = priced_provider(llm.base_url)
    controller = await start_fleet(get_settings())
    controller.channel_settle_s = 3
    service = BotsService(get_settings(), controller.bus, controller)
    admin = fleet_admin.admin
    budget_events = controller.bus.subscribe([Kind.BUDGET])
    try:
        channel = ChannelInput("telegram", {"botToken": TOKEN_A}, "open")
        spender = await service.create_bot(
            admin, BotInput(name="Spender", provider_id=provider_id, model_id="priced-1", channels=[channel])
        )
        quiet = await service.create_bot(
            admin, BotInput(name="Quiet", provider_id=provider_id, model_id="priced-1")
        )
        for bot_id in (spender, quiet):
            await service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=180)
        await connected(spender)
        pid, _agents, _ = gateway_state(spender)

        assert await reply_to(telegram, TOKEN_A, ALICE, "REPLY WITH: one") == "one"
        first = await until(lambda: spent_today(spender), "the first turn's cost")
        # Limit at 2.2 turns: the second turn crosses 80%, the third 100%.
        view = await service.save_bot_budgets(
            admin, spender, {"day_cost": f"{first * 2.2:.6f}", "reply": PAUSE_TEXT}
        )
        assert view.rows[0].limit and thresholds(budget_events) == []
        await alerts_by_email_and_webhook(service, admin, webhook)

        assert await reply_to(telegram, TOKEN_A, ALICE, "REPLY WITH: two") == "two"
        await until(lambda: thresholds(budget_events) == [80], "the 80% warning")
        # The owner is warned in the app, by email and by a signed webhook.
        await until(lambda: budget_mail(smtp, 80), "the 80% email")
        (hook,) = await until(lambda: budget_hooks(webhook, 80), "the 80% webhook")
        assert webhook.signed(hook)
        opened = await service.open_alerts(admin)
        assert any(a.rule == "budget" and "80%" in a.title for a in opened)
        assert await reply_to(telegram, TOKEN_A, ALICE, "REPLY WITH: three") == "three"
        await until(lambda: thresholds(budget_events) == [100], "the 100% crossing")
        with session_scope() as s:
            assert s.get(BotPause, spender).reason == "budget"
        await applied_model(spender, paused=True)
        asked = len(llm.requests)
        assert await reply_to(telegram, TOKEN_A, ALICE, "REPLY WITH: four") == PAUSE_TEXT
        assert len(llm.requests) == asked  # no model call
        assert (await service.bot_budgets(admin, spender)).paused == "Paused: budget"
        await until(lambda: budget_mail(smtp, 100), "the 100% email (urgent: no cooldown)")

        await service.save_bot_budgets(
            admin, spender, {"day_cost": f"{first * 100:.6f}", "reply": PAUSE_TEXT}
        )
        assert thresholds(budget_events) == [0]
        await applied_model(spender, paused=False)
        assert await reply_to(telegram, TOKEN_A, ALICE, "REPLY WITH: five") == "five"
        assert len(llm.requests) > asked

        # The kill switch: every bot of the fleet, one hot change, then back. A turn already
        # talking to the model when it flips finishes on that model.
        sent = telegram.bots[TOKEN_A].sent
        count, asked = len(sent), len(llm.requests)
        telegram.push_message(TOKEN_A, chat_id=ALICE, from_id=ALICE, text="DELAY MS: 5000\nREPLY WITH: slow")
        await until(lambda: len(llm.requests) > asked, "the slow turn to reach the model")
        assert await service.kill_switch(admin, True, fleet=True) == 2
        await applied_model(spender, paused=True)
        await until(lambda: [m["text"] for m in sent[count:]], "the slow turn's answer")
        assert [m["text"] for m in sent[count:]] == ["slow"]
        assert agent_model(quiet).startswith("clawnet-paused/")
        asked = len(llm.requests)
        assert await reply_to(telegram, TOKEN_A, ALICE, "REPLY WITH: six") == PAUSE_TEXT
        assert len(llm.requests) == asked
        assert await service.kill_switch(admin, False, fleet=True) == 2
        await applied_model(spender, paused=False)  # back on the priced model (answers: see "five")
        assert agent_model(quiet) == "priced/priced-1"
        assert gateway_state(spender)[0] == pid  # never restarted

        # The gateway's own figures (usage.cost) are fetched and kept next to ClawNet's.
        await controller.budgets.refresh_gateway_usage()
        with session_scope() as s:
            assert s.get(BotPause, spender).gateway_usage_at is not None
            assert s.exec(select(TranscriptMessage).where(col(TranscriptMessage.cost_usd) > 0)).first()
    finally:
        budget_events.close()
        await controller.stop()
        await llm.stop()
