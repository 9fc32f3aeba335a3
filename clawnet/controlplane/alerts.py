"""The alert monitor: runs once, with the control plane. It evaluates the rules on every status
change it hears and every few seconds, opens an alert row for each new condition, resolves the
ones whose condition cleared, follows the budgets' events, and delivers: in the app (an `alert`
event on the bus), by email, by signed webhook, and by a message from the owner's bot. Quiet
hours hold non-urgent deliveries (in-app still shows them); a cooldown per rule and subject keeps
a flapping condition from flooding anyone (urgent alerts are never held back by it)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete as sa_delete
from sqlmodel import Session, col, func, select

from clawnet import routes
from clawnet.aio import wait_for
from clawnet.controlplane import alert_delivery as delivery
from clawnet.controlplane.alert_rules import (
    Condition,
    Rule,
    conditions,
    cooldown_over,
    effective_rules,
    in_quiet_hours,
)
from clawnet.controlplane.db_runner import DbRunner
from clawnet.controlplane.gateway_api import agent_session_key
from clawnet.controlplane.gateway_sessions import GatewaySessions, ReplyTarget
from clawnet.controlplane.links import GatewayLinks
from clawnet.controlplane.protocol import GatewayError
from clawnet.controlplane.tasks import TaskSet, stop_loops
from clawnet.events import EventBus, FleetEvent, Kind
from clawnet.mail import MailError, MailService
from clawnet.models import Alert, AlertDelivery, AlertSettings, Bot, User, utcnow
from clawnet.security.crypto import SecretError
from clawnet.security.secret_fields import ALERT_WEBHOOK_SECRET
from clawnet.settings import Settings

log = logging.getLogger(__name__)

LIVE = ("open", "acknowledged")
KEEP_RESOLVED = timedelta(days=90)  # resolved alerts (and their deliveries) older than this go
PRUNE_EVERY_S = 3600.0


STOP_WAIT_S = 10.0


def _amount(metric: Any, value: Any) -> str:
    """A budget figure as people read it: "$0.0123" or "4,657 tokens"."""
    try:
        number = float(value or 0)
    except (TypeError, ValueError):
        return str(value)
    return f"${number:,.4f}" if metric == "cost" else f"{round(number):,} tokens"


# The budgets publish "day" / "month"; a title reads "the daily cost budget".
PERIOD_WORDS = {"day": "daily", "month": "monthly", "daily": "daily", "monthly": "monthly"}
TRIGGERS = [
    Kind.GATEWAY_STATUS,
    Kind.CHANNEL_STATUS,
    Kind.BOT_STATUS,
    Kind.ACCESS_REQUESTS,
    Kind.CHAT_FAILED,
    Kind.BACKUP,
]


@dataclass(frozen=True)
class AlertNote:
    """What deliveries say about an alert."""

    id: int
    owner_id: int
    rule: str
    subject: str
    title: str
    detail: str
    urgent: bool
    state: str
    opened_at: str
    resolved_at: str | None
    bot_id: int | None
    gateway_id: int | None

    @classmethod
    def of(cls, a: Alert) -> AlertNote:
        assert a.id is not None
        return cls(
            a.id,
            a.owner_id,
            a.rule,
            a.subject,
            a.title,
            a.detail,
            a.urgent,
            a.state,
            a.opened_at.isoformat(),
            a.resolved_at.isoformat() if a.resolved_at else None,
            a.bot_id,
            a.gateway_id,
        )


def open_count(s: Session, owner_id: int) -> int:
    return int(
        s.exec(
            select(func.count())
            .select_from(Alert)
            .where(Alert.owner_id == owner_id, col(Alert.state).in_(LIVE))
        ).one()
    )


class AlertMonitor:
    def __init__(
        self, settings: Settings, db: DbRunner, bus: EventBus, links: GatewayLinks, tasks: TaskSet
    ) -> None:
        self.settings = settings
        self.db = db
        self.bus = bus
        self.links = links
        self.tasks = tasks
        self.mail = MailService(settings)
        self.webhook_delays_s = delivery.WEBHOOK_DELAYS_S
        self._down_since: dict[int, datetime] = {}
        self._pruned_at: float | None = None
        self._kick = asyncio.Event()
        self._loops: list[asyncio.Task[None]] = []
        self._stopping = False

    def start(self) -> None:
        self._stopping = False
        self._loops = [
            asyncio.create_task(self._loop(), name="alerts-evaluate"),
            asyncio.create_task(self._listen(), name="alerts-listen"),
        ]

    async def stop(self) -> None:
        self._stopping = True  # (a status event may kick the loop while gateways are stopped)
        self._kick.set()
        await stop_loops(self._loops, STOP_WAIT_S)
        self._loops = []

    async def _loop(self) -> None:
        while not self._stopping:
            try:
                await self.evaluate()
            except Exception:
                log.exception("alert evaluation failed")
            if self._pruned_at is None or time.monotonic() - self._pruned_at >= PRUNE_EVERY_S:
                self._pruned_at = time.monotonic()
                try:
                    await self.prune()
                except Exception:
                    log.exception("alert pruning failed")
            with contextlib.suppress(TimeoutError):
                await wait_for(self._kick.wait(), self.settings.alert_check_s)
            self._kick.clear()

    async def _listen(self) -> None:
        with self.bus.subscribe([*TRIGGERS, Kind.BUDGET], maxsize=5000) as events:
            while not self._stopping:
                event = await events.get()
                if event.kind == Kind.BUDGET:
                    try:
                        await self.on_budget(event)
                    except Exception:
                        log.exception("budget alert failed")
                else:
                    self._kick.set()

    async def prune(self, now: datetime | None = None) -> int:
        """Forget alerts resolved more than `KEEP_RESOLVED` ago, with their deliveries; returns how
        many alerts went."""
        cutoff = (now or utcnow()) - KEEP_RESOLVED

        def work(s: Session) -> int:
            old = col(Alert.state) == "resolved", col(Alert.resolved_at) < cutoff
            s.exec(
                sa_delete(AlertDelivery).where(col(AlertDelivery.alert_id).in_(select(Alert.id).where(*old)))
            )
            return int(s.exec(sa_delete(Alert).where(*old)).rowcount or 0)

        return await self.db.run(work)

    # --- state rules ------------------------------------------------------------------------

    async def evaluate(self) -> None:
        now = utcnow()

        def work(s: Session) -> list[tuple[AlertNote, str]]:
            rules_of: dict[int, dict[str, Rule]] = {
                row.owner_id: effective_rules(row.rules) for row in s.exec(select(AlertSettings)).all()
            }
            live = s.exec(select(Alert).where(col(Alert.state).in_(LIVE), Alert.rule != "budget")).all()
            # When each gateway went down lives in memory; after a restart or a change of leader
            # the open "gateway down" alerts say it (else one still down, or stopped on its way
            # back up, would look fine and its alert resolve and reopen).
            for a in live:
                if a.rule == "gateway_down" and a.gateway_id is not None:
                    seen_at = self._down_since.get(a.gateway_id)
                    if seen_at is None or a.opened_at < seen_at:
                        self._down_since[a.gateway_id] = a.opened_at
            active = {
                (c.owner_id, c.rule, c.subject): c for c in conditions(s, now, rules_of, self._down_since)
            }
            news: list[tuple[AlertNote, str]] = []
            seen = set()
            for a in live:
                key = (a.owner_id, a.rule, a.subject)
                if key in active:
                    seen.add(key)
                    continue
                news.append((AlertNote.of(_resolve(s, a, now)), "resolved"))
            for key, c in active.items():
                if key not in seen:
                    news.append((AlertNote.of(_open(s, c, now)), "opened"))
            # Held through quiet hours: out now that they are over.
            for a in s.exec(select(Alert).where(Alert.held == True, col(Alert.state).in_(LIVE))).all():  # noqa: E712
                prefs = _settings(s, a.owner_id)
                if not in_quiet_hours(now, prefs.quiet_start_min, prefs.quiet_end_min):
                    a.held = False
                    s.add(a)
                    news.append((AlertNote.of(a), "released"))
            return news

        for note, event in await self.db.run(work):
            await self._announce(note, event)

    # --- budgets ---------------------------------------------------------------------------------

    async def on_budget(self, event: FleetEvent) -> None:
        p = event.payload
        owner_id = int(p["owner_id"])
        bot_id = p.get("bot_id")
        threshold = int(p.get("threshold") or 0)
        base = f"budget:{'bot:' + str(bot_id) if bot_id is not None else 'owner'}:{p.get('period')}:{p.get('metric')}:"
        now = utcnow()

        def work(s: Session) -> list[tuple[AlertNote, str]]:
            live = s.exec(
                select(Alert).where(
                    Alert.owner_id == owner_id,
                    Alert.rule == "budget",
                    col(Alert.state).in_(LIVE),
                    col(Alert.subject).startswith(base),
                )
            ).all()
            # A crossing resolves the alerts above it (a raised limit: 100% -> 80%); 0 resolves all.
            above = (
                live
                if threshold <= 0
                else [a for a in live if _budget_threshold(a.subject, base) > threshold]
            )
            news = [(AlertNote.of(_resolve(s, a, now)), "resolved") for a in above]
            if threshold <= 0:
                return news
            rules = effective_rules(_settings(s, owner_id).rules)
            if not rules["budget"].enabled or any(a.subject == base + str(threshold) for a in live):
                return news
            who = "All your bots" if bot_id is None else _bot_name(s, int(bot_id))
            period = PERIOD_WORDS.get(str(p.get("period")), str(p.get("period")))
            title = f"{who}: {threshold}% of the {period} {p.get('metric')} budget used"
            used, limit = _amount(p.get("metric"), p.get("used")), _amount(p.get("metric"), p.get("limit"))
            detail = f"Used {used} of {limit}."
            if threshold >= 100:
                detail += " No new model turns until the period resets or the limit is raised."
            c = Condition(
                owner_id,
                "budget",
                base + str(threshold),
                title,
                detail,
                threshold >= 100,
                bot_id=int(bot_id) if bot_id is not None else None,
            )
            return [*news, (AlertNote.of(_open(s, c, now)), "opened")]

        for note, what in await self.db.run(work):
            await self._announce(note, what)

    # --- delivery ----------------------------------------------------------------------------------

    async def _announce(self, note: AlertNote, event: str) -> None:
        count = await self.db.run(lambda s: open_count(s, note.owner_id))
        if event != "released":
            self.bus.publish(
                Kind.ALERT,
                {"owner_id": note.owner_id, "alert_id": note.id, "state": note.state, "open_count": count},
                bot_id=note.bot_id,
                gateway_id=note.gateway_id,
            )
        self.tasks.spawn(
            self.deliver(note, "opened" if event == "released" else event), f"alert-{note.id}-{event}"
        )

    async def deliver(self, note: AlertNote, event: str) -> None:
        """Send the news out of the app per the owner's settings (quiet hours, cooldown)."""
        now = utcnow()

        def plan(s: Session) -> tuple[str, AlertSettings, str] | None:
            prefs = _settings(s, note.owner_id)
            a = s.get(Alert, note.id)
            if a is None:
                return None
            if event == "resolved":
                return ("send", prefs, _email_of(s, prefs)) if a.notified_at is not None else None
            if not note.urgent and in_quiet_hours(now, prefs.quiet_start_min, prefs.quiet_end_min):
                a.held = True
                s.add(a)
                s.add(AlertDelivery(alert_id=note.id, route="all", event=event, outcome="held: quiet hours"))
                return None
            # The cooldown spares the owner repeats of one rule on one subject (a flapping
            # channel); urgent news (a budget spent, a gateway down, a crash loop) always goes.
            last = s.exec(
                select(func.max(Alert.notified_at)).where(
                    Alert.owner_id == note.owner_id,
                    Alert.rule == note.rule,
                    Alert.subject == note.subject,
                    Alert.id != note.id,
                )
            ).one()
            if not note.urgent and not cooldown_over(last, now, prefs.cooldown_s):
                s.add(AlertDelivery(alert_id=note.id, route="all", event=event, outcome="cooldown"))
                return None
            a.notified_at = now
            s.add(a)
            return "send", prefs, _email_of(s, prefs)

        decided = await self.db.run(plan)
        if decided is None:
            return
        _, prefs, email = decided
        sends = []
        if prefs.email_enabled and email:
            sends.append(self._email(note, event, email))
        if prefs.webhook_url and prefs.webhook_secret_enc:
            sends.append(self._webhook(note, event, prefs))
        if prefs.bot_message_enabled and prefs.bot_message_bot_id and prefs.bot_message_to:
            sends.append(self._bot_message(note, event, prefs))
        await asyncio.gather(*sends, return_exceptions=True)

    def _record(self, note: AlertNote, route: str, event: str, attempt: int, ok: bool, outcome: str) -> Any:
        return self.db.run(
            lambda s: s.add(
                AlertDelivery(
                    alert_id=note.id, route=route, event=event, attempt=attempt, ok=ok, outcome=outcome[:500]
                )
            )
        )

    def _text(self, note: AlertNote, event: str) -> tuple[str, str]:
        return delivery.alert_text(
            note.title, note.detail, event, self.settings.public_url.rstrip("/") + routes.ALERTS
        )

    async def _email(self, note: AlertNote, event: str, to: str) -> None:
        subject, text = self._text(note, event)
        try:
            await self.mail.send(to, subject, text)
        except MailError as exc:
            await self._record(note, "email", event, 1, False, str(exc))
        else:
            await self._record(note, "email", event, 1, True, f"sent to {to}")

    async def _webhook(self, note: AlertNote, event: str, prefs: AlertSettings) -> None:
        try:
            secret = ALERT_WEBHOOK_SECRET.unseal(prefs.webhook_secret_enc or "")
        except SecretError as exc:
            await self._record(note, "webhook", event, 1, False, f"secret unreadable: {exc}")
            return
        problem = await delivery.webhook_url_problem(
            prefs.webhook_url, allow_private=self.settings.alert_webhook_allow_private
        )
        if problem:
            await self._record(note, "webhook", event, 1, False, f"refused: {problem}")
            return
        payload = {
            "event": f"alert.{event}",
            "alert": asdict(note),
            "url": self.settings.public_url.rstrip("/") + routes.ALERTS,
        }
        for a in await delivery.post_webhook(
            prefs.webhook_url, secret, payload, delays_s=self.webhook_delays_s
        ):
            await self._record(note, "webhook", event, a.attempt, a.ok, a.outcome)

    async def _bot_message(self, note: AlertNote, event: str, prefs: AlertSettings) -> None:
        bot_id = prefs.bot_message_bot_id
        bot = await self.db.run(lambda s: s.get(Bot, bot_id))
        link = self.links.connected(bot.gateway_id) if bot is not None and bot.gateway_id else None
        if bot is None or link is None or bot.owner_id != note.owner_id:
            await self._record(note, "bot", event, 1, False, "the bot's gateway is not running")
            return
        channel, to = prefs.bot_message_channel, prefs.bot_message_to
        key = agent_session_key(bot.agent_id, f"{channel}:direct:{to}")
        _, text = self._text(note, event)
        try:
            await GatewaySessions(link.api).send_to_channel(
                bot.agent_id, key, ReplyTarget(channel, to), text, f"clawnet-alert-{uuid.uuid4()}"
            )
        except GatewayError as exc:
            await self._record(note, "bot", event, 1, False, exc.message)
        else:
            await self._record(note, "bot", event, 1, True, f"sent by {bot.name}")


