"""Cookie routes: turn a one-time sign-in ticket into an HttpOnly session cookie, and clear it.

These are plain form posts (full navigations), so the WebSocket reconnects with the new cookie.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from clawnet import routes, runtime
from clawnet.accounts.sign_in import token_from_cookie_header
from clawnet.errors import UserError


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


async def create_session(request: Request) -> Response:
    form = await request.form()
    next_path = routes.safe_next(str(form.get("next", "")))
    try:
        issued = await runtime.accounts().redeem_ticket(
            str(form.get("ticket", "")),
            previous_token=token_from_cookie_header(request.headers.get("cookie", "")),
            user_agent=request.headers.get("user-agent", ""),
            client_ip=_client_ip(request),
        )
    except UserError:
        return RedirectResponse(routes.LOGIN, status_code=303)
    settings = runtime.accounts().settings
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
        await runtime.accounts().sign_out(token)
    response = RedirectResponse(routes.LOGIN, status_code=303)
    response.delete_cookie(routes.SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


ROUTES = [
    Route(routes.AUTH_SESSION, create_session, methods=["POST"]),
    Route(routes.AUTH_LOGOUT, end_session, methods=["POST"]),
]
