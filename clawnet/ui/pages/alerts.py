"""The alert centre (`/alerts`): the person's open alerts, arriving and resolving live, each
with Acknowledge; the history of resolved ones; and the alert settings (rules, email, webhook,
bot message, quiet hours, cooldown). Laid out as cards that fit a phone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import reflex as rx

from clawnet import routes, runtime
from clawnet.bots.alerts import AlertSettingsInput, AlertView, RuleView
from clawnet.errors import UserError
from clawnet.events import FleetEvent, Kind
from clawnet.ui import live
from clawnet.ui.components.forms import field_error, form_error_banner, native_select, text_field
from clawnet.ui.components.layout import page_frame
from clawnet.ui.session import SessionState, current_principal, error_toast
from clawnet.ui.typed import Field, event, field

CHANNELS = [
    ("telegram", "Telegram"),
    ("discord", "Discord"),
    ("slack", "Slack"),
    ("whatsapp", "WhatsApp"),
    ("signal", "Signal"),
]


@dataclass(frozen=True)
class AlertRow:
    id: int
    title: str
    detail: str
    urgent: bool
    state: str
    opened: str
    resolved: str


def _row(a: AlertView) -> AlertRow:
    fmt = "%Y-%m-%d %H:%M UTC"
    return AlertRow(
        a.id,
        a.title,
        a.detail,
        a.urgent,
        a.state,
        a.opened_at.strftime(fmt),
        a.resolved_at.strftime(fmt) if a.resolved_at else "",
    )


class AlertsState(rx.State):
    open_rows: Field[list[AlertRow]] = field(default_factory=list)
    history: Field[list[AlertRow]] = field(default_factory=list)
    rules: Field[list[RuleView]] = field(default_factory=list)
    email_enabled: Field[bool] = field(True)
    email_to: Field[str] = field("")
    account_email: Field[str] = field("")
    mail_configured: Field[bool] = field(False)
    webhook_url: Field[str] = field("")
    webhook_has_secret: Field[bool] = field(False)
    new_secret: Field[str] = field("")  # shown once, right after a rotation
    bot_message_enabled: Field[bool] = field(False)
    bot_message_bot_id: Field[str] = field("")
    bot_message_channel: Field[str] = field("telegram")
    bot_message_to: Field[str] = field("")
    bot_options: Field[list[dict[str, str]]] = field(default_factory=list)
    quiet_start: Field[str] = field("00:00")
    quiet_end: Field[str] = field("00:00")
    cooldown_min: Field[str] = field("15")
    errors: Field[dict[str, str]] = field(default_factory=dict)
    error: Field[str] = field("")
    loaded: Field[bool] = field(False)
    _watch_gen: int = 0
    _user_id: int = 0

    async def _reload_alerts(self) -> None:
        actor = await current_principal(self)
        bots = runtime.bots()
        self.open_rows = [_row(a) for a in await bots.open_alerts(actor)]
        self.history = [_row(a) for a in await bots.alert_history(actor)]

    async def _reload_settings(self) -> None:
        v = await runtime.bots().alert_settings(await current_principal(self))
        self.rules = v.rules
        self.email_enabled, self.email_to, self.account_email = v.email_enabled, v.email_to, v.account_email
        self.mail_configured = v.mail_configured
        self.webhook_url, self.webhook_has_secret = v.webhook_url, v.webhook_has_secret
        self.bot_message_enabled = v.bot_message_enabled
        self.bot_message_bot_id = str(v.bot_message_bot_id or "")
        self.bot_message_channel = v.bot_message_channel or "telegram"
        self.bot_message_to = v.bot_message_to
        self.bot_options = [{"value": "", "label": "(none)"}] + [
            {"value": str(i), "label": n} for i, n in v.bots
        ]
        self.quiet_start, self.quiet_end, self.cooldown_min = v.quiet_start, v.quiet_end, str(v.cooldown_min)

    @event
    async def on_load(self) -> Any:
        self.new_secret = ""  # a reload (or a return) never shows a rotated secret again
        principal = await current_principal(self)
        if principal is None:
            return None
        self._user_id = principal.user_id
        self.errors, self.error = {}, ""
        try:
            await self._reload_alerts()
            await self._reload_settings()
        except UserError as exc:
            return error_toast(exc)
        self.loaded = True
        return AlertsState.watch

    @event(background=True)
    async def watch(self) -> None:
        async with self:
            self._watch_gen += 1
            me = self._user_id

        async def apply(_batch: list[FleetEvent]) -> None:
            await self._reload_alerts()

        await live.follow(
            self,
            kinds=[Kind.ALERT],
            where=lambda e: e.payload.get("owner_id") == me,
            apply=apply,
            generation=lambda: self._watch_gen,
            on_page=lambda path: path == routes.ALERTS,
        )

    @event
    async def acknowledge(self, alert_id: int) -> Any:
        try:
            await runtime.bots().acknowledge_alert(await current_principal(self), int(alert_id))
        except UserError as exc:
            return error_toast(exc)
        except (TypeError, ValueError):
            return rx.toast.error("No such alert.")
        await self._reload_alerts()
        return None

    @event
    async def save(self, form: dict[str, Any]) -> Any:
        def text(name: str) -> str:
            return str(form.get(name) or "")

        bot_id = text("bot_message_bot_id")
        data = AlertSettingsInput(
            rules={
                r.name: (form.get(f"rule_on_{r.name}") == "on", text(f"rule_value_{r.name}") or r.threshold)
                for r in self.rules
            },
            email_enabled=form.get("email_enabled") == "on",
            email_to=text("email_to"),
            webhook_url=text("webhook_url"),
            bot_message_enabled=form.get("bot_message_enabled") == "on",
            bot_message_bot_id=int(bot_id) if bot_id.isdigit() else None,
            bot_message_channel=text("bot_message_channel"),
            bot_message_to=text("bot_message_to"),
            quiet_start=text("quiet_start"),
            quiet_end=text("quiet_end"),
            cooldown_min=text("cooldown_min"),
        )
        try:
            await runtime.bots().save_alert_settings(await current_principal(self), data)
        except UserError as exc:
            self.errors, self.error = exc.field_errors, exc.message
            return None
        self.errors, self.error = {}, ""
        await self._reload_settings()
        return rx.toast.success("Alert settings saved.")

    @event
    async def rotate_secret(self) -> Any:
        try:
            self.new_secret = await runtime.bots().rotate_webhook_secret(await current_principal(self))
        except UserError as exc:
            return error_toast(exc)
        self.webhook_has_secret = True
        return None

    @event
    def forget_secret(self) -> None:
        """The person saved the new secret, or left the page: it is not kept in the state."""
        self.new_secret = ""

    @rx.var
    def open_count(self) -> int:
        return len(self.open_rows)


def _err(name: str) -> rx.Var[str]:
    return AlertsState.errors.get(name, "").to(str)


def alert_card(a: Any, *, live_row: bool) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.badge(
                    rx.cond(a.urgent, "urgent", "warning"), color_scheme=rx.cond(a.urgent, "red", "orange")
                ),
                rx.badge(a.state, variant="soft", data_testid="alerts-item-state"),
                wrap="wrap",
                spacing="2",
            ),
            rx.text(
                a.title, weight="bold", data_testid="alerts-item-title", style={"overflowWrap": "anywhere"}
            ),
            rx.cond(
                a.detail != "",
                rx.text(a.detail, size="2", color_scheme="gray", style={"overflowWrap": "anywhere"}),
            ),
            rx.text(
                "Opened "
                + a.opened.to(str)
                + rx.cond(a.resolved != "", " · resolved " + a.resolved.to(str), ""),
                size="1",
                color_scheme="gray",
            ),
            rx.cond(
                a.state == "open",
                rx.button(
                    "Acknowledge",
                    on_click=AlertsState.acknowledge(a.id),
                    size="2",
                    aria_label="Acknowledge: " + a.title.to(str),
                    data_testid="alerts-ack-" + a.id.to(str),
                ),
            )
            if live_row
            else rx.fragment(),
            spacing="2",
            width="100%",
            align="start",
        ),
        width="100%",
        data_testid=("alerts-open-item" if live_row else "alerts-history-item"),
    )


def rule_row(r: Any) -> rx.Component:
    return rx.vstack(
        rx.el.label(
            rx.hstack(
                rx.checkbox(
                    name="rule_on_" + r.name.to(str),
                    default_checked=r.enabled,
                    data_testid="alerts-rule-on-" + r.name.to(str),
                ),
                rx.text(r.label, size="2"),
                spacing="2",
                align="center",
            )
        ),
        rx.cond(
            r.threshold != "",
            rx.hstack(
                rx.input(
                    name="rule_value_" + r.name.to(str),
                    default_value=r.threshold,
                    width="6em",
                    aria_label=r.label.to(str) + " (" + r.unit.to(str) + ")",
                    data_testid="alerts-rule-value-" + r.name.to(str),
                ),
                rx.text(r.unit, size="2"),
                align="center",
            ),
        ),
        rx.text(
            AlertsState.errors.get("rule_" + r.name.to(str), ""), color_scheme="red", size="2", role="alert"
        ),
        spacing="1",
        width="100%",
    )


def settings_form() -> rx.Component:
    s = AlertsState
    return rx.form(
        rx.vstack(
            rx.heading("Alert settings", size="4"),
            form_error_banner(s.error, "alerts-settings-error"),
            rx.heading("Rules", size="3"),
            rx.foreach(s.rules, rule_row),
            rx.heading("Email", size="3"),
            rx.cond(
                ~s.mail_configured,
                rx.callout(
                    "Outgoing email is not configured on this installation (CLAWNET_SMTP_HOST).",
                    icon="info",
                    size="1",
                    data_testid="alerts-mail-not-configured",
                ),
            ),
            rx.el.label(
                rx.hstack(
                    rx.checkbox(
                        name="email_enabled", default_checked=s.email_enabled, data_testid="alerts-email-on"
                    ),
                    rx.text("Email me alerts", size="2"),
                    spacing="2",
                )
            ),
            text_field(
                "Send to (empty: your account's address)",
                name="email_to",
                testid="alerts-email-to",
                error=_err("email_to"),
                default_value=s.email_to,
            ),
            rx.heading("Webhook", size="3"),
            text_field(
                "Webhook URL",
                name="webhook_url",
                testid="alerts-webhook-url",
                error=_err("webhook_url"),
                default_value=s.webhook_url,
                hint="Signed: X-ClawNet-Signature = sha256 HMAC of '<X-ClawNet-Timestamp>.<body>'.",
            ),
            rx.hstack(
                rx.button(
                    rx.cond(s.webhook_has_secret, "Rotate secret", "Create secret"),
                    type="button",
                    variant="soft",
                    on_click=s.rotate_secret,
                    data_testid="alerts-webhook-rotate",
                ),
                rx.cond(s.webhook_has_secret & (s.new_secret == ""), rx.text("A secret is set.", size="2")),
                wrap="wrap",
                align="center",
            ),
            rx.cond(
                s.new_secret != "",
                rx.callout(
                    rx.vstack(
                        rx.text("Copy it now; it is not shown again:", size="2"),
                        rx.code(
                            s.new_secret,
                            data_testid="alerts-webhook-secret",
                            style={"overflowWrap": "anywhere"},
                        ),
                        rx.button(
                            "Done, I saved it",
                            type="button",
                            size="1",
                            variant="soft",
                            on_click=s.forget_secret,
                            data_testid="alerts-webhook-secret-done",
                        ),
                    ),
                    icon="key",
                    size="1",
                    width="100%",
                ),
            ),
            rx.heading("Message from one of your bots", size="3"),
            rx.el.label(
                rx.hstack(
                    rx.checkbox(
                        name="bot_message_enabled",
                        default_checked=s.bot_message_enabled,
                        data_testid="alerts-bot-on",
                    ),
                    rx.text("Also message me from a bot", size="2"),
                    spacing="2",
                )
            ),
            native_select(
                "Bot",
                s.bot_options,
                testid="alerts-bot",
                name="bot_message_bot_id",
                default_value=s.bot_message_bot_id,
            ),
            field_error(_err("bot_message_bot_id"), "alerts-bot"),
            native_select(
                "Channel",
                CHANNELS,
                testid="alerts-bot-channel",
                name="bot_message_channel",
                default_value=s.bot_message_channel,
            ),
            text_field(
                "Your chat id on that channel",
                name="bot_message_to",
                testid="alerts-bot-to",
                error=_err("bot_message_to"),
                default_value=s.bot_message_to,
            ),
            rx.heading("Quiet hours and cooldown", size="3"),
            rx.hstack(
                text_field(
                    "Quiet from (UTC)",
                    name="quiet_start",
                    testid="alerts-quiet-start",
                    error=_err("quiet_start"),
                    default_value=s.quiet_start,
                ),
                text_field(
                    "until",
                    name="quiet_end",
                    testid="alerts-quiet-end",
                    error=_err("quiet_end"),
                    default_value=s.quiet_end,
                ),
                width="100%",
            ),
            text_field(
                "Cooldown per rule (minutes)",
                name="cooldown_min",
                testid="alerts-cooldown",
                error=_err("cooldown_min"),
                default_value=s.cooldown_min,
                hint="Urgent alerts still go out in quiet hours; others wait for them to end.",
            ),
            rx.button("Save alert settings", type="submit", data_testid="alerts-settings-save"),
            spacing="3",
            width="100%",
            align="stretch",
        ),
        on_submit=AlertsState.save,
        reset_on_submit=False,
        width="100%",
        data_testid="alerts-settings",
    )


def alert_centre() -> rx.Component:
    s = AlertsState
    return rx.vstack(
        rx.heading("Open", size="4"),
        rx.cond(
            s.open_rows.length() == 0,
            rx.cond(
                s.loaded, rx.text("Nothing needs you.", color_scheme="gray", data_testid="alerts-none-open")
            ),
            rx.vstack(
                rx.foreach(s.open_rows, lambda a: alert_card(a, live_row=True)),
                width="100%",
                data_testid="alerts-open-list",
            ),
        ),
        rx.heading("History", size="4"),
        rx.cond(
            s.history.length() == 0,
            rx.text("No resolved alerts yet.", color_scheme="gray", size="2"),
            rx.vstack(
                rx.foreach(s.history, lambda a: alert_card(a, live_row=False)),
                width="100%",
                data_testid="alerts-history-list",
            ),
        ),
        rx.cond(s.loaded, settings_form()),
        spacing="4",
        width="100%",
        on_unmount=s.forget_secret,  # leaving the page forgets a secret still shown
    )


@rx.page(
    route=routes.ALERTS,
    title="Alerts · ClawNet",
    on_load=[SessionState.require_fleet, AlertsState.on_load],
)
def alerts_page() -> rx.Component:
    return page_frame("Alerts", alert_centre(), testid="alerts-page")
