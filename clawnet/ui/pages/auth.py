"""Sign-in and registration pages.

Both check the form over the WebSocket (per-field messages, throttling), then hand the browser a
one-time ticket to post to `/auth/session`, which sets the HttpOnly session cookie.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import reflex as rx

from clawnet import routes, runtime
from clawnet.errors import UserError
from clawnet.ui.components.forms import form_error_banner, text_field
from clawnet.ui.components.layout import centered_card
from clawnet.ui.session import SessionState, post_form_script
from clawnet.ui.typed import Field, event, field


def _ticket_script(ticket: str, next_path: str) -> Any:
    return rx.call_script(post_form_script(routes.AUTH_SESSION, {"ticket": ticket, "next": next_path}))


class LoginState(rx.State):
    email_error: Field[str] = field("")
    password_error: Field[str] = field("")
    form_error: Field[str] = field("")
    busy: Field[bool] = field(False)
    first_visit: Field[bool] = field(False)
    needs_code: Field[bool] = field(False)  # the password was right; a two-factor code is due
    code_error: Field[str] = field("")
    _challenge: str = ""  # backend only: never sent to the browser

    @event
    async def on_load(self) -> Any:
        self.email_error = self.password_error = self.form_error = self.code_error = ""
        self.busy = self.needs_code = False
        self._challenge = ""
        self.first_visit = not await runtime.accounts().has_any_user()
        if self.first_visit:
            return rx.redirect(routes.REGISTER, replace=True)
        return None

    @event
    async def submit(self, form: dict[str, Any]) -> AsyncIterator[Any]:
        email = str(form.get("email", "")).strip()
        password = str(form.get("password", ""))
        self.email_error = "" if email else "Enter your email address."
        self.password_error = "" if password else "Enter your password."
        self.form_error = ""
        if self.email_error or self.password_error:
            return
        self.busy = True
        yield
        outcome = await runtime.accounts().sign_in(email, password, self.router.session.client_ip)
        self.busy = False
        if outcome.challenge:
            self._challenge, self.needs_code, self.code_error = outcome.challenge, True, ""
            return
        if outcome.ticket is None:
            self.form_error = outcome.error
            return
        next_path = routes.safe_next(self.router.url.query_parameters.get("next"))
        yield _ticket_script(outcome.ticket, next_path)

    @event
    async def submit_code(self, form: dict[str, Any]) -> AsyncIterator[Any]:
        """The second step: a code from the authenticator app, or a recovery code."""
        code = str(form.get("code", "")).strip()
        if not code:
            self.code_error = "Enter the code from your authenticator app, or a recovery code."
            return
        self.busy = True
        yield
        outcome = await runtime.accounts().complete_sign_in(
            self._challenge, code, self.router.session.client_ip
        )
        self.busy = False
        if outcome.ticket is None:
            self.code_error = outcome.error
            if "tries left" not in outcome.error:  # the challenge is over: back to the password
                self.needs_code, self._challenge = False, ""
                self.form_error, self.code_error = outcome.error, ""
            return
        self._challenge = ""
        next_path = routes.safe_next(self.router.url.query_parameters.get("next"))
        yield _ticket_script(outcome.ticket, next_path)


class RegisterState(rx.State):
    errors: Field[dict[str, str]] = field(default_factory=dict)
    busy: Field[bool] = field(False)
    first_visit: Field[bool] = field(False)

    @rx.var
    def email_error(self) -> str:
        return self.errors.get("email", "")

    @rx.var
    def display_name_error(self) -> str:
        return self.errors.get("display_name", "")

    @rx.var
    def handle_error(self) -> str:
        return self.errors.get("handle", "")

    @rx.var
    def password_error(self) -> str:
        return self.errors.get("password", "")

    @rx.var
    def confirm_error(self) -> str:
        return self.errors.get("confirm", "")

    @rx.var
    def form_error(self) -> str:
        return self.errors.get("form", "")

    @event
    async def on_load(self) -> None:
        self.errors = {}
        self.busy = False
        self.first_visit = not await runtime.accounts().has_any_user()

    @event
    async def submit(self, form: dict[str, Any]) -> AsyncIterator[Any]:
        values = {k: str(form.get(k, "")) for k in ("email", "display_name", "handle", "password", "confirm")}
        self.busy = True
        yield
        try:
            outcome = await runtime.accounts().register(
                email=values["email"],
                display_name=values["display_name"],
                password=values["password"],
                handle=values["handle"],
                confirm=values["confirm"],
            )
        except UserError as exc:
            self.busy = False
            self.errors = exc.field_errors or {"form": exc.message}
            return
        self.busy = False
        self.errors = {}
        if outcome.ticket:
            yield _ticket_script(outcome.ticket, routes.DASHBOARD)


@rx.page(route=routes.LOGIN, title="Sign in · ClawNet", on_load=[SessionState.load, LoginState.on_load])
def login_page() -> rx.Component:
    return centered_card(
        rx.heading("Sign in", size="6"),
        form_error_banner(LoginState.form_error, "login-error"),
        rx.cond(LoginState.needs_code, _code_form(), _password_form()),
        rx.text(
            "No account yet? ",
            rx.link("Create one", href=routes.REGISTER, data_testid="login-to-register"),
            size="2",
        ),
        testid="login-page",
    )


def _code_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.text("Enter the 6-digit code from your authenticator app, or one of your recovery codes."),
            text_field(
                "Code",
                name="code",
                testid="signin-totp-code",
                error=LoginState.code_error,
                auto_complete="one-time-code",
                input_mode="text",
                auto_focus=True,
            ),
            rx.button(
                "Verify",
                type="submit",
                width="100%",
                loading=LoginState.busy,
                data_testid="signin-totp-submit",
            ),
            spacing="4",
            width="100%",
        ),
        on_submit=LoginState.submit_code,
        reset_on_submit=True,
        width="100%",
        aria_label="Two-factor code",
        data_testid="signin-totp-form",
    )


def _password_form() -> rx.Component:
    return rx.vstack(
        rx.form(
            rx.vstack(
                text_field(
                    "Email",
                    name="email",
                    testid="login-email",
                    type="email",
                    error=LoginState.email_error,
                    auto_complete="username",
                    auto_focus=True,
                ),
                text_field(
                    "Password",
                    name="password",
                    testid="login-password",
                    type="password",
                    error=LoginState.password_error,
                    auto_complete="current-password",
                ),
                rx.button(
                    "Sign in",
                    type="submit",
                    width="100%",
                    loading=LoginState.busy,
                    data_testid="login-submit",
                ),
                spacing="4",
                width="100%",
            ),
            on_submit=LoginState.submit,
            reset_on_submit=False,
            width="100%",
            aria_label="Sign in",
            data_testid="login-form",
        ),
        rx.link("Forgot your password?", href=routes.FORGOT, size="2", data_testid="login-forgot"),
        spacing="4",
        width="100%",
    )


@rx.page(
    route=routes.REGISTER,
    title="Create account · ClawNet",
    on_load=[SessionState.load, RegisterState.on_load],
)
def register_page() -> rx.Component:
    return centered_card(
        rx.heading(rx.cond(RegisterState.first_visit, "Set up ClawNet", "Create your account"), size="6"),
        rx.cond(
            RegisterState.first_visit,
            rx.callout(
                "This is the first account: it becomes the administrator.",
                icon="shield_check",
                data_testid="register-first-admin-note",
            ),
        ),
        form_error_banner(RegisterState.form_error, "register-error"),
        rx.form(
            rx.vstack(
                text_field(
                    "Email",
                    name="email",
                    testid="register-email",
                    type="email",
                    error=RegisterState.email_error,
                    auto_complete="email",
                ),
                text_field(
                    "Display name",
                    name="display_name",
                    testid="register-display-name",
                    error=RegisterState.display_name_error,
                    auto_complete="name",
                ),
                text_field(
                    "Handle",
                    name="handle",
                    testid="register-handle",
                    error=RegisterState.handle_error,
                    hint="Your @name on the feed: lower-case letters, digits, underscores.",
                ),
                text_field(
                    "Password",
                    name="password",
                    testid="register-password",
                    type="password",
                    error=RegisterState.password_error,
                    auto_complete="new-password",
                    hint="At least 10 characters.",
                ),
                text_field(
                    "Repeat password",
                    name="confirm",
                    testid="register-confirm",
                    type="password",
                    error=RegisterState.confirm_error,
                    auto_complete="new-password",
                ),
                rx.button(
                    "Create account",
                    type="submit",
                    width="100%",
                    loading=RegisterState.busy,
                    data_testid="register-submit",
                ),
                spacing="4",
                width="100%",
            ),
            on_submit=RegisterState.submit,
            reset_on_submit=False,
            width="100%",
            aria_label="Create account",
            data_testid="register-form",
        ),
        rx.cond(
            ~RegisterState.first_visit,
            rx.text(
                "Have an account? ",
                rx.link("Sign in", href=routes.LOGIN, data_testid="register-to-login"),
                size="2",
            ),
        ),
        testid="register-page",
    )
