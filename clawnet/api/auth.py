"""Cookie routes: turn a one-time sign-in ticket into an HttpOnly session cookie, and clear it.

These are plain form posts (full navigations), so the WebSocket reconnects with the new cookie.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from clawnet import routes
from clawnet.accounts import service as accounts
from clawnet.db import session_scope
from clawnet.settings import get_settings
from clawnet.state import token_from_cookie_header


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


async def create_session(request: Request) -> Response:
    form = await request.form()
    ticket = str(form.get("ticket", ""))
    next_path = routes.safe_next(str(form.get("next", "")))
    previous = token_from_cookie_header(request.headers.get("cookie", ""))

    def redeem() -> accounts.IssuedSession:
        with session_scope() as session:
            return accounts.redeem_login_ticket(
                session,
                ticket,
                previous_token=previous,
                user_agent=request.headers.get("user-agent", ""),
                client_ip=_client_ip(request),
            )

    try:
        issued = await asyncio.to_thread(redeem)
    except accounts.AccountError:
        return RedirectResponse(routes.LOGIN, status_code=303)
    settings = get_settings()
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        routes.SESSION_COOKIE,
        issued.token,
        max_age=settings.login_session_days * 86400,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
    )
    return response


async def end_session(request: Request) -> Response:
    token = token_from_cookie_header(request.headers.get("cookie", ""))
    if token:

        def revoke() -> None:
            with session_scope() as session:
                accounts.revoke_session(session, token)

        await asyncio.to_thread(revoke)
    response = RedirectResponse(routes.LOGIN, status_code=303)
    response.delete_cookie(routes.SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


ROUTES = [
    Route(routes.AUTH_SESSION, create_session, methods=["POST"]),
    Route(routes.AUTH_LOGOUT, end_session, methods=["POST"]),
]
