"""The alert centre's door: each person's own alerts (open, acknowledged, history) and alert
settings. Alerts belong to the owner of the bots they are about; everyone acts on their own
(`Action.VIEW_FLEET` and their own user id), checked here for every call."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from clawnet.bots.base import BotsBase
from clawnet.controlplane.alert_delivery import webhook_url_problem
from clawnet.controlplane.alert_rules import RULES, effective_rules
from clawnet.controlplane.alerts import LIVE, open_count
from clawnet.errors import NotFound, UserError
from clawnet.events import Kind
from clawnet.models import Alert, AlertSettings, Bot, User, utcnow
from clawnet.security.permissions import Action, Principal, require, role_allows
from clawnet.security.secret_fields import ALERT_WEBHOOK_SECRET

HISTORY_LIMIT = 100
BOT_CHANNELS = ("telegram", "discord", "slack", "whatsapp", "signal")


@dataclass(frozen=True)
class AlertView:
    id: int
    rule: str
    title: str
    detail: str
    urgent: bool
    state: str
    opened_at: datetime
    resolved_at: datetime | None
    acknowledged_at: datetime | None


@dataclass(frozen=True)
class RuleView:
    name: str
    label: str
    enabled: bool
    threshold: str  # "" when the rule has none
    unit: str


@dataclass(frozen=True)
class AlertSettingsView:
    rules: list[RuleView]
    email_enabled: bool
    email_to: str
    account_email: str
    mail_configured: bool
    webhook_url: str
    webhook_has_secret: bool
    bot_message_enabled: bool
    bot_message_bot_id: int | None
    bot_message_channel: str
    bot_message_to: str
    bots: list[tuple[int, str]]
    quiet_start: str  # "HH:MM" (UTC); equal start and end: no quiet hours
    quiet_end: str
    cooldown_min: int


@dataclass(frozen=True)
class AlertSettingsInput:
    rules: dict[str, tuple[bool, str]]  # name -> (enabled, threshold text)
    email_enabled: bool
    email_to: str
    webhook_url: str
    bot_message_enabled: bool
    bot_message_bot_id: int | None
    bot_message_channel: str
    bot_message_to: str
    quiet_start: str
    quiet_end: str
    cooldown_min: str


def _view(a: Alert) -> AlertView:
    assert a.id is not None
    return AlertView(
        a.id, a.rule, a.title, a.detail, a.urgent, a.state, a.opened_at, a.resolved_at, a.acknowledged_at
    )


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _minutes(text: str) -> int | None:
    parts = text.strip().split(":")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return None
    h, m = int(parts[0]), int(parts[1])
    return h * 60 + m if 0 <= h < 24 and 0 <= m < 60 else None


def _row(s: Session, owner_id: int) -> AlertSettings:
    row = s.exec(select(AlertSettings).where(AlertSettings.owner_id == owner_id)).first()
    if row is None:
        row = AlertSettings(owner_id=owner_id, email_enabled=True)
        s.add(row)
        s.flush()
    return row


class Alerts(BotsBase):
    async def alert_count(self, actor: Principal | None) -> int:
        """How many of the person's alerts are open or acknowledged (the navigation's count)."""
        if actor is None or not actor.is_active or not role_allows(actor.role, Action.VIEW_FLEET):
            return 0
        return await self._db(lambda s: open_count(s, require(s, actor, Action.VIEW_FLEET).user_id))

    async def open_alerts(self, actor: Principal | None) -> list[AlertView]:
        def load(s: Session) -> list[AlertView]:
            me = require(s, actor, Action.VIEW_FLEET)
            rows = s.exec(
                select(Alert)
                .where(Alert.owner_id == me.user_id, col(Alert.state).in_(LIVE))
                .order_by(col(Alert.opened_at).desc())
            ).all()
            return [_view(a) for a in rows]

        return await self._db(load)

    async def alert_history(self, actor: Principal | None, limit: int = HISTORY_LIMIT) -> list[AlertView]:
        def load(s: Session) -> list[AlertView]:
            me = require(s, actor, Action.VIEW_FLEET)
            rows = s.exec(
                select(Alert)
                .where(Alert.owner_id == me.user_id, Alert.state == "resolved")
                .order_by(col(Alert.resolved_at).desc())
                .limit(min(limit, HISTORY_LIMIT))
            ).all()
            return [_view(a) for a in rows]

        return await self._db(load)

    async def acknowledge_alert(self, actor: Principal | None, alert_id: int) -> None:
        def ack(s: Session) -> tuple[int, int]:
            me = require(s, actor, Action.VIEW_FLEET)
            a = s.get(Alert, int(alert_id))
            if a is None or a.owner_id != me.user_id:
                raise NotFound("No such alert.")
            if a.state == "open":
                a.state = "acknowledged"
                a.acknowledged_at = utcnow()
                a.acknowledged_by_id = me.user_id
                s.add(a)
                s.flush()
            return a.owner_id, open_count(s, a.owner_id)

        owner_id, count = await self._db(ack)
        self.bus.publish(
            Kind.ALERT,
            {"owner_id": owner_id, "alert_id": int(alert_id), "state": "acknowledged", "open_count": count},
        )

    async def alert_settings(self, actor: Principal | None) -> AlertSettingsView:
        def load(s: Session) -> AlertSettingsView:
            me = require(s, actor, Action.VIEW_FLEET)
            row = _row(s, me.user_id)
            rules = effective_rules(row.rules)
            user = s.get(User, me.user_id)
            bots = s.exec(select(Bot.id, Bot.name).where(Bot.owner_id == me.user_id).order_by(Bot.name)).all()
            return AlertSettingsView(
                rules=[
                    RuleView(
                        n,
                        spec.label,
                        rules[n].enabled,
                        f"{rules[n].threshold:g}" if spec.threshold is not None else "",
                        spec.unit,
                    )
                    for n, spec in RULES.items()
                    if me.is_admin or not spec.admin_only
                ],
                email_enabled=row.email_enabled,
                email_to=row.email_to,
                account_email=user.email if user else "",
                mail_configured=bool(self.settings.smtp_host),
                webhook_url=row.webhook_url,
                webhook_has_secret=bool(row.webhook_secret_enc),
                bot_message_enabled=row.bot_message_enabled,
                bot_message_bot_id=row.bot_message_bot_id,
                bot_message_channel=row.bot_message_channel,
                bot_message_to=row.bot_message_to,
                bots=[(i, n) for i, n in bots if i is not None],
                quiet_start=_hhmm(row.quiet_start_min),
                quiet_end=_hhmm(row.quiet_end_min),
                cooldown_min=row.cooldown_s // 60,
            )

        return await self._db(load)

    async def save_alert_settings(self, actor: Principal | None, form: AlertSettingsInput) -> None:
        errors: dict[str, str] = {}
        rules: dict[str, dict] = {}
        for name, (enabled, text) in form.rules.items():
            spec = RULES.get(name)
            if spec is None:
                continue
            entry: dict = {"enabled": bool(enabled)}
            if spec.threshold is not None:
                try:
                    value = float(text)
                    if value < 0 or (spec.unit == "%" and value > 100):
                        raise ValueError
                    entry["threshold"] = value
                except ValueError:
                    errors[f"rule_{name}"] = "A number (0 or more; a percentage up to 100)."
            rules[name] = entry
        email = form.email_to.strip()
        if email and ("@" not in email or any(c.isspace() for c in email) or len(email) > 320):
            errors["email_to"] = "An email address, or empty for your account's."
        url = form.webhook_url.strip()
        if url:
            if len(url) > 500 or any(c.isspace() for c in url):
                errors["webhook_url"] = "An http(s) address."
            elif problem := await webhook_url_problem(
                url, allow_private=self.settings.alert_webhook_allow_private, unresolved_ok=True
            ):
                errors["webhook_url"] = problem
        if form.bot_message_enabled:
            if form.bot_message_bot_id is None:
                errors["bot_message_bot_id"] = "Choose one of your bots."
            if form.bot_message_channel not in BOT_CHANNELS:
                errors["bot_message_channel"] = "Choose the channel."
            if not form.bot_message_to.strip():
                errors["bot_message_to"] = "Your chat id on that channel."
        start, end = _minutes(form.quiet_start), _minutes(form.quiet_end)
        if start is None:
            errors["quiet_start"] = "A time as HH:MM (UTC)."
        if end is None:
            errors["quiet_end"] = "A time as HH:MM (UTC)."
        cooldown = form.cooldown_min.strip()
        if not cooldown.isdigit() or int(cooldown) > 24 * 60:
            errors["cooldown_min"] = "Minutes, from 0 to 1440."
        if errors:
            raise UserError(field_errors=errors)

        def save(s: Session) -> None:
            me = require(s, actor, Action.VIEW_FLEET)
            if form.bot_message_bot_id is not None:
                bot = s.get(Bot, int(form.bot_message_bot_id))
                if bot is None or bot.owner_id != me.user_id:
                    raise UserError(field_errors={"bot_message_bot_id": "Choose one of your bots."})
            row = _row(s, me.user_id)
            row.rules = rules
            row.email_enabled = form.email_enabled
            row.email_to = email
            row.webhook_url = url
            row.bot_message_enabled = form.bot_message_enabled
            row.bot_message_bot_id = form.bot_message_bot_id
            row.bot_message_channel = form.bot_message_channel
            row.bot_message_to = form.bot_message_to.strip()[:200]
            row.quiet_start_min = start or 0
            row.quiet_end_min = end or 0
            row.cooldown_s = int(cooldown) * 60
            row.updated_at = utcnow()
            s.add(row)

        await self._db(save)

    async def rotate_webhook_secret(self, actor: Principal | None) -> str:
        """A new webhook signing secret; returned once (only its ciphertext is kept)."""
        secret = "whsec_" + secrets.token_urlsafe(32)

        def save(s: Session) -> None:
            me = require(s, actor, Action.VIEW_FLEET)
            row = _row(s, me.user_id)
            row.webhook_secret_enc = ALERT_WEBHOOK_SECRET.seal(secret)
            row.updated_at = utcnow()
            s.add(row)

        await self._db(save)
        return secret
