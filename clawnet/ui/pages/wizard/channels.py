"""Step 2, channels: where people reach the bot, and each channel's credentials.

A secret typed here goes to the backend-only `_creds` ("<channel>.<field>" -> value) when the
field loses focus; the browser keeps no copy in state and only learns that the field is set
("typed", or "stored" for a bot being edited). A few fields among them are settings, not
secrets (how the gateway reaches signal-cli): those are shown as typed or stored (`plain`).
"Test connection" tries a channel's credentials against its service before the bot exists."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import runtime
from clawnet.errors import UserError
from clawnet.ui.components.forms import native_select
from clawnet.ui.pages.wizard.spec import (
    CHANNEL_INFO,
    CREDENTIAL_FIELDS,
    CREDENTIAL_KEYS,
    CREDENTIAL_MAX_CHARS,
    LAUNCH_STEP,
    PLAIN_KEYS,
    TESTABLE_CHANNELS,
    CredentialField,
)
from clawnet.ui.pages.wizard.state import WizardState
from clawnet.ui.pages.wizard.widgets import error_of, labelled
from clawnet.ui.session import current_principal
from clawnet.ui.typed import Field, event, field

# What a channel's card says besides its credential fields.
CHANNEL_NOTES = {
    "discord": "After saving, invite the bot to your server with the link on the bot's Channels tab.",
    "whatsapp": "No token needed: once the bot runs, scan the QR code shown after Create bot (or on "
    "its Channels tab) with WhatsApp (Settings → Linked devices).",
}
SIGNAL_URL = "signal.url"  # shown only when the gateway does not start signal-cli itself


class WizardChannels(WizardState):
    checks: Field[dict[str, str]] = field(default_factory=dict)  # channel -> the last test's words
    checks_ok: Field[dict[str, bool]] = field(default_factory=dict)
    testing: Field[str] = field("")  # the channel being tested

    @event
    def toggle_channel(self, ctype: str, checked: bool) -> None:
        if str(ctype) in CHANNEL_INFO and self.step < LAUNCH_STEP:
            self.form = self._current().with_channel(str(ctype), bool(checked))
            self._refresh_warnings()

    @event
    def set_credential(self, key: str, value: str) -> None:
        """A secret typed into credential field `key` (an empty field keeps what is set)."""
        key, secret = str(key), str(value).strip()[:CREDENTIAL_MAX_CHARS]
        if key not in CREDENTIAL_KEYS or not secret or self.step >= LAUNCH_STEP:
            return
        self._creds = {**self._creds, key: secret}
        self.creds_set = {**self.creds_set, key: "typed"}
        if key in PLAIN_KEYS:
            self.plain = {**self.plain, key: secret}
        self._clear_errors("channels." + key)
        channel = key.partition(".")[0]
        if channel in self.checks:
            self.checks = {k: v for k, v in self.checks.items() if k != channel}

    @event(background=True)
    async def test_channel(self, ctype: str) -> None:
        """Try the channel's credentials as typed (or, editing, as stored) against its service."""
        ctype = str(ctype)
        async with self:
            if ctype not in TESTABLE_CHANNELS or self.testing:
                return
            self.testing = ctype
            principal = await current_principal(self)
            creds, bot_id = dict(self._creds), self._bot_id()
        try:
            result = await runtime.bots().test_channel(principal, ctype, creds, bot_id=bot_id)
            message, ok = result.message, result.ok
        except UserError as exc:
            message, ok = str(exc), False
        async with self:
            self.testing = ""
            self.checks = {**self.checks, ctype: message}
            self.checks_ok = {**self.checks_ok, ctype: ok}


