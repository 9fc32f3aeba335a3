"""Step 2, channels: where people reach the bot, and each channel's credentials.

A secret typed here goes to the backend-only `_creds` ("<channel>.<field>" -> value) when the
field loses focus; the browser keeps no copy in state and only learns that the field is set
("typed", or "stored" for a bot being edited)."""

from __future__ import annotations

import reflex as rx

from clawnet import runtime
from clawnet.errors import UserError
from clawnet.ui.pages.wizard.spec import (
    CHANNEL_INFO,
    CREDENTIAL_FIELDS,
    CREDENTIAL_KEYS,
    CREDENTIAL_MAX_CHARS,
    LAUNCH_STEP,
    CredentialField,
)
from clawnet.ui.pages.wizard.state import WizardState
from clawnet.ui.pages.wizard.widgets import error_of, labelled
from clawnet.ui.session import current_principal
from clawnet.ui.typed import event

TELEGRAM_CRED = "telegram.botToken"
# What a channel's card says besides its credential fields.
CHANNEL_NOTES = {
    "discord": "After saving, invite the bot to your server with the link on the bot's Channels tab.",
    "whatsapp": "No token needed: once the bot runs, open its Channels tab and scan the QR code with "
    "WhatsApp (Settings → Linked devices).",
}


class WizardChannels(WizardState):
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
        self._clear_errors("channels." + key)
        if key == TELEGRAM_CRED:
            self.telegram_check, self.telegram_check_ok = "", False

    @event
    async def test_telegram(self) -> None:
        """Try the Telegram token typed (or, editing, the stored one) with Telegram's getMe."""
        try:
            result = await runtime.bots().test_telegram(
                await current_principal(self), self._creds.get(TELEGRAM_CRED, ""), bot_id=self._bot_id()
            )
        except UserError as exc:
            self.telegram_check, self.telegram_check_ok = str(exc), False
            return
        self.telegram_check, self.telegram_check_ok = result.message, result.ok


def credential_input(spec: CredentialField) -> rx.Component:
    state = WizardState.creds_set.get(spec.key, "")
    return labelled(
        spec.label,
        rx.input(
            id=spec.testid,
            type="password",
            auto_complete="off",
            on_blur=lambda v: WizardChannels.set_credential(spec.key, v),
            placeholder=rx.match(
                state,
                ("stored", "•••••• stored — type to replace"),
                ("typed", "•••••• entered — type to replace"),
                "",
            ),
            data_testid=spec.testid,
        ),
        spec.testid,
        spec.hint,
        "channels." + spec.key,
    )


def telegram_test() -> rx.Component:
    return rx.hstack(
        rx.button(
            "Test connection",
            size="1",
            variant="soft",
            on_click=WizardChannels.test_telegram,
            data_testid="wizard-telegram-test",
        ),
        rx.cond(
            WizardState.telegram_check != "",
            rx.text(
                WizardState.telegram_check,
                size="2",
                color_scheme=rx.cond(WizardState.telegram_check_ok, "green", "red"),
                role="status",
                data_testid="wizard-telegram-check",
            ),
        ),
        spacing="3",
        align="center",
    )


def channel_setup(ctype: str) -> rx.Component:
    children = [credential_input(spec) for spec in CREDENTIAL_FIELDS if spec.channel == ctype]
    if ctype == "telegram":
        children.append(telegram_test())
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
