"""OAuth 2 routes for Mastodon clients (the protocol is authlib's, in the social service):

GET  /oauth/authorize   the consent page (server-rendered; the signed-in person approves or denies)
POST /oauth/authorize   the answer: a redirect to the app with a code (or the code to paste, for
                        the out-of-band redirect URI)
POST /oauth/token       authorization_code and client_credentials grants
POST /oauth/revoke      RFC 7009

The consent form is CSRF-safe twice: the guard refuses cross-site POSTs, and the form carries a
token derived from the person's session cookie, which another site can neither read nor guess.
"""

from __future__ import annotations

import hashlib
import hmac
from html import escape
from urllib.parse import parse_qsl, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from clawnet import routes, runtime
from clawnet.accounts.sign_in import token_from_cookie_header
from clawnet.social.mastodon_oauth import OOB, Plain, redirect_uri_allowed

AUTHORIZE = "/oauth/authorize"
FIELDS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)

_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">{head}<title>{title} · ClawNet</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#1f2328}}
button{{font-size:1rem;padding:.5rem 1.2rem;margin-right:.5rem;border-radius:6px;border:1px solid #888;cursor:pointer}}
.approve{{background:#2563eb;color:white;border-color:#2563eb}} code{{font-size:1.2rem;word-break:break-all}}
li{{margin:.2rem 0}}</style></head><body><main>{body}</main></body></html>"""


def _page(title: str, body: str, status: int = 200, head: str = "") -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title=escape(title), body=body, head=head), status_code=status)


def _plain(request: Request, data: dict[str, str]) -> Plain:
    return Plain(request.method, dict(request.headers), data)


def _csrf(session_token: str) -> str:
    return hmac.new(session_token.encode(), b"oauth-consent", hashlib.sha256).hexdigest()


async def _signed_in(request: Request) -> tuple[str, object | None]:
    token = token_from_cookie_header(request.headers.get("cookie", "")) or ""
    return token, (await runtime.accounts().principal(token) if token else None)


async def authorize_page(request: Request) -> Response:
    token, who = await _signed_in(request)
    if who is None:
        return RedirectResponse(routes.login_with_next(f"{AUTHORIZE}?{request.url.query}"), status_code=303)
    data = {k: v for k, v in request.query_params.items() if k in FIELDS}
    shown = await runtime.mastodon().consent(who, _plain(request, data))  # type: ignore[arg-type]
    if shown.error:
        return _page(
            "Cannot authorize",
            f'<h1>Cannot authorize</h1><p data-testid="oauth-error">{escape(shown.error)}</p>',
            400,
        )
    hidden = "".join(f'<input type="hidden" name="{k}" value="{escape(v)}">' for k, v in data.items())
    scopes = "".join(f"<li>{escape(s)}</li>" for s in shown.scopes)
    site = (
        f' (<a href="{escape(shown.website)}" rel="noopener">{escape(shown.website)}</a>)'
        if shown.website.startswith(("http://", "https://"))
        else ""
    )
    body = (
        f'<h1 data-testid="oauth-title">Authorize {escape(shown.app_name)}?</h1>'
        f"<p><strong>{escape(shown.app_name)}</strong>{site} asks to act as you on ClawNet with these scopes:</p>"
        f'<ul data-testid="oauth-scopes">{scopes}</ul>'
        f'<form method="post" action="{AUTHORIZE}">{hidden}'
        f'<input type="hidden" name="csrf" value="{_csrf(token)}">'
        '<button class="approve" type="submit" name="decision" value="approve" data-testid="oauth-approve">Authorize</button>'
        '<button type="submit" name="decision" value="deny" data-testid="oauth-deny">Deny</button></form>'
    )
    return _page("Authorize", body)


async def authorize_answer(request: Request) -> Response:
    token, who = await _signed_in(request)
    if who is None:
        return _page("Signed out", "<h1>Please sign in again</h1>", 401)
    form = await request.form()
    if not hmac.compare_digest(str(form.get("csrf", "")), _csrf(token)):
        return _page("Refused", "<h1>This form has expired</h1><p>Go back and try again.</p>", 403)
    data = {k: str(form.get(k)) for k in FIELDS if form.get(k) is not None}
    result = await runtime.mastodon().authorize(
        who,  # type: ignore[arg-type]
        _plain(request, data),
        approved=form.get("decision") == "approve",
    )
    location = dict((k.lower(), v) for k, v in result.headers).get("location", "")
    if result.status != 302 or not location:
        message = str(result.body.get("error_description") or result.body.get("error") or "refused")
        return _page(
            "Cannot authorize",
            f'<h1>Cannot authorize</h1><p data-testid="oauth-error">{escape(message)}</p>',
            400,
        )
    if location.startswith(OOB):
        query = dict(parse_qsl(urlsplit(location).query))
        if "code" not in query:
            return _page("Denied", '<h1 data-testid="oauth-denied">You denied access</h1>')
        return _page(
            "Authorization code",
            "<h1>Authorized</h1><p>Copy this code into the app:</p>"
            f'<p><code data-testid="oauth-code">{escape(query["code"])}</code></p>',
        )
    if not redirect_uri_allowed(location):  # never a javascript:/data: link, whatever is stored
        return _page(
            "Cannot authorize",
            '<h1>Cannot authorize</h1><p data-testid="oauth-error">The redirect URI is not allowed.</p>',
            400,
        )
    # A page that moves on to the app (the CSP's form-action would stop a redirect to its scheme).
    safe = escape(location, quote=True)
    return _page(
        "Authorized",
        f'<h1>Returning to the app…</h1><p><a data-testid="oauth-continue" href="{safe}">Continue</a></p>',
        head=f'<meta http-equiv="refresh" content="0;url={safe}">',
    )


async def _form(request: Request) -> dict[str, str]:
    if request.headers.get("content-type", "").startswith("application/json"):
        import json

        try:
            data = json.loads(await request.body() or b"{}")
        except json.JSONDecodeError:
            return {}
        return {k: str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


async def token_endpoint(request: Request) -> Response:
    result = await runtime.mastodon().token(Plain("POST", dict(request.headers), await _form(request)))
    return JSONResponse(result.body, status_code=result.status, headers=_keep(result.headers))


async def revoke_endpoint(request: Request) -> Response:
    result = await runtime.mastodon().revoke(Plain("POST", dict(request.headers), await _form(request)))
    return JSONResponse(result.body, status_code=result.status, headers=_keep(result.headers))


def _keep(headers: list[tuple[str, str]]) -> dict[str, str]:
    return {k: v for k, v in headers if k.lower() in ("cache-control", "pragma", "www-authenticate")}


ROUTES = [
    Route(AUTHORIZE, authorize_page, methods=["GET"]),
    Route(AUTHORIZE, authorize_answer, methods=["POST"]),
    Route("/oauth/token", token_endpoint, methods=["POST"]),
    Route("/oauth/revoke", revoke_endpoint, methods=["POST"]),
]
