"""Alerts without a gateway: rules and their overrides, quiet hours, cooldown, the webhook's
signature and its retries with backoff (against a receiver on loopback), the mail service against
an SMTP server on loopback, and the monitor opening, holding and resolving alert rows."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from clawnet.bots.alerts import AlertSettingsInput
from clawnet.bots.service import BotsService
from clawnet.controlplane.alert_delivery import post_webhook, sign, verify, webhook_url_problem
from clawnet.controlplane.alert_rules import cooldown_over, effective_rules, in_quiet_hours
from clawnet.controlplane.alerts import AlertMonitor
from clawnet.controlplane.db_runner import DbRunner
from clawnet.controlplane.tasks import TaskSet
from clawnet.db import session_scope
from clawnet.enums import GatewayKind, GatewayStatus, Role
from clawnet.errors import NotFound, UserError
from clawnet.events import EventBus, Kind
from clawnet.mail import MailError, MailNotConfigured, MailService
from clawnet.models import AccessRequest, Alert, AlertDelivery, AlertSettings, Bot, Gateway
from clawnet.security.permissions import Principal
from clawnet.settings import load_settings
from tests.factories import make_bot, make_user
from tests.support.alert_sinks import SmtpSink, WebhookSink
from tests.support.fake_http import closed_port_url


def test_rules_take_the_owners_overrides_over_the_defaults():
    rules = effective_rules(
        {
            "gateway_down": {"threshold": 5},
            "crash_loop": {"enabled": False},
            "error_rate": {"threshold": "bad"},
        }
    )
    assert rules["gateway_down"].threshold == 5 and rules["gateway_down"].enabled
    assert not rules["crash_loop"].enabled
    assert rules["error_rate"].threshold == 50  # a bad value falls back to the default
    assert rules["access_waiting"].threshold == 30


def test_quiet_hours_wrap_midnight_and_cooldown_counts_from_the_last_delivery():
    at = lambda h, m=0: datetime(2026, 1, 1, h, m, tzinfo=UTC)  # noqa: E731
    assert in_quiet_hours(at(23), 22 * 60, 7 * 60) and in_quiet_hours(at(6, 59), 22 * 60, 7 * 60)
    assert not in_quiet_hours(at(7), 22 * 60, 7 * 60) and not in_quiet_hours(at(12), 22 * 60, 7 * 60)
    assert in_quiet_hours(at(13), 12 * 60, 14 * 60) and not in_quiet_hours(at(14), 12 * 60, 14 * 60)
    assert not in_quiet_hours(at(3), 0, 0)  # equal: no quiet hours
    assert cooldown_over(None, at(1), 900)
    assert not cooldown_over(at(1), at(1, 10), 900) and cooldown_over(at(1), at(1, 15), 900)


def test_the_webhook_signature_is_hmac_sha256_over_timestamp_and_body():
    import hashlib
    import hmac

    body = b'{"a":1}'
    expected = hmac.new(b"s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign("s3cret", "1700000000", body) == "sha256=" + expected
    assert verify("s3cret", "1700000000", body, "sha256=" + expected)
    assert not verify("s3cret", "1700000001", body, "sha256=" + expected)
    assert not verify("other", "1700000000", body, "sha256=" + expected)


async def test_a_failing_webhook_is_retried_with_growing_waits_and_a_refusal_is_not():
    with WebhookSink("k", statuses=[500, 503, 200]) as sink:
        attempts = await post_webhook(sink.url + "/hook", "k", {"x": 1}, delays_s=(0.2, 0.6, 5))
        assert [(a.attempt, a.ok, a.outcome) for a in attempts] == [
            (1, False, "HTTP 500"),
            (2, False, "HTTP 503"),
            (3, True, "HTTP 200"),
        ]
        gaps = [b - a for a, b in zip(sink.arrived_at, sink.arrived_at[1:], strict=False)]
        assert gaps[0] >= 0.2 and gaps[1] >= 0.6  # backoff: each wait longer than the one before
        assert all(sink.signed(r) for r in sink.requests)
        assert sink.requests[0].json() == {"x": 1}
    with WebhookSink("k", statuses=[400]) as sink:
        attempts = await post_webhook(sink.url, "k", {}, delays_s=(0.01, 0.01))
        assert [a.outcome for a in attempts] == ["HTTP 400"]  # a refusal is final
    attempts = await post_webhook(closed_port_url(), "k", {}, delays_s=(0.01, 0.02))
    assert len(attempts) == 3 and not any(a.ok for a in attempts)


async def test_mail_goes_to_an_smtp_server_and_not_configured_is_a_state(clawnet_env):
    assert not MailService(clawnet_env).configured
    with pytest.raises(MailNotConfigured):
        await MailService(clawnet_env).send("a@example.com", "s", "t")
    with SmtpSink() as smtp:
        settings = load_settings(
            {
                "CLAWNET_DATA_DIR": str(clawnet_env.data_dir),
                "CLAWNET_SMTP_HOST": "127.0.0.1",
                "CLAWNET_SMTP_PORT": str(smtp.port),
                "CLAWNET_SMTP_FROM": "ops@clawnet.test",
            }
        )
        await MailService(settings).send("owner@example.com", "Hello\nthere", "Body text")
        (msg,) = smtp.wait_for(1, timeout=10)
        assert msg["To"] == "owner@example.com" and msg["From"] == "ops@clawnet.test"
        assert msg["Subject"] == "Hello there" and "Body text" in msg.get_payload()
    down = replace(settings, smtp_port=int(closed_port_url().rsplit(":", 1)[1]))
    with pytest.raises(MailError, match="could not be reached"):
        await MailService(down, retry_delays_s=(0.01, 0.01)).send("owner@example.com", "s", "t")


@pytest.fixture
async def monitor(migrated):
    runner = DbRunner(migrated.database_url)
    bus = EventBus()
    tasks = TaskSet()
    m = AlertMonitor(migrated, runner, bus, links=None, tasks=tasks)  # type: ignore[arg-type]
    yield m
    tasks.cancel_all()
    runner.shutdown()


def owner_with_gateway(status: GatewayStatus) -> tuple[int, int]:
    with session_scope() as s:
        owner = make_user(s, Role.OPERATOR)
        gw = Gateway(name="pool-1", kind=GatewayKind.LOCAL.value, token_enc="x", actual_status=status.value)
        s.add(gw)
        s.flush()
        bot = make_bot(s, owner)
        bot.gateway_id = gw.id
        s.add(AlertSettings(owner_id=owner.id, rules={"gateway_down": {"threshold": 0}}, email_enabled=False))
        return owner.id, gw.id  # type: ignore[return-value]


def set_status(gateway_id: int, status: GatewayStatus) -> None:
    with session_scope() as s:
        gw = s.get(Gateway, gateway_id)
        gw.actual_status = status.value
        s.add(gw)


def alerts_of(owner_id: int) -> list[Alert]:
    with session_scope() as s:
        return list(s.exec(select(Alert).where(Alert.owner_id == owner_id).order_by(Alert.id)).all())


async def test_a_down_gateway_opens_an_alert_that_resolves_when_it_is_back(monitor):
    owner, gw = owner_with_gateway(GatewayStatus.RESTARTING)
    with monitor.bus.subscribe([Kind.ALERT]) as events:
        await monitor.evaluate()
        opened = await events.get(timeout=5)
        assert opened.payload == {
            "owner_id": owner,
            "alert_id": opened.payload["alert_id"],
            "state": "open",
            "open_count": 1,
        }
        await monitor.evaluate()  # still down: still one alert
        assert [(a.rule, a.state) for a in alerts_of(owner)] == [("gateway_down", "open")]
        set_status(gw, GatewayStatus.RUNNING)
        await monitor.evaluate()
        resolved = await events.get(timeout=5)
        assert resolved.payload["state"] == "resolved" and resolved.payload["open_count"] == 0
    (alert,) = alerts_of(owner)
    assert alert.state == "resolved" and alert.resolved_at is not None and alert.urgent


async def test_quiet_hours_hold_non_urgent_deliveries_and_cooldown_spares_the_owner(monitor, migrated):
    with session_scope() as s:
        owner = make_user(s, Role.OPERATOR)
        now = datetime.now(UTC)
        minute = now.hour * 60 + now.minute
        s.add(
            AlertSettings(
                owner_id=owner.id,
                email_enabled=True,
                quiet_start_min=minute,
                quiet_end_min=(minute + 120) % 1440,
            )
        )
        owner_id = owner.id
    budget = {
        "owner_id": owner_id,
        "bot_id": None,
        "period": "day",  # as the budget enforcer publishes it
        "metric": "cost",
        "threshold": 80,
        "used": 8,
        "limit": 10,
    }
    await monitor.on_budget(monitor.bus.publish(Kind.BUDGET, budget))
    (alert,) = alerts_of(owner_id)
    assert alert.title == "All your bots: 80% of the daily cost budget used"
    # Opening an alert delivers it in the background: non-urgent, in quiet hours, it is held.
    await _until(lambda s: s.get(Alert, alert.id).held)
    with session_scope() as s:
        s.exec(select(AlertSettings).where(AlertSettings.owner_id == owner_id)).one().quiet_end_min = (
            s.exec(select(AlertSettings).where(AlertSettings.owner_id == owner_id)).one().quiet_start_min
        )
    await monitor.evaluate()  # quiet hours over: released (mail is not configured here: recorded)
    await _until(lambda s: any("not configured" in o for o in _outcomes(s, alert.id)))  # the email attempt
    with session_scope() as s:
        assert _outcomes(s, alert.id)[0] == "held: quiet hours"
    # 100% is urgent: it goes out though the cooldown (15 minutes by default) is running.
    await monitor.on_budget(monitor.bus.publish(Kind.BUDGET, {**budget, "threshold": 100, "used": 10}))
    full = alerts_of(owner_id)[-1]
    assert full.urgent and full.title == "All your bots: 100% of the daily cost budget used"
    await _until(lambda s: _outcomes(s, full.id))
    with session_scope() as s:
        assert "cooldown" not in _outcomes(s, full.id) and s.get(Alert, full.id).notified_at is not None
    # The limit was raised: back to 80% resolves the 100% alert and keeps the 80% one.
    await monitor.on_budget(monitor.bus.publish(Kind.BUDGET, {**budget, "period": "day", "used": 8.5}))
    assert [(a.id, a.state) for a in alerts_of(owner_id)] == [(alert.id, "open"), (full.id, "resolved")]
    await monitor.on_budget(monitor.bus.publish(Kind.BUDGET, {**budget, "threshold": 0, "used": 1}))
    assert {a.state for a in alerts_of(owner_id)} == {"resolved"}
    # The same non-urgent alert again within the cooldown is recorded, not sent.
    await monitor.on_budget(monitor.bus.publish(Kind.BUDGET, budget))
    again = alerts_of(owner_id)[-1]
    assert again.subject == alert.subject and again.state == "open"
    await _until(lambda s: _outcomes(s, again.id))
    await asyncio.sleep(0.3)  # anything else it would send has been recorded by now
    with session_scope() as s:
        assert _outcomes(s, again.id) == ["cooldown"] and s.get(Alert, again.id).notified_at is None
    # Monthly budgets read as such.
    await monitor.on_budget(monitor.bus.publish(Kind.BUDGET, {**budget, "period": "month"}))
    assert alerts_of(owner_id)[-1].title == "All your bots: 80% of the monthly cost budget used"


def _outcomes(s, alert_id: int) -> list[str]:
    rows = s.exec(select(AlertDelivery).where(AlertDelivery.alert_id == alert_id).order_by(AlertDelivery.id))
    return [d.outcome for d in rows]


async def _until(check, timeout_s: float = 10.0):
    """Wait until `check(session)` is true (the monitor delivers on a background task)."""
    for _ in range(int(timeout_s / 0.05)):
        with session_scope() as s:
            if check(s):
                return
        await asyncio.sleep(0.05)
    raise AssertionError("the monitor did not get there in time")


def _note(alert: Alert):
    from clawnet.controlplane.alerts import AlertNote

    return AlertNote.of(alert)


async def test_owners_see_and_acknowledge_only_their_alerts_and_settings_are_checked(migrated):
    service = BotsService(migrated, EventBus())
    with session_scope() as s:
        me, other = make_user(s, Role.OPERATOR), make_user(s, Role.OPERATOR)
        mine = Alert(owner_id=me.id, rule="crash_loop", subject="gateway:1", title="t", urgent=True)
        theirs = Alert(owner_id=other.id, rule="crash_loop", subject="gateway:1", title="t")
        s.add(mine)
        s.add(theirs)
        s.flush()
        p_me, mine_id, theirs_id = Principal.of(me), mine.id, theirs.id
    assert [a.id for a in await service.open_alerts(p_me)] == [mine_id]
    assert await service.alert_count(p_me) == 1
    with pytest.raises(NotFound):
        await service.acknowledge_alert(p_me, theirs_id)
    await service.acknowledge_alert(p_me, mine_id)
    assert (await service.open_alerts(p_me))[0].state == "acknowledged"
    view = await service.alert_settings(p_me)
    form = AlertSettingsInput(
        rules={r.name: (r.enabled, "abc" if r.name == "gateway_down" else r.threshold) for r in view.rules},
        email_enabled=True,
        email_to="nope",
        webhook_url="ftp://x",
        bot_message_enabled=True,
        bot_message_bot_id=None,
        bot_message_channel="telegram",
        bot_message_to="",
        quiet_start="25:00",
        quiet_end="07:00",
        cooldown_min="x",
    )
    with pytest.raises(UserError) as err:
        await service.save_alert_settings(p_me, form)
    assert set(err.value.field_errors) == {
        "rule_gateway_down",
        "email_to",
        "webhook_url",
        "bot_message_bot_id",
        "bot_message_to",
        "quiet_start",
        "cooldown_min",
    }
    good = replace(
        form,
        rules={**form.rules, "gateway_down": (True, "15")},
        email_to="",
        bot_message_enabled=False,
        webhook_url="https://hooks.example/x",
        quiet_start="22:00",
        cooldown_min="5",
    )
    await service.save_alert_settings(p_me, good)
    secret = await service.rotate_webhook_secret(p_me)
    view = await service.alert_settings(p_me)
    assert view.webhook_has_secret and secret.startswith("whsec_") and view.cooldown_min == 5
    assert view.quiet_start == "22:00" and [r.threshold for r in view.rules if r.name == "gateway_down"] == [
        "15"
    ]
    assert secret not in repr(view)


class _Caller:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []

    async def call(self, method: str, params: dict, timeout: float = 30) -> dict:
        self.calls.append((method, params))
        return {"messageId": "m1", "channel": params["channel"]}


async def test_the_owners_bot_messages_the_owner_through_the_gateways_send(monitor):
    from types import SimpleNamespace

    owner_id, gw = owner_with_gateway(GatewayStatus.RUNNING)
    with session_scope() as s:
        bot = s.exec(select(Bot).where(Bot.owner_id == owner_id)).one()
        prefs = s.exec(select(AlertSettings).where(AlertSettings.owner_id == owner_id)).one()
        prefs.bot_message_enabled, prefs.bot_message_bot_id = True, bot.id
        prefs.bot_message_channel, prefs.bot_message_to = "telegram", "777"
        s.add(
            Alert(
                owner_id=owner_id,
                rule="crash_loop",
                subject=f"gateway:{gw}",
                title="Pool is in a crash loop",
                urgent=True,
            )
        )
        agent_id = bot.agent_id
    caller = _Caller()
    monitor.links = SimpleNamespace(connected=lambda _gid: SimpleNamespace(api=caller))
    (alert,) = alerts_of(owner_id)
    await monitor.deliver(_note(alert), "opened")
    ((method, params),) = caller.calls
    assert method == "send" and params["to"] == "777" and params["channel"] == "telegram"
    assert params["agentId"] == agent_id and "Pool is in a crash loop" in params["message"]
    with session_scope() as s:
        (d,) = s.exec(select(AlertDelivery).where(AlertDelivery.alert_id == alert.id)).all()
    assert (d.route, d.ok) == ("bot", True)


async def test_a_webhook_may_not_point_at_an_internal_address_unless_allowed():
    for url in (
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "https://10.1.2.3/x",
        "http://192.168.0.10/x",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://[fe80::1]/x",
        "http://0.0.0.0/x",
        "http://224.0.0.1/x",
        "http://100.64.0.1/x",
    ):
        problem = await webhook_url_problem(url, allow_private=False)
        assert problem and "internal address" in problem, url
        assert await webhook_url_problem(url, allow_private=True) is None, url
    for url in ("ftp://example.com/x", "file:///etc/passwd", "http:///x", "http://host:99999/x"):
        assert await webhook_url_problem(url, allow_private=True) == "An http(s) address.", url
    assert await webhook_url_problem("https://93.184.215.14/hook", allow_private=False) is None
    unresolvable = "https://no-such-host.invalid/x"
    assert await webhook_url_problem(unresolvable, allow_private=False, unresolved_ok=True) is None
    assert "could not be resolved" in (await webhook_url_problem(unresolvable, allow_private=False) or "")


async def test_saving_an_internal_webhook_is_refused_and_delivery_checks_again(monitor, migrated):
    service = BotsService(migrated, EventBus())
    with session_scope() as s:
        me = make_user(s, Role.OPERATOR)
        p_me, owner_id = Principal.of(me), me.id
    view = await service.alert_settings(p_me)
    form = AlertSettingsInput(
        rules={r.name: (r.enabled, r.threshold) for r in view.rules},
        email_enabled=False,
        email_to="",
        webhook_url="http://127.0.0.1:9/hook",
        bot_message_enabled=False,
        bot_message_bot_id=None,
        bot_message_channel="",
        bot_message_to="",
        quiet_start="00:00",
        quiet_end="00:00",
        cooldown_min="0",
    )
    with pytest.raises(UserError) as err:
        await service.save_alert_settings(p_me, form)
    assert set(err.value.field_errors) == {"webhook_url"}
    assert "internal address (127.0.0.1)" in err.value.field_errors["webhook_url"]
    allowed = BotsService(replace(migrated, alert_webhook_allow_private=True), EventBus())
    await allowed.save_alert_settings(p_me, form)  # the setting lets a loopback sink through
    await allowed.rotate_webhook_secret(p_me)
    with WebhookSink() as sink:
        with session_scope() as s:
            prefs = s.exec(select(AlertSettings).where(AlertSettings.owner_id == owner_id)).one()
            prefs.webhook_url = sink.url + "/hook"  # saved while allowed; no longer allowed here
            alert = Alert(owner_id=owner_id, rule="crash_loop", subject="gateway:1", title="t", urgent=True)
            s.add(alert)
            s.flush()
            s.refresh(alert)
            note = _note(alert)
        await monitor.deliver(note, "opened")
        assert sink.requests == []
    with session_scope() as s:
        (d,) = s.exec(select(AlertDelivery).where(AlertDelivery.alert_id == note.id)).all()
    assert (
        d.route == "webhook"
        and not d.ok
        and d.outcome.startswith("refused: 127.0.0.1 is an internal address")
    )


async def test_a_gateway_still_down_after_a_restart_of_clawnet_keeps_its_alert(monitor):
    owner, gw = owner_with_gateway(GatewayStatus.RESTARTING)
    await monitor.evaluate()
    assert [(a.rule, a.state) for a in alerts_of(owner)] == [("gateway_down", "open")]
    # ClawNet restarts (or another instance leads): the new monitor knows nothing in memory, and
    # the gateway is on its way back up (stopped, then starting): still down, not resolved.
    fresh = AlertMonitor(monitor.settings, monitor.db, monitor.bus, links=None, tasks=monitor.tasks)  # type: ignore[arg-type]
    set_status(gw, GatewayStatus.STARTING)
    await fresh.evaluate()
    assert [(a.rule, a.state) for a in alerts_of(owner)] == [("gateway_down", "open")]
    set_status(gw, GatewayStatus.RUNNING)
    await fresh.evaluate()
    assert [(a.rule, a.state) for a in alerts_of(owner)] == [("gateway_down", "resolved")]


async def test_an_expired_access_request_is_not_waiting(monitor):
    owner, gw = owner_with_gateway(GatewayStatus.RUNNING)
    now = datetime.now(UTC)
    with session_scope() as s:
        bot = s.exec(select(Bot).where(Bot.owner_id == owner)).one()
        for n, expires in ((1, now - timedelta(minutes=1)), (2, now + timedelta(minutes=30))):
            s.add(
                AccessRequest(
                    gateway_id=gw,
                    bot_id=bot.id,
                    channel="telegram",
                    account_id="default",
                    request_id=f"r{n}",
                    sender_id=f"s{n}",
                    requested_at=now - timedelta(hours=n),
                    last_seen_at=now - timedelta(hours=n),
                    expires_at=expires,
                )
            )
    await monitor.evaluate()
    (alert,) = alerts_of(owner)
    assert alert.rule == "access_waiting" and alert.title.startswith("1 access request waiting")
    with session_scope() as s:
        for req in s.exec(select(AccessRequest).where(AccessRequest.bot_id == bot.id)).all():
            req.expires_at = now - timedelta(seconds=1)
    await monitor.evaluate()
    assert [a.state for a in alerts_of(owner)] == ["resolved"]


async def test_resolved_alerts_and_their_deliveries_are_pruned_after_90_days(monitor):
    with session_scope() as s:
        owner = make_user(s, Role.OPERATOR)
        now = datetime.now(UTC)
        rows = {
            "old": Alert(
                owner_id=owner.id,
                rule="crash_loop",
                subject="gateway:1",
                title="old",
                state="resolved",
                resolved_at=now - timedelta(days=91),
            ),
            "recent": Alert(
                owner_id=owner.id,
                rule="crash_loop",
                subject="gateway:1",
                title="recent",
                state="resolved",
                resolved_at=now - timedelta(days=89),
            ),
            "live": Alert(
                owner_id=owner.id,
                rule="crash_loop",
                subject="gateway:1",
                title="live",
                opened_at=now - timedelta(days=200),
            ),
        }
        for a in rows.values():
            s.add(a)
            s.flush()
            s.add(AlertDelivery(alert_id=a.id, route="email", event="opened", ok=True))
        ids = {k: a.id for k, a in rows.items()}
    assert await monitor.prune() == 1
    with session_scope() as s:
        assert sorted(a.title for a in s.exec(select(Alert)).all()) == ["live", "recent"]
        assert sorted(d.alert_id for d in s.exec(select(AlertDelivery)).all()) == sorted(
            [ids["recent"], ids["live"]]
        )
