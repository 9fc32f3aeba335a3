"""Personal access tokens for the Mastodon client API (Settings, "Apps and tokens"): the same
rows as OAuth tokens, without an app; only their SHA-256 is kept."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlmodel import Session, col, select

from clawnet import audit
from clawnet.errors import NotFound, UserError
from clawnet.humanize import ago
from clawnet.models import OAuthApp, OAuthToken, utcnow
from clawnet.security.permissions import Action, Principal, require
from clawnet.social import profiles
from clawnet.social.mastodon_oauth import TOKEN_PREFIX, _hash, clean_scopes


@dataclass(frozen=True)
class AccessTokenRow:
    id: int
    name: str
    prefix: str
    scopes: str
    app: str  # the app it was issued to ("" for a personal token)
    created: str
    last_used: str


def create_personal_token(session: Session, actor: Principal | None, name: str, scopes: str) -> str:
    actor = require(session, actor, Action.USE_SOCIAL)
    profile = profiles.person_profile_of(session, actor.user_id)
    if profile is None:
        raise UserError("Your account has no profile yet: choose a handle first.")
    name = name.strip()[:80]
    if not name:
        raise UserError("Name the token (what will use it).")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        OAuthToken(
            token_hash=_hash(secret),
            prefix=secret[:10],
            name=name,
            scopes=clean_scopes(scopes, default="read write follow"),
            user_id=actor.user_id,
            profile_id=profile.id,
        )
    )
    audit.record(
        session, actor, "oauth.token.create", "user", actor.user_id, f"Access token '{name}' created"
    )
    return secret


def list_access_tokens(session: Session, actor: Principal | None) -> list[AccessTokenRow]:
    """The actor's live tokens: personal ones and those given to apps on the consent page."""
    actor = require(session, actor, Action.USE_SOCIAL)
    rows = session.exec(
        select(OAuthToken, OAuthApp)
        .join(OAuthApp, col(OAuthApp.id) == OAuthToken.app_id, isouter=True)
        .where(OAuthToken.user_id == actor.user_id, col(OAuthToken.revoked_at).is_(None))
        .order_by(col(OAuthToken.id).desc())
    ).all()
    return [
        AccessTokenRow(
            id=t.id or 0,
            name=t.name,
            prefix=t.prefix + "…",
            scopes=t.scopes,
            app=app.name if app is not None else "",
            created=ago(t.created_at),
            last_used=ago(t.last_used_at),
        )
        for t, app in rows
    ]


def revoke_access_token(session: Session, actor: Principal | None, token_id: int) -> None:
    actor = require(session, actor, Action.USE_SOCIAL)
    row = session.get(OAuthToken, token_id)
    if row is None or row.user_id != actor.user_id:
        raise NotFound("No such token.")
    row.revoked_at = utcnow()
    session.add(row)
    audit.record(
        session, actor, "oauth.token.revoke", "user", actor.user_id, f"Access token '{row.name}' revoked"
    )