def _settings(s: Session, owner_id: int) -> AlertSettings:
    row = s.exec(select(AlertSettings).where(AlertSettings.owner_id == owner_id)).first()
    return row or AlertSettings(owner_id=owner_id, email_enabled=True)


def _email_of(s: Session, prefs: AlertSettings) -> str:
    if prefs.email_to:
        return prefs.email_to
    user = s.get(User, prefs.owner_id)
    return user.email if user is not None else ""


def _budget_threshold(subject: str, base: str) -> int:
    """The threshold a budget alert's subject (`<base><threshold>`) names (0 if unreadable)."""
    tail = subject[len(base) :]
    return int(tail) if tail.isdigit() else 0


def _bot_name(s: Session, bot_id: int) -> str:
    bot = s.get(Bot, bot_id)
    return bot.name if bot is not None else f"Bot {bot_id}"


def _open(s: Session, c: Condition, now: datetime) -> Alert:
    a = Alert(
        owner_id=c.owner_id,
        rule=c.rule,
        subject=c.subject,
        title=c.title[:300],
        detail=c.detail[:2000],
        urgent=c.urgent,
        bot_id=c.bot_id,
        gateway_id=c.gateway_id,
        opened_at=now,
    )
    s.add(a)
    s.flush()
    return a


def _resolve(s: Session, a: Alert, now: datetime) -> Alert:
    a.state = "resolved"
    a.resolved_at = now
    a.held = False
    s.add(a)
    s.flush()
    return a