def credential_input(spec: CredentialField) -> rx.Component:
    if spec.choices:
        chosen = WizardState.plain.get(spec.key, spec.choices[0][0])
        return rx.vstack(
            native_select(
                spec.label,
                list(spec.choices),
                testid=spec.testid,
                value=chosen,
                on_change=lambda v: WizardChannels.set_credential(spec.key, v),
            ),
            rx.text(
                rx.match(chosen, *spec.choice_hints, spec.hint),
                size="1",
                color_scheme="gray",
                data_testid=spec.testid + "-needs",
            ),
            error_of("channels." + spec.key, spec.testid),
            spacing="1",
            width="100%",
        )
    state = WizardState.creds_set.get(spec.key, "")
    shown: dict[str, Any] = (
        {
            "type": "password",
            "placeholder": rx.match(
                state,
                ("stored", "•••••• stored — type to replace"),
                ("typed", "•••••• entered — type to replace"),
                "",
            ),
        }
        if spec.secret
        else {"type": "text", "default_value": WizardState.plain.get(spec.key, "")}
    )
    return labelled(
        spec.label,
        rx.input(
            id=spec.testid,
            auto_complete="off",
            on_blur=lambda v: WizardChannels.set_credential(spec.key, v),
            data_testid=spec.testid,
            **shown,
        ),
        spec.testid,
        spec.hint,
        "channels." + spec.key,
    )


def channel_test(ctype: str) -> rx.Component:
    s = WizardChannels
    return rx.hstack(
        rx.button(
            TESTABLE_CHANNELS[ctype],
            size="1",
            variant="soft",
            on_click=s.test_channel(ctype),
            loading=s.testing == ctype,
            data_testid=f"wizard-{ctype}-test",
        ),
        rx.cond(
            s.checks.get(ctype, "") != "",
            rx.text(
                s.checks.get(ctype, ""),
                size="2",
                color_scheme=rx.cond(s.checks_ok.get(ctype, False), "green", "red"),
                role="status",
                data_testid=f"wizard-{ctype}-check",
            ),
        ),
        spacing="3",
        align="center",
    )


def channel_setup(ctype: str) -> rx.Component:
    children = [
        rx.cond(
            WizardState.plain.get("signal.transport", "managed-native") != "managed-native",
            credential_input(spec),
        )
        if spec.key == SIGNAL_URL
        else credential_input(spec)
        for spec in CREDENTIAL_FIELDS
        if spec.channel == ctype
    ]
    if ctype in TESTABLE_CHANNELS:
        children.append(channel_test(ctype))
    if ctype in CHANNEL_NOTES:
        children.append(rx.text(CHANNEL_NOTES[ctype], size="2", color_scheme="gray"))
    return rx.card(
        rx.vstack(
            rx.heading(CHANNEL_INFO[ctype][0], size="3"),
            *children,
            error_of("channels." + ctype, "wizard-channel-" + ctype),
            spacing="3",
            width="100%",
        ),
        width="100%",
        data_testid="wizard-channel-setup-" + ctype,
    )


def channel_choice(ctype: str) -> rx.Component:
    title, description = CHANNEL_INFO[ctype]
    return rx.card(
        rx.el.label(
            rx.hstack(
                rx.checkbox(
                    checked=WizardState.form.channels.contains(ctype),
                    on_change=lambda v: WizardChannels.toggle_channel(ctype, v),
                    data_testid=f"wizard-channel-{ctype}",
                ),
                rx.vstack(
                    rx.text(title, weight="bold"),
                    rx.text(description, size="1", color_scheme="gray"),
                    spacing="0",
                ),
                spacing="3",
                align="start",
            )
        ),
        cursor="pointer",
    )


def step_channels() -> rx.Component:
    return rx.vstack(
        rx.text(
            "Where should people reach this bot? You can also skip channels and chat from the dashboard.",
            size="2",
        ),
        rx.grid(
            *[channel_choice(c) for c in CHANNEL_INFO],
            columns=rx.breakpoints(initial="1", sm="2", md="3"),
            spacing="3",
            width="100%",
        ),
        *[rx.cond(WizardState.form.channels.contains(c), channel_setup(c)) for c in CHANNEL_INFO],
        spacing="4",
        width="100%",
    )
