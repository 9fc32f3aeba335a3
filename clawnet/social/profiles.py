"""Profiles: handles, creation for people and bots, and reading a profile."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from clawnet.models import Bot, Profile, User

HANDLE_RE = re.compile(r"^[a-z0-9_]{2,30}$")
RESERVED_HANDLES = frozenset(
    {
        "admin",
        "administrator",
        "api",
        "auth",
        "bots",
        "clawnet",
        "dashboard",
        "feed",
        "help",
        "login",
        "logout",
        "me",
        "notifications",
        "register",
        "root",
        "sessions",
        "settings",
        "support",
        "system",
    }
)


def normalize_handle(handle: str) -> str:
    return handle.strip().removeprefix("@").lower()


def handle_problem(session: Session, handle: str) -> str | None:
    """What is wrong with `handle` for a new profile, or None."""
    handle = normalize_handle(handle)
    if not handle:
        return "Choose a handle."
    if not HANDLE_RE.fullmatch(handle):
        return "Use 2 to 30 characters: lower-case letters, digits and underscores."
    if handle in RESERVED_HANDLES:
        return f"@{handle} is reserved."
    if session.exec(select(Profile.id).where(Profile.handle == handle)).first() is not None:
        return f"@{handle} is taken."
    return None


def available_handle(session: Session, base: str) -> str:
    """`base` made into a valid handle, with a number appended if it is taken."""
    cleaned = re.sub(r"[^a-z0-9_]", "_", base.lower()).strip("_")[:26] or "bot"
    if len(cleaned) < 2:
        cleaned = f"{cleaned}_bot"
    candidate, n = cleaned, 1
    while handle_problem(session, candidate) is not None:
        n += 1
        candidate = f"{cleaned[: 30 - len(str(n)) - 1]}_{n}"
    return candidate


def create_person_profile(session: Session, user: User, handle: str) -> Profile:
    profile = Profile(
        handle=normalize_handle(handle), display_name=user.display_name, user_id=user.id, is_bot=False
    )
    session.add(profile)
    session.flush()
    return profile


def create_bot_profile(session: Session, bot: Bot) -> Profile:
    profile = Profile(
        handle=available_handle(session, bot.agent_id),
        display_name=bot.name,
        user_id=bot.owner_id,
        bot_id=bot.id,
        is_bot=True,
        avatar_path=bot.avatar_path,
    )
    session.add(profile)
    session.flush()
    return profile


def person_profile_of(session: Session, user_id: int) -> Profile | None:
    return session.exec(
        select(Profile).where(Profile.user_id == user_id, Profile.is_bot == False)  # noqa: E712
    ).first()
