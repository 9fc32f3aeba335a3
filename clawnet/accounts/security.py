"""The accounts service's security part (`AccountSecurity`, a mixin of AccountsService):
password reset and email verification by mail, TOTP two-factor sign-in, the person's own login
sessions. Every method that acts for someone takes the acting principal and checks it inside."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TypeVar

from sqlmodel import Session

from clawnet.accounts import login_sessions, recovery, registration, sign_in, two_factor
from clawnet.accounts.login_sessions import SessionRow
from clawnet.accounts.sign_in import SignInOutcome
from clawnet.accounts.two_factor import TotpSetup, TwoFactorStatus
from clawnet.errors import RateLimited, UserError
from clawnet.mail import MailError, MailService
from clawnet.security.permissions import Principal
from clawnet.security.rate_limit import rate_limiter, wait_phrase
from clawnet.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

FORGOT_ANSWER = (
    "If an account uses this address, a link to choose a new password is on its way. "
    "It works once, for an hour."
)
FORGOT_PER_CLIENT = (5, 15 * 60)  # requests, seconds
FORGOT_PER_ADDRESS = (3, 60 * 60)


def reset_path(token: str) -> str:
    return f"/reset/{token}"


def verify_path(token: str) -> str:
    return f"/verify/{token}"


class AccountSecurity:
    settings: Settings
    _mail_tasks: set[asyncio.Task[None]]

    async def _db(self, fn: Callable[[Session], T]) -> T:  # provided by AccountsService
        raise NotImplementedError

    # --- mail ------------------------------------------------------------------------------

    def mailer(self) -> MailService:
        return MailService(self.settings)

    @property
    def mail_configured(self) -> bool:
        return self.mailer().configured

    def _link(self, path: str) -> str:
        return self.settings.public_url.rstrip("/") + path

    def _send_later(self, to: str, subject: str, text: str) -> None:
        """Send in the background, so how long a request takes says nothing about the account."""

        async def run() -> None:
            try:
                await self.mailer().send(to, subject, text)
            except MailError as exc:
                log.warning("account mail to %s failed: %s", to, exc)

        if not hasattr(self, "_mail_tasks"):
            self._mail_tasks = set()
        task = asyncio.get_running_loop().create_task(run())
        self._mail_tasks.add(task)
        task.add_done_callback(self._mail_tasks.discard)

    async def wait_for_mail(self) -> None:
        """Wait for mail being sent in the background (tests, shutdown)."""
        while getattr(self, "_mail_tasks", None):
            await asyncio.gather(*list(self._mail_tasks), return_exceptions=True)

    # --- password reset --------------------------------------------------------------------

    async def forgot_password(self, email: str, client_ip: str) -> str:
        """Mail a reset link when the address has an account. The answer is the same either way
        (and so is the time it takes); too many requests per client or per address are refused."""
        if not self.mail_configured:
            raise UserError("Password reset by email is not set up here. Ask an admin to reset it.")
        address = registration.normalize_email(email)[:254]
        if not address:
            raise UserError(field_errors={"email": "Enter your email address."})
        backend = rate_limiter(self.settings).backend
        for key, (count, window) in (
            (f"forgot-client:{client_ip[:64]}", FORGOT_PER_CLIENT),
            (f"forgot-address:{address}", FORGOT_PER_ADDRESS),
        ):
            wait = await asyncio.to_thread(backend.hit, key, count, window)
            if wait > 0:
                raise RateLimited(f"Too many reset requests. Try again in {wait_phrase(wait)}.", wait)
        found = await self._db(lambda s: recovery.request_reset(s, address))
        if found is not None:
            to, token = found
            self._send_later(
                to,
                "Reset your ClawNet password",
                "Someone (hopefully you) asked to reset the password of your ClawNet account.\n\n"
                f"Choose a new password here (the link works once, for an hour):\n{self._link(reset_path(token))}\n\n"
                "If it was not you, ignore this message: your password stays as it is.\n",
            )
        return FORGOT_ANSWER

    async def reset_link_valid(self, token: str) -> bool:
        return await self._db(lambda s: recovery.reset_link_valid(s, token))

    async def reset_password(self, token: str, password: str, confirm: str | None = None) -> None:
        """Set a new password with a reset link; every session of the account ends."""
        await self._db(lambda s: recovery.reset_password(s, token, password, confirm))

    # --- email verification ----------------------------------------------------------------

    def _send_verification(self, to: str, token: str) -> None:
        self._send_later(
            to,
            "Confirm your email address for ClawNet",
            "Please confirm that this is your email address:\n"
            f"{self._link(verify_path(token))}\n\nThe link works once, for three days.\n",
        )

    async def send_first_verification(self, user_id: int) -> None:
        """After registration (or a change of address), when mail is configured."""
        if not self.mail_configured:
            return
        found = await self._db(lambda s: recovery.issue_verification(s, user_id, limit=False))
        if found is not None:
            self._send_verification(*found)

    async def resend_verification(self, actor: Principal | None) -> None:
        if not self.mail_configured:
            raise UserError("Outgoing email is not set up here.")

        def issue(s: Session) -> tuple[str, str] | None:
            user = two_factor.me(s, actor)
            return recovery.issue_verification(s, user.id or 0)

        found = await self._db(issue)
        if found is None:
            raise UserError("Your email address is already verified.")
        self._send_verification(*found)

    async def needs_verification(self, actor: Principal | None) -> bool:
        """True for a signed-in person whose address is unverified, when mail is configured."""
        if actor is None or not self.mail_configured:
            return False
        return await self._db(lambda s: recovery.needs_verification(s, actor.user_id))

    async def change_email(self, actor: Principal | None, new_email: str, password: str) -> None:
        """Change one's own address; a verification link goes to the new one (when mail is set up)."""
        user_id = await self._db(lambda s: recovery.change_email(s, actor, new_email, password))
        await self.send_first_verification(user_id)

    async def verify_email(self, token: str) -> str:
        return await self._db(lambda s: recovery.verify_email(s, token))

    # --- two-factor sign-in ----------------------------------------------------------------

    async def two_factor_status(self, actor: Principal | None) -> TwoFactorStatus:
        return await self._db(lambda s: two_factor.status(s, actor))

    async def must_set_up_two_factor(self, actor: Principal | None) -> bool:
        if actor is None:
            return False
        return await self._db(lambda s: two_factor.must_set_up(s, two_factor.me(s, actor)))

    async def begin_totp_setup(self, actor: Principal | None) -> TotpSetup:
        return await self._db(lambda s: two_factor.begin_setup(s, actor))

    async def enable_totp(self, actor: Principal | None, code: str) -> list[str]:
        """Turn TOTP on; returns the ten recovery codes (shown once)."""
        return await self._db(lambda s: two_factor.enable(s, actor, code))

    async def disable_totp(self, actor: Principal | None, password: str, code: str) -> None:
        await self._db(lambda s: two_factor.disable(s, actor, password, code))

    async def set_two_factor_required(self, actor: Principal | None, value: bool) -> None:
        await self._db(lambda s: two_factor.set_required(s, actor, value))

    async def complete_sign_in(self, challenge: str, code: str, client_ip: str) -> SignInOutcome:
        """The second step of signing in: a TOTP or recovery code for the challenge the password
        step returned. A wrong code is recorded (the transaction commits), never raised."""

        def run(s: Session) -> SignInOutcome:
            found = two_factor.complete_challenge(s, challenge, code, client_ip, self.settings)
            if isinstance(found, str):
                return SignInOutcome(error=found, challenge=challenge)
            return SignInOutcome(ticket=sign_in.issue_login_ticket(s, found))

        return await self._db(run)

    # --- login sessions --------------------------------------------------------------------

    async def my_sessions(self, actor: Principal | None, current_token: str | None) -> list[SessionRow]:
        return await self._db(lambda s: login_sessions.list_sessions(s, actor, current_token))

    async def revoke_my_session(self, actor: Principal | None, session_id: int) -> None:
        await self._db(lambda s: login_sessions.revoke(s, actor, session_id))

    async def revoke_my_other_sessions(self, actor: Principal | None, current_token: str | None) -> int:
        return await self._db(lambda s: login_sessions.revoke_others(s, actor, current_token))
