"""The pages behind the links ClawNet mails: ask for a password reset (`/forgot`), choose a new
password (`/reset/<token>`), confirm an email address (`/verify/<token>`).

The token is read from the URL by every handler (it is never kept in state); the service checks
it, once, in constant time by its hash."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import reflex as rx

from clawnet import routes, runtime
from clawnet.errors import UserError
from clawnet.ui.components.forms import form_error_banner, text_field
from clawnet.ui.components.layout import centered_card
from clawnet.ui.session import SessionState
from clawnet.ui.typed import Field, event, field


def _token(state: rx.State) -> str:
    """The last segment of the page's path (`/reset/<token>`)."""
    parts = [p for p in (state.router.url.path or "").split("/") if p]
    return parts[1] if len(parts) > 1 else ""


class ForgotState(rx.State):
    sent: Field[str] = field("")
    error: Field[str] = field("")
    busy: Field[bool] = field(False)

    @event
    def on_load(self) -> None:
        self.sent = self.error = ""
        self.busy = False

    @event
    async def submit(self, form: dict[str, Any]) -> AsyncIterator[Any]:
        email = str(form.get("email", "")).strip()
        self.error = ""
        if not email:
            self.error = "Enter your email address."
            return
        self.busy = True
        yield
        try:
            self.sent = await runtime.accounts().forgot_password(email, self.router.session.client_ip)
        except UserError as exc:
            self.error = exc.field_errors.get("email", "") or exc.message
        self.busy = False


class ResetState(rx.State):
    valid: Field[bool] = field(False)
    checked: Field[bool] = field(False)
    done: Field[bool] = field(False)
    errors: Field[dict[str, str]] = field(default_factory=dict)
    busy: Field[bool] = field(False)

    @event
    async def on_load(self) -> None:
        self.errors, self.done, self.busy = {}, False, False
        self.valid = await runtime.accounts().reset_link_valid(_token(self))
        self.checked = True

    @event
    async def submit(self, form: dict[str, Any]) -> AsyncIterator[Any]:
        password, confirm = str(form.get("password", "")), str(form.get("confirm", ""))
        self.busy = True
        yield
        try:
            await runtime.accounts().reset_password(_token(self), password, confirm)
        except UserError as exc:
            self.busy = False
            self.errors = exc.field_errors or {"form": exc.message}
            return
        self.busy, self.errors, self.done = False, {}, True


class VerifyState(rx.State):
    message: Field[str] = field("")
    ok: Field[bool] = field(False)

    @event
    async def on_load(self) -> None:
        try:
            email = await runtime.accounts().verify_email(_token(self))
        except UserError as exc:
            self.ok, self.message = False, exc.message
            return
        self.ok, self.message = True, f"Thank you: {email} is confirmed."


@rx.page(
    route=routes.FORGOT,
    title="Reset your password · ClawNet",
    on_load=[SessionState.load, ForgotState.on_load],
)
def forgot_page() -> rx.Component:
    return centered_card(
        rx.heading("Reset your password", size="6"),
        rx.cond(
            ForgotState.sent != "",
            rx.callout(ForgotState.sent, icon="mail", data_testid="forgot-sent"),
            rx.form(
                rx.vstack(
                    rx.text("Enter the email address of your account; we will mail you a link.", size="2"),
                    text_field(
                        "Email",
                        name="email",
                        testid="forgot-email",
                        type="email",
                        error=ForgotState.error,
                        auto_complete="username",
                        auto_focus=True,
                    ),
                    rx.button(
                        "Send the link",
                        type="submit",
                        width="100%",
                        loading=ForgotState.busy,
                        data_testid="forgot-submit",
                    ),
                    spacing="4",
                    width="100%",
                ),
                on_submit=ForgotState.submit,
                reset_on_submit=False,
                width="100%",
                aria_label="Reset your password",
            ),
        ),
        rx.link("Back to sign in", href=routes.LOGIN, size="2", data_testid="forgot-to-login"),
        testid="forgot-page",
    )


@rx.page(
    route=routes.RESET,
    title="Choose a new password · ClawNet",
    on_load=[SessionState.load, ResetState.on_load],
)
def reset_page() -> rx.Component:
    s = ResetState
    return centered_card(
        rx.heading("Choose a new password", size="6"),
        rx.cond(
            s.done,
            rx.callout(
                "Your password is changed and every session was signed out. Sign in with the new password.",
                icon="check",
                color_scheme="green",
                data_testid="reset-done",
            ),
            rx.cond(
                s.valid,
                rx.form(
                    rx.vstack(
                        form_error_banner(s.errors.get("form", ""), "reset-error"),
                        text_field(
                            "New password",
                            name="password",
                            testid="reset-password",
                            type="password",
                            error=s.errors.get("password", ""),
                            auto_complete="new-password",
                            hint="At least 10 characters.",
                            auto_focus=True,
                        ),
                        text_field(
                            "Repeat the new password",
                            name="confirm",
                            testid="reset-confirm",
                            type="password",
                            error=s.errors.get("confirm", ""),
                            auto_complete="new-password",
                        ),
                        rx.button(
                            "Set the new password",
                            type="submit",
                            width="100%",
                            loading=s.busy,
                            data_testid="reset-submit",
                        ),
                        spacing="4",
                        width="100%",
                    ),
                    on_submit=ResetState.submit,
                    reset_on_submit=False,
                    width="100%",
                    aria_label="Choose a new password",
                ),
                rx.cond(
                    s.checked,
                    rx.callout(
                        "This link has expired or was already used.",
                        icon="triangle_alert",
                        color_scheme="red",
                        data_testid="reset-invalid",
                    ),
                ),
            ),
        ),
        rx.hstack(
            rx.link("Sign in", href=routes.LOGIN, size="2", data_testid="reset-to-login"),
            rx.link("Ask for a new link", href=routes.FORGOT, size="2"),
            spacing="4",
        ),
        testid="reset-page",
    )


@rx.page(
    route=routes.VERIFY,
    title="Confirm your email · ClawNet",
    on_load=[SessionState.load, VerifyState.on_load],
)
def verify_page() -> rx.Component:
    return centered_card(
        rx.heading("Confirm your email", size="6"),
        rx.cond(
            VerifyState.ok,
            rx.callout(VerifyState.message, icon="check", color_scheme="green", data_testid="verify-result"),
            rx.cond(
                VerifyState.message != "",
                rx.callout(
                    VerifyState.message,
                    icon="triangle_alert",
                    color_scheme="red",
                    data_testid="verify-result",
                ),
            ),
        ),
        rx.link("Continue", href=routes.FEED, size="2", data_testid="verify-continue"),
        testid="verify-page",
    )
