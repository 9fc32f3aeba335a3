"""The shared session state: who is signed in. Imports nothing from pages.

Identity comes from the HttpOnly session cookie on the WebSocket connection (read on the server
from the connection's headers; the browser never sees the token in state). Every handler that
acts asks `current_principal` (checked against the database each time) and passes it to a
service, which checks the permission.
"""

from __future__ import annotations

import json
from typing import Any

import reflex as rx

from clawnet import routes, runtime
from clawnet.accounts.sign_in import token_from_cookie_header
from clawnet.enums import Role
from clawnet.errors import UserError
from clawnet.security.permissions import Action, Principal, role_allows
from clawnet.ui.typed import Field, event, field


class SessionState(rx.State):
    """Who is signed in, for the layout and for every page's permission checks."""

    user_id: Field[int] = field(0)
    user_name: Field[str] = field("")
    user_email: Field[str] = field("")
    user_role: Field[str] = field("")

    async def _principal(self) -> Principal | None:
        """The signed-in principal, checked against the database on every call."""
        return await runtime.accounts().principal(token_from_cookie_header(self.router.headers.cookie))

    def _remember(self, principal: Principal | None) -> None:
        self.user_id = principal.user_id if principal else 0
        self.user_name = principal.display_name if principal else ""
        self.user_email = principal.email if principal else ""
        self.user_role = principal.role.value if principal else ""

    @rx.var
    def signed_in(self) -> bool:
        return self.user_id != 0

    @rx.var
    def is_admin(self) -> bool:
        return self.user_role == Role.ADMIN.value

    @rx.var
    def sees_fleet(self) -> bool:
        return bool(self.user_role) and role_allows(Role(self.user_role), Action.VIEW_FLEET)

    @rx.var
    def can_create_bots(self) -> bool:
        return bool(self.user_role) and role_allows(Role(self.user_role), Action.CREATE_BOT)

    @event
    async def load(self) -> Any:
        """on_load of public pages: show who is signed in, if anyone."""
        principal = await self._principal()
        self._remember(principal)
        return await self._two_factor_gate(principal) if principal is not None else None

    @event
    async def require_sign_in(self) -> Any:
        """on_load of pages for signed-in people."""
        principal = await self._principal()
        self._remember(principal)
        if principal is None:
            return rx.redirect(routes.login_with_next(self.router.url.path or "/"), replace=True)
        return await self._two_factor_gate(principal)

    async def _two_factor_gate(self, principal: Principal) -> Any:
        """Admins and operators without two-factor sign-in, when an admin requires it, are sent to
        set it up before anything else (Settings is the one page left open to them)."""
        path = (self.router.url.path or "/").rstrip("/") or "/"
        if path == routes.SETTINGS:
            return None
        try:
            must = await runtime.accounts().must_set_up_two_factor(principal)
        except UserError:  # deactivated since the page was opened: the next check signs them out
            return None
        return rx.redirect(routes.SETTINGS_SECURITY, replace=True) if must else None

    @event
    async def require_fleet(self) -> Any:
        """on_load of fleet pages: signed in, with a role that sees the fleet."""
        principal = await self._principal()
        self._remember(principal)
        if principal is None:
            first_visit = not await runtime.accounts().has_any_user()
            target = routes.REGISTER if first_visit else routes.login_with_next(self.router.url.path or "/")
            return rx.redirect(target, replace=True)
        if not role_allows(principal.role, Action.VIEW_FLEET):
            return rx.redirect(routes.FEED, replace=True)
        return await self._two_factor_gate(principal)

    @event
    async def sign_out(self) -> Any:
        """Revoke the session server-side, then let the logout route clear the cookie."""
        token = token_from_cookie_header(self.router.headers.cookie)
        if token:
            await runtime.accounts().sign_out(token)
        self._remember(None)
        return rx.call_script(post_form_script(routes.AUTH_LOGOUT, {}))


async def current_principal(state: rx.State) -> Principal | None:
    """The signed-in principal of the browser `state` belongs to (checked against the database)."""
    session_state = await state.get_state(SessionState)
    return await session_state._principal()


def error_toast(exc: UserError) -> Any:
    """How a refused action is shown when no form field is to blame."""
    return rx.toast.error(str(exc))


def post_form_script(action: str, fields: dict[str, str]) -> str:
    """JavaScript that posts a form to `action` (a full navigation, so the response can set
    cookies and the WebSocket reconnects with them)."""
    return (
        "(() => {const f=document.createElement('form');f.method='post';"
        f"f.action={json.dumps(action)};"
        f"for (const [k,v] of Object.entries({json.dumps(fields)}))"
        "{const i=document.createElement('input');i.type='hidden';i.name=k;i.value=v;f.appendChild(i);}"
        "document.body.appendChild(f);f.submit();})()"
    )
