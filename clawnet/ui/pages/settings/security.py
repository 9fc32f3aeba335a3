"""Settings, "Sign-in security": two-factor sign-in (TOTP) with recovery codes, the admin's switch
that requires it for admins and operators, and the person's own login sessions.

The TOTP secret and the recovery codes are in state only while they are shown to their owner,
once; every handler passes the signed-in principal to the accounts service, which checks it."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import runtime
from clawnet.accounts.login_sessions import SessionRow
from clawnet.accounts.sign_in import token_from_cookie_header
from clawnet.errors import UserError
from clawnet.ui.components.forms import form_error_banner, text_field
from clawnet.ui.session import current_principal, error_toast
from clawnet.ui.typed import Field, event, field


class SecurityState(rx.State):
    enabled: Field[bool] = field(False)
    recovery_left: Field[int] = field(0)
    must_set_up: Field[bool] = field(False)
    required: Field[bool] = field(False)
    is_admin: Field[bool] = field(False)
    setup_uri: Field[str] = field("")  # shown once to its owner, cleared when confirmed
    setup_secret: Field[str] = field("")
    recovery_codes: Field[list[str]] = field(default_factory=list)  # shown once
    errors: Field[dict[str, str]] = field(default_factory=dict)
    sessions: Field[list[SessionRow]] = field(default_factory=list)
    email: Field[str] = field("")

    def _token(self) -> str | None:
        return token_from_cookie_header(self.router.headers.cookie)

    async def _refresh(self) -> None:
        principal = await current_principal(self)
        if principal is None:
            self.enabled = self.must_set_up = self.is_admin = False
            self.sessions = []
            return
        status = await runtime.accounts().two_factor_status(principal)
        self.enabled, self.recovery_left = status.enabled, status.recovery_codes_left
        self.must_set_up, self.required = status.must_set_up, status.required_for_staff
        self.is_admin, self.email = principal.is_admin, principal.email
        self.sessions = await runtime.accounts().my_sessions(principal, self._token())

    @event
    async def load(self) -> None:
        self.setup_uri = self.setup_secret = ""
        self.recovery_codes, self.errors = [], {}
        await self._refresh()

    @event
    async def start_setup(self) -> Any:
        try:
            setup = await runtime.accounts().begin_totp_setup(await current_principal(self))
        except UserError as exc:
            return error_toast(exc)
        self.setup_uri, self.setup_secret, self.errors = setup.uri, setup.secret, {}
        return None

    @event
    async def enable(self, form: dict[str, Any]) -> Any:
        code = str(form.get("code", ""))
        try:
            codes = await runtime.accounts().enable_totp(await current_principal(self), code)
        except UserError as exc:
            self.errors = exc.field_errors or {"form": exc.message}
            return None
        self.setup_uri = self.setup_secret = ""
        self.recovery_codes, self.errors = codes, {}
        await self._refresh()
        return rx.toast.success("Two-factor sign-in is on.")

    @event
    def hide_codes(self) -> None:
        self.recovery_codes = []

    @event
    async def disable(self, form: dict[str, Any]) -> Any:
        password, code = str(form.get("password", "")), str(form.get("code", ""))
        try:
            await runtime.accounts().disable_totp(await current_principal(self), password, code)
        except UserError as exc:
            self.errors = exc.field_errors or {"form": exc.message}
            return None
        self.errors = {}
        await self._refresh()
        return rx.toast.success("Two-factor sign-in is off.")

    @event
    async def change_email(self, form: dict[str, Any]) -> Any:
        new_email, password = str(form.get("email", "")), str(form.get("password", ""))
        try:
            await runtime.accounts().change_email(await current_principal(self), new_email, password)
        except UserError as exc:
            self.errors = {f"email_{k}": v for k, v in exc.field_errors.items()} or {"form": exc.message}
            return None
        self.errors = {}
        await self._refresh()
        return rx.toast.success("Email address changed. If mail is set up, check the new inbox for a link.")

    @event
    async def set_required(self, value: bool) -> Any:
        try:
            await runtime.accounts().set_two_factor_required(await current_principal(self), bool(value))
        except UserError as exc:
            return error_toast(exc)
        await self._refresh()
        return rx.toast.success(
            "Two-factor sign-in is now required for admins and operators."
            if value
            else "Two-factor sign-in is optional again."
        )

    @event
    async def revoke(self, session_id: int) -> Any:
        try:
            await runtime.accounts().revoke_my_session(await current_principal(self), int(session_id))
        except (UserError, ValueError, TypeError) as exc:
            return error_toast(exc if isinstance(exc, UserError) else UserError("No such session."))
        await self._refresh()
        return rx.toast.success("That session is signed out.")

    @event
    async def revoke_others(self) -> Any:
        try:
            count = await runtime.accounts().revoke_my_other_sessions(
                await current_principal(self), self._token()
            )
        except UserError as exc:
            return error_toast(exc)
        await self._refresh()
        return rx.toast.success(f"Signed out {count} other session{'s' if count != 1 else ''}.")


def _setup_block() -> rx.Component:
    s = SecurityState
    return rx.cond(
        s.setup_uri != "",
        rx.form(
            rx.vstack(
                rx.text("Add this key to your authenticator app (scan or paste the link, or type the key):"),
                rx.code(s.setup_uri, data_testid="totp-uri", word_break="break-all"),
                rx.text("Key: ", rx.code(s.setup_secret, data_testid="totp-secret"), size="2"),
                text_field(
                    "Code from the app",
                    name="code",
                    testid="totp-code",
                    error=s.errors.get("code", ""),
                    auto_complete="one-time-code",
                    input_mode="numeric",
                ),
                rx.button("Turn on", type="submit", data_testid="totp-enable"),
                spacing="2",
                width="100%",
                max_width="36em",
            ),
            on_submit=SecurityState.enable,
            reset_on_submit=True,
            aria_label="Confirm two-factor sign-in",
        ),
        rx.button(
            "Set up two-factor sign-in",
            on_click=SecurityState.start_setup,
            data_testid="totp-setup",
        ),
    )


def _disable_block() -> rx.Component:
    s = SecurityState
    return rx.form(
        rx.vstack(
            rx.text(
                "Two-factor sign-in is on. Recovery codes left: ",
                rx.text.strong(s.recovery_left, data_testid="recovery-codes-left"),
                data_testid="totp-on",
            ),
            text_field(
                "Password",
                name="password",
                testid="totp-disable-password",
                type="password",
                error=s.errors.get("password", ""),
                auto_complete="current-password",
            ),
            text_field(
                "Code (or a recovery code)",
                name="code",
                testid="totp-disable-code",
                error=s.errors.get("code", ""),
                auto_complete="one-time-code",
            ),
            rx.button(
                "Turn off two-factor sign-in", type="submit", color_scheme="red", data_testid="totp-disable"
            ),
            spacing="2",
            width="100%",
            max_width="36em",
        ),
        on_submit=SecurityState.disable,
        reset_on_submit=True,
        aria_label="Turn off two-factor sign-in",
    )


def _recovery_codes() -> rx.Component:
    s = SecurityState
    return rx.cond(
        s.recovery_codes.length() > 0,
        rx.callout.root(
            rx.vstack(
                rx.text(
                    "Your recovery codes. Keep them somewhere safe: each one signs you in once without "
                    "the app. They are shown only now.",
                    weight="medium",
                ),
                rx.el.ul(
                    rx.foreach(s.recovery_codes, lambda c: rx.el.li(rx.code(c))),
                    style={"columns": "2", "listStyle": "none", "paddingLeft": "0"},
                ),
                rx.button("I saved them", size="1", variant="soft", on_click=SecurityState.hide_codes),
                spacing="2",
            ),
            color_scheme="amber",
            data_testid="recovery-codes",
        ),
    )


def _session_row(row: Any) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.text(row.device, weight="medium"),
                rx.text(row.user_agent, size="1", color_scheme="gray", title=row.user_agent),
                spacing="0",
            )
        ),
        rx.table.cell(row.client_ip),
        rx.table.cell(row.created),
        rx.table.cell(row.last_seen),
        rx.table.cell(
            rx.cond(
                row.current,
                rx.badge("This browser", color_scheme="green", data_testid="session-current"),
                rx.button(
                    "Sign out",
                    size="1",
                    variant="soft",
                    color_scheme="red",
                    on_click=SecurityState.revoke(row.id),
                    aria_label="Sign out this session",
                    data_testid="session-revoke",
                ),
            )
        ),
        data_testid="session-row",
        data_current=rx.cond(row.current, "true", "false"),
    )


def _sessions_block() -> rx.Component:
    return rx.vstack(
        rx.heading("Signed-in sessions", size="3"),
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *[
                        rx.table.column_header_cell(h)
                        for h in ("Device", "Address", "Signed in", "Last seen", "")
                    ]
                )
            ),
            rx.table.body(rx.foreach(SecurityState.sessions, _session_row)),
            width="100%",
            data_testid="sessions-list",
        ),
        rx.button(
            "Sign out everywhere else",
            variant="soft",
            color_scheme="red",
            on_click=SecurityState.revoke_others,
            data_testid="sessions-revoke-others",
        ),
        spacing="2",
        width="100%",
    )


def _email_block() -> rx.Component:
    s = SecurityState
    return rx.form(
        rx.vstack(
            rx.heading("Email address", size="3"),
            rx.text("Now: ", rx.text.strong(s.email, data_testid="email-current"), size="2"),
            text_field(
                "New email address",
                name="email",
                testid="email-new",
                type="email",
                error=s.errors.get("email_email", ""),
                auto_complete="email",
            ),
            text_field(
                "Password",
                name="password",
                testid="email-password",
                type="password",
                error=s.errors.get("email_password", ""),
                auto_complete="current-password",
            ),
            rx.button("Change email address", type="submit", variant="soft", data_testid="email-change"),
            spacing="2",
            width="100%",
            max_width="36em",
        ),
        on_submit=SecurityState.change_email,
        reset_on_submit=True,
        aria_label="Change email address",
    )


def security_section() -> rx.Component:
    s = SecurityState
    return rx.vstack(
        rx.heading("Sign-in security", size="4", id="security"),
        rx.cond(
            s.must_set_up,
            rx.callout(
                "An admin requires two-factor sign-in for your role: set it up to continue.",
                icon="shield_alert",
                color_scheme="red",
                data_testid="totp-required-note",
            ),
        ),
        form_error_banner(s.errors.get("form", ""), "security-error"),
        _recovery_codes(),
        rx.cond(s.enabled, _disable_block(), _setup_block()),
        rx.cond(
            s.is_admin,
            rx.el.label(
                rx.hstack(
                    rx.switch(
                        checked=s.required,
                        on_change=SecurityState.set_required,
                        data_testid="require-2fa",
                        aria_label="Require two-factor sign-in for admins and operators",
                    ),
                    rx.text("Require two-factor sign-in for admins and operators"),
                    align="center",
                    spacing="2",
                )
            ),
        ),
        _sessions_block(),
        _email_block(),
        spacing="3",
        width="100%",
        data_testid="settings-security",
    )
