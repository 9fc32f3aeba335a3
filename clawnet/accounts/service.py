"""The accounts service: the UI's and the API's door to people, sign-in, sessions, roles,
bot assignments and the audit log. Database work runs off the event loop; every administrative
method checks the caller's permission itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlmodel import Session

from clawnet import audit
from clawnet.accounts import registration, sign_in, users
from clawnet.accounts.security import AccountSecurity
from clawnet.accounts.sign_in import IssuedSession, SignInOutcome
from clawnet.accounts.users import UserRow
from clawnet.audit import AuditRow
from clawnet.db import run_in_session
from clawnet.errors import UserError
from clawnet.security.permissions import Principal
from clawnet.settings import Settings

T = TypeVar("T")


class AccountsService(AccountSecurity):
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def _db(self, fn: Callable[[Session], T]) -> T:
        return await run_in_session(fn, self.settings.database_url)

    # --- who is signed in ------------------------------------------------------------------

    async def principal(self, token: str | None) -> Principal | None:
        """The principal of a session cookie's token (checked against the database each time)."""
        if not token:
            return None
        return await self._db(lambda s: sign_in.principal_for_token(s, token, self.settings))

    async def has_any_user(self) -> bool:
        return await self._db(registration.has_any_user)

    async def register(
        self, *, email: str, display_name: str, password: str, handle: str, confirm: str | None = None
    ) -> SignInOutcome:
        """Create an account and return a ticket to sign it in. Every problem is reported at once,
        by field (UserError); nothing is created then. `confirm` is the password typed twice."""
        mismatch = (
            {"confirm": "The two passwords differ."} if confirm is not None and confirm != password else {}
        )

        created: list[int] = []

        def create(session: Session) -> SignInOutcome:
            try:
                user = registration.register(
                    session, email=email, display_name=display_name, password=password, handle=handle
                )
            except UserError as exc:
                extra = mismatch if "password" not in exc.field_errors else {}
                raise UserError(field_errors={**exc.field_errors, **extra}) from None
            if mismatch:
                raise UserError(field_errors=mismatch)  # rolls the new account back
            created.append(user.id or 0)
            return SignInOutcome(ticket=sign_in.issue_login_ticket(session, user))

        outcome = await self._db(create)
        await self.send_first_verification(created[0])
        return outcome

    async def sign_in(self, email: str, password: str, client_ip: str) -> SignInOutcome:
        return await self._db(lambda s: sign_in.sign_in(s, email, password, client_ip, self.settings))

    async def redeem_ticket(
        self, ticket: str, *, previous_token: str | None, user_agent: str, client_ip: str
    ) -> IssuedSession:
        return await self._db(
            lambda s: sign_in.redeem_login_ticket(
                s,
                ticket,
                previous_token=previous_token,
                user_agent=user_agent,
                client_ip=client_ip,
                settings=self.settings,
            )
        )

    async def sign_out(self, token: str) -> None:
        await self._db(lambda s: sign_in.revoke_session(s, token))

    # --- administration --------------------------------------------------------------------

    async def users(self, actor: Principal | None) -> list[UserRow]:
        return await self._db(lambda s: users.list_users(s, actor))

    async def set_role(self, actor: Principal | None, user_id: int, role: str) -> None:
        await self._db(lambda s: users.set_role(s, actor, user_id, role))

    async def set_active(self, actor: Principal | None, user_id: int, active: bool) -> None:
        await self._db(lambda s: users.set_active(s, actor, user_id, active))

    async def set_bot_assignments(
        self, actor: Principal | None, user_id: int, bot_ids: list[int]
    ) -> list[int]:
        return await self._db(lambda s: users.set_bot_assignments(s, actor, user_id, bot_ids))

    async def audit_log(
        self, actor: Principal | None, *, search: str = "", limit: int = 100
    ) -> list[AuditRow]:
        return await self._db(lambda s: audit.recent_events(s, actor, limit=limit, search=search))
