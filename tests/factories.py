"""Small builders for test rows. They go through the real services where one exists."""

from __future__ import annotations

import itertools

from sqlmodel import Session, select

from clawnet.accounts.registration import register
from clawnet.db import session_scope
from clawnet.enums import ProviderKind, Role
from clawnet.models import Bot, BotAssignment, Gateway, ModelProvider, Profile, User

_counter = itertools.count(1)
PASSWORD = "a-long-test-password"


def make_user(
    session: Session, role: Role = Role.MEMBER, *, email: str | None = None, name: str | None = None
) -> User:
    n = next(_counter)
    user = register(
        session,
        email=email or f"user{n}@example.com",
        display_name=name or f"User {n}",
        password=PASSWORD,
        handle=f"user_{n}",
    )
    user.role = role.value
    session.add(user)
    session.flush()
    return user


def profile_of(session: Session, user: User) -> Profile:
    """The person's own profile (made when they registered)."""
    return session.exec(select(Profile).where(Profile.user_id == user.id, Profile.is_bot == False)).one()  # noqa: E712


def make_bot(session: Session, owner: User, name: str | None = None) -> Bot:
    n = next(_counter)
    bot = Bot(owner_id=owner.id, name=name or f"Bot {n}", agent_id=f"bot{n}")
    session.add(bot)
    session.flush()
    return bot


def assign(session: Session, user: User, bot: Bot) -> None:
    session.add(BotAssignment(user_id=user.id, bot_id=bot.id))
    session.flush()


def make_provider(
    session: Session, name: str = "acme", models: tuple[str, ...] = ("acme-1",)
) -> ModelProvider:
    """An OpenAI-compatible provider an admin added (imports by operators reuse it by name)."""
    provider = ModelProvider(
        name=name,
        display_name=name.capitalize(),
        kind=ProviderKind.OPENAI_COMPATIBLE.value,
        base_url="http://127.0.0.1:9/v1",
        models=[{"id": m, "name": m} for m in models],
    )
    session.add(provider)
    session.flush()
    return provider


def gateway_of(bot_id: int) -> Gateway:
    """The gateway row a bot is placed on, as stored now (a fresh read each call)."""
    with session_scope() as s:
        bot = s.get(Bot, bot_id)
        assert bot is not None and bot.gateway_id is not None
        gateway = s.get(Gateway, bot.gateway_id)
        assert gateway is not None
        return gateway
