"""OAuth 2 for the Mastodon client API, on authlib's authorization server (the protocol is
authlib's; this module only stores apps, codes and tokens).

Grants: authorization_code (the consent page) and client_credentials. Tokens never expire (as
Mastodon's), are revoked at /oauth/revoke or in Settings, and only their SHA-256 is stored.
Personal access tokens (Settings, "Apps and tokens") are the same rows without an app.

Everything here runs inside one database session (the service's `_db`): requests come in as
plain data (method, headers, form) and answers go out as (status, body, headers).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import sqlalchemy as sa
from authlib.oauth2 import AuthorizationServer, OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin, OAuth2Payload, OAuth2Request, grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidScopeError
from authlib.oauth2.rfc7009 import RevocationEndpoint
from sqlmodel import Session, select

from clawnet.errors import UserError
from clawnet.models import OAuthApp, OAuthCode, OAuthToken, User, utcnow
from clawnet.security.permissions import Principal
from clawnet.social import api_tokens, profiles

OOB = "urn:ietf:wg:oauth:2.0:oob"
SCOPE_ROOTS = ("read", "write", "follow", "push", "profile")
CODE_TTL = timedelta(minutes=10)
TOKEN_PREFIX = "cno_"  # noqa: S105 (a prefix, not a secret)
# The server's own address does not matter to authlib here (it only checks it is https).
_URI = "https://clawnet.invalid/oauth"


_BAD_SCHEMES = frozenset({"javascript", "data", "vbscript", "file", "blob", "about"})
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")


def redirect_uri_allowed(uri: str) -> bool:
    """Whether an app may send people back to `uri`: https, http to a loopback host, the
    out-of-band URN, or a custom app scheme (never a scheme a browser runs or reads locally)."""
    if uri == OOB:
        return True
    if not uri or len(uri) > 1000 or any(ch.isspace() or ord(ch) < 0x20 or ch in "<>\"'`\\" for ch in uri):
        return False
    match = _SCHEME.match(uri)
    if match is None:
        return False
    scheme = match.group(1).lower()
    if scheme in _BAD_SCHEMES:
        return False
    if scheme in ("https", "http"):
        try:
            host = urlsplit(uri).hostname or ""
        except ValueError:
            return False
        return bool(host) if scheme == "https" else host in _LOOPBACK
    return True


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def clean_scopes(raw: str, default: str = "read") -> str:
    """Space-separated scopes, each `read`, `write`, `follow`, `push`, `profile` or `root:part`."""
    scopes = [s for s in raw.replace("+", " ").split() if s.split(":", 1)[0] in SCOPE_ROOTS]
    return " ".join(dict.fromkeys(scopes)) or default


def scope_allows(granted: set[str], needed: str) -> bool:
    """Whether a token's scopes cover `needed` (`read:statuses` is covered by `read`;
    `write:follows` also by `follow`)."""
    root = needed.split(":", 1)[0]
    if needed in granted or root in granted:
        return True
    return needed in ("write:follows", "write:blocks", "write:mutes", "read:follows") and "follow" in granted


# --- authlib's models ---------------------------------------------------------------------------


class Client(ClientMixin):
    def __init__(self, row: OAuthApp) -> None:
        self.row = row

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self) -> str:
        return self.row.redirect_uris.split("\n")[0]

    def get_allowed_scope(self, scope: str) -> str:
        """The scopes asked for; any the app did not register (or unknown ones) refuse the
        request (Mastodon's `invalid_scope`), never a quiet fall back to `read`."""
        allowed = set(self.row.scopes.split())
        asked = (scope or self.row.scopes).replace("+", " ").split()
        wanted = clean_scopes(" ".join(asked), default="").split()
        refused = [s for s in asked if s not in wanted or not (s in allowed or s.split(":", 1)[0] in allowed)]
        if refused or not wanted:
            raise InvalidScopeError(f"The app did not register these scopes: {' '.join(refused) or scope}")
        return " ".join(wanted)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.row.redirect_uris.split("\n")

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(_hash(client_secret or ""), self.row.client_secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_post", "client_secret_basic")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "client_credentials")


@dataclass
class _Code:
    row: OAuthCode

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scopes


@dataclass
class _Token:
    row: OAuthToken
    app: OAuthApp | None

    def check_client(self, client: Client) -> bool:
        return self.app is not None and self.app.id == client.row.id

    def get_scope(self) -> str:
        return self.row.scopes

    def get_expires_in(self) -> int:
        return 0

    def is_expired(self) -> bool:
        return False

    def is_revoked(self) -> bool:
        return self.row.revoked_at is not None


class _Payload(OAuth2Payload):
    def __init__(self, data: dict[str, str]) -> None:
        self._data = data

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        out: defaultdict[str, list[str]] = defaultdict(list)
        for k, v in self._data.items():
            out[k].append(v)
        return out


class _Request(OAuth2Request):
    def __init__(self, method: str, headers: dict[str, str], data: dict[str, str]) -> None:
        super().__init__(method=method, uri=_URI, headers=headers)
        self._values = data
        self.payload = _Payload(data)

    @property
    def args(self) -> dict[str, str]:
        return self._values if self.method == "GET" else {}

    @property
    def form(self) -> dict[str, str]:
        return self._values if self.method != "GET" else {}


@dataclass(frozen=True)
class Plain:
    """An HTTP request as plain data (the API route reads it; this module answers it)."""

    method: str
    headers: dict[str, str]
    data: dict[str, str]


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    headers: list[tuple[str, str]] = field(default_factory=list)


class _AuthorizationCode(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def save_authorization_code(self, code: str, request: Any) -> None:
        session: Session = self.server.session
        session.add(
            OAuthCode(
                code_hash=_hash(code),
                app_id=request.client.row.id,
                user_id=request.user.id,
                redirect_uri=request.payload.redirect_uri or "",
                scopes=request.scope or "read",
            )
        )

    def query_authorization_code(self, code: str, client: Client) -> _Code | None:
        session: Session = self.server.session
        row = session.exec(select(OAuthCode).where(OAuthCode.code_hash == _hash(code))).first()
        if row is None or row.app_id != client.row.id or row.created_at < utcnow() - CODE_TTL:
            return None
        return _Code(row)

    def create_token_response(self) -> Any:
        # Redeem the code before issuing: a guarded DELETE, so two requests racing with the same
        # code cannot both get a token (only the one that deleted the row goes on).
        row: OAuthCode = self.request.authorization_code.row
        session: Session = self.server.session
        deleted = session.connection().execute(
            sa.delete(OAuthCode.__table__).where(OAuthCode.__table__.c.id == row.id)  # type: ignore[attr-defined]
        )
        if deleted.rowcount != 1:
            raise InvalidGrantError("The authorization code was already used.")
        session.expunge(row)
        return super().create_token_response()

    def delete_authorization_code(self, authorization_code: _Code) -> None:
        pass  # deleted (guarded) in create_token_response, before the token is issued

    def authenticate_user(self, authorization_code: _Code) -> User | None:
        user = self.server.session.get(User, authorization_code.row.user_id)
        return user if user is not None and user.is_active else None


class _ClientCredentials(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def validate_requested_scope(self) -> None:
        # authlib issues the requested scope as is here: refuse any the app did not register.
        if self.request.payload.scope:
            self.request.client.get_allowed_scope(self.request.payload.scope)


class _Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def query_token(self, token_string: str, token_type_hint: str | None) -> _Token | None:
        session: Session = self.server.session
        row = session.exec(select(OAuthToken).where(OAuthToken.token_hash == _hash(token_string))).first()
        if row is None:
            return None
        return _Token(row, session.get(OAuthApp, row.app_id) if row.app_id else None)

    def revoke_token(self, token: _Token, request: Any) -> None:
        token.row.revoked_at = utcnow()
        self.server.session.add(token.row)


class _Server(AuthorizationServer):
    def __init__(self, session: Session) -> None:
        super().__init__(scopes_supported=None)
        self.session = session
        self.register_grant(_AuthorizationCode)
        self.register_grant(_ClientCredentials)
        self.register_endpoint(_Revocation)
        self.register_token_generator("default", self._generate)

    def query_client(self, client_id: str) -> Client | None:
        row = self.session.exec(select(OAuthApp).where(OAuthApp.client_id == client_id)).first()
        return Client(row) if row is not None else None

    @staticmethod
    def _generate(
        grant_type: str,
        client: Client,
        user: User | None = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        return {
            "access_token": TOKEN_PREFIX + secrets.token_urlsafe(32),
            "token_type": "Bearer",
            "scope": scope or "read",
            "created_at": int(utcnow().timestamp()),
        }

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        user = request.user
        profile = profiles.person_profile_of(self.session, user.id) if user is not None else None
        self.session.add(
            OAuthToken(
                token_hash=_hash(token["access_token"]),
                prefix=token["access_token"][:10],
                name=request.client.row.name[:80],
                scopes=token.get("scope") or "read",
                app_id=request.client.row.id,
                user_id=user.id if user is not None else None,
                profile_id=profile.id if profile is not None else None,
            )
        )

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        pass

    def create_oauth2_request(self, request: Plain) -> _Request:
        return _Request(request.method, request.headers, request.data)

    def handle_response(self, status: int, body: Any, headers: Any) -> Answer:
        return Answer(status, dict(body or {}), list(headers or []))


# --- what the routes call ---------------------------------------------------------------------


def register_app(
    session: Session, name: str, redirect_uris: str, scopes: str, website: str
) -> dict[str, Any]:
    """POST /api/v1/apps: anyone may register an app (as on Mastodon); the secret is shown once."""
    name = name.strip()[:200]
    if not name:
        raise UserError("Give the app a name (client_name).")
    uris = [u.strip() for u in redirect_uris.replace(",", "\n").split("\n") if u.strip()] or [OOB]
    for uri in uris:
        if not redirect_uri_allowed(uri):
            raise UserError(
                f"Each redirect URI must be https://, http:// to localhost, {OOB} or an app's own scheme."
            )
    secret = secrets.token_urlsafe(32)
    app = OAuthApp(
        client_id=secrets.token_urlsafe(24),
        client_secret_hash=_hash(secret),
        name=name,
        website=website.strip()[:500],
        redirect_uris="\n".join(uris)[:2000],
        scopes=clean_scopes(scopes),
    )
    session.add(app)
    session.flush()
    return {
        "id": str(app.id),
        "name": app.name,
        "website": app.website or None,
        "redirect_uri": "\n".join(uris),
        "redirect_uris": uris,
        "scopes": app.scopes.split(),
        "client_id": app.client_id,
        "client_secret": secret,
        "vapid_key": "",
    }


@dataclass(frozen=True)
class Consent:
    """What the consent page shows (or why it cannot)."""

    app_name: str = ""
    website: str = ""
    scopes: list[str] = field(default_factory=list)
    error: str = ""


def consent(session: Session, user: Principal, request: Plain) -> Consent:
    server = _Server(session)
    try:
        grant = server.get_consent_grant(request, end_user=session.get(User, user.user_id))
    except OAuth2Error as exc:
        return Consent(error=exc.description or exc.error)
    app: OAuthApp = grant.client.row
    return Consent(app_name=app.name, website=app.website, scopes=(grant.request.scope or "read").split())


def authorize(session: Session, user: Principal, request: Plain, approved: bool) -> Answer:
    """The signed-in person's answer on the consent page: a redirect carrying a code (or an
    `access_denied` error); for the out-of-band redirect URI, the code to paste."""
    server = _Server(session)
    person = session.get(User, user.user_id)
    try:
        grant = server.get_consent_grant(request, end_user=person)
    except OAuth2Error as exc:
        return Answer(400, {"error": exc.error, "error_description": exc.description or exc.error})
    answer: Answer = server.create_authorization_response(
        request, grant_user=person if approved else None, grant=grant
    )
    return answer


def token(session: Session, request: Plain) -> Answer:
    answer: Answer = _Server(session).create_token_response(request)
    return answer


def revoke(session: Session, request: Plain) -> Answer:
    answer: Answer = _Server(session).create_endpoint_response("revocation", request)
    return answer


# --- who a bearer token acts as -------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    """Who a bearer token acts as: a profile (a person's or a bot's), with the person's principal
    when it is a person's token, and its scopes."""

    profile_id: int | None
    principal: Principal | None
    scopes: frozenset[str]
    is_bot: bool = False

    def allows(self, needed: str) -> bool:
        return scope_allows(set(self.scopes), needed)


def caller_for_token(session: Session, bearer: str) -> Caller | None:
    if not bearer or len(bearer) > 200:
        return None
    if bearer.startswith(api_tokens.PREFIX):  # a bot's API token (Settings of the bot)
        profile = api_tokens.profile_for_token(session, bearer)
        if profile is None:
            return None
        return Caller(profile.id, None, frozenset({"read", "write"}), is_bot=True)
    row = session.exec(select(OAuthToken).where(OAuthToken.token_hash == _hash(bearer))).first()
    if row is None or row.revoked_at is not None:
        return None
    principal = None
    if row.user_id is not None:
        user = session.get(User, row.user_id)
        if user is None or not user.is_active:
            return None
        principal = Principal.of(user)
        if row.profile_id is None:
            profile = profiles.person_profile_of(session, user.id or 0)
            row.profile_id = profile.id if profile is not None else None
    if row.last_used_at is None or row.last_used_at < utcnow() - timedelta(minutes=1):
        row.last_used_at = utcnow()
        session.add(row)
    return Caller(row.profile_id, principal, frozenset(row.scopes.split()), is_bot=False)


def oob_query(code: str) -> str:
    return urlencode({"code": code})
