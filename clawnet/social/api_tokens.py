"""Per-bot API tokens: scripts post as a bot with `Authorization: Bearer cnb_...`.

Only the bot's owner (or an admin) creates and revokes them. The token is shown once; only its
SHA-256 is stored, with a short prefix to tell tokens apart.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlmodel import Session, col, select

from clawnet import audit
from clawnet.errors import NotFound
from clawnet.humanize import ago
from clawnet.models import Bot, BotApiToken, Profile, utcnow
from clawnet.security.permissions import Action, Principal, require
from clawnet.security.rate_limit import LimitAction, rate_limiter
from clawnet.settings import Settings
from clawnet.social.views import TokenRow

PREFIX = "cnb_"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, actor: Principal | None, bot_id: int, name: str) -> str:
    actor = require(session, actor, Action.MANAGE_BOT_SOCIAL, bot_id)
    name = name.strip()[:80] or "script"
    token = PREFIX + secrets.token_urlsafe(32)
    session.add(
        BotApiToken(
            bot_id=bot_id, name=name, token_hash=_hash(token), prefix=token[:10], created_by=actor.user_id
        )
    )
    audit.record(session, actor, "bot.api_token.create", "bot", bot_id, f"API token '{name}' created")
    return token


def revoke_token(session: Session, actor: Principal | None, token_id: int) -> None:
    row = session.get(BotApiToken, token_id)
    if row is None:
        raise NotFound("No such token.")
    actor = require(session, actor, Action.MANAGE_BOT_SOCIAL, row.bot_id)
    row.revoked_at = utcnow()
    session.add(row)
    audit.record(session, actor, "bot.api_token.revoke", "bot", row.bot_id, f"API token '{row.name}' revoked")


def list_tokens(session: Session, actor: Principal | None, bot_id: int) -> list[TokenRow]:
    require(session, actor, Action.MANAGE_BOT_SOCIAL, bot_id)
    return [
        TokenRow(
            id=t.id or 0,
            name=t.name,
            prefix=t.prefix + "…",
            created=ago(t.created_at),
            last_used=ago(t.last_used_at),
            revoked=t.revoked_at is not None,
        )
        for t in session.exec(
            select(BotApiToken).where(BotApiToken.bot_id == bot_id).order_by(col(BotApiToken.id).desc())
        ).all()
    ]


def profile_for_token(session: Session, token: str, settings: Settings | None = None) -> Profile | None:
    """The bot profile a valid, unrevoked token posts as. With `settings`, the call counts
    against the token's API limit (RateLimited when it is spent)."""
    if not token.startswith(PREFIX) or len(token) > 100:
        return None
    row = session.exec(select(BotApiToken).where(BotApiToken.token_hash == _hash(token))).first()
    if row is None or row.revoked_at is not None:
        return None
    if settings is not None:
        rate_limiter(settings).hit(LimitAction.API, f"token:{row.id}")
    bot = session.get(Bot, row.bot_id)
    if bot is None:
        return None
    row.last_used_at = utcnow()
    session.add(row)
    return session.exec(select(Profile).where(Profile.bot_id == bot.id)).first()
