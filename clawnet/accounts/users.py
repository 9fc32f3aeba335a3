"""People administration (admins only): roles, deactivation, bot assignments."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, func, select

from clawnet import audit
from clawnet.accounts.sign_in import revoke_all_sessions
from clawnet.enums import Role
from clawnet.errors import NotFound, UserError
from clawnet.humanize import ago
from clawnet.models import Bot, BotAssignment, User
from clawnet.security.permissions import Action, Principal, require


@dataclass(frozen=True)
class UserRow:
    id: int
    email: str
    display_name: str
    role: str
    is_active: bool
    joined: str
    last_login: str
    bot_ids: list[int]


def list_users(session: Session, actor: Principal | None) -> list[UserRow]:
    require(session, actor, Action.MANAGE_USERS)
    users = session.exec(select(User).order_by(col(User.created_at))).all()
    assignments: dict[int, list[int]] = {}
    for a in session.exec(select(BotAssignment)).all():
        assignments.setdefault(a.user_id, []).append(a.bot_id)
    return [
        UserRow(
            id=u.id or 0,
            email=u.email,
            display_name=u.display_name,
            role=u.role,
            is_active=u.is_active,
            joined=u.created_at.strftime("%Y-%m-%d"),
            last_login=ago(u.last_login_at),
            bot_ids=sorted(assignments.get(u.id or 0, [])),
        )
        for u in users
    ]


def _active_admin_count(session: Session) -> int:
    return session.exec(
        select(func.count()).select_from(User).where(User.role == Role.ADMIN.value, User.is_active == True)  # noqa: E712
    ).one()


def set_role(session: Session, actor: Principal | None, user_id: int, role: str) -> User:
    actor = require(session, actor, Action.MANAGE_USERS)
    try:
        new_role = Role(role)
    except ValueError:
        raise UserError(f"Unknown role {role!r}: choose admin, operator, viewer or member.") from None
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    old_role = user.role
    if old_role == new_role.value:
        return user
    if old_role == Role.ADMIN.value and user.is_active and _active_admin_count(session) <= 1:
        raise UserError("This is the last admin: make someone else admin first.")
    user.role = new_role.value
    session.add(user)
    audit.record(
        session,
        actor,
        "user.role",
        "user",
        user.id,
        f"{user.email}: {old_role} -> {new_role.value}",
        before={"role": old_role},
        after={"role": new_role.value},
    )
    return user


def set_active(session: Session, actor: Principal | None, user_id: int, active: bool) -> User:
    actor = require(session, actor, Action.MANAGE_USERS)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    if user.id == actor.user_id and not active:
        raise UserError("You cannot deactivate your own account.")
    if not active and user.role == Role.ADMIN.value and user.is_active and _active_admin_count(session) <= 1:
        raise UserError("This is the last admin: make someone else admin first.")
    before = user.is_active
    user.is_active = active
    session.add(user)
    if not active:
        revoke_all_sessions(session, user_id)
    audit.record(
        session,
        actor,
        "user.active",
        "user",
        user.id,
        f"{user.email}: {'reactivated' if active else 'deactivated'}",
        before={"active": before},
        after={"active": active},
    )
    return user


def set_bot_assignments(
    session: Session, actor: Principal | None, user_id: int, bot_ids: list[int]
) -> list[int]:
    """Replace the set of bots assigned to a user."""
    actor = require(session, actor, Action.MANAGE_USERS)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    wanted = set(bot_ids)
    existing_bots = (
        set(session.exec(select(Bot.id).where(col(Bot.id).in_(wanted))).all()) if wanted else set()
    )
    if missing := wanted - existing_bots:
        raise UserError(f"No bot with id {', '.join(map(str, sorted(missing)))}.")
    current = {
        a.bot_id: a for a in session.exec(select(BotAssignment).where(BotAssignment.user_id == user_id)).all()
    }
    for bot_id in wanted - current.keys():
        session.add(BotAssignment(user_id=user_id, bot_id=bot_id))
    for bot_id in current.keys() - wanted:
        session.delete(current[bot_id])
    if wanted != set(current):
        audit.record(
            session,
            actor,
            "user.assignments",
            "user",
            user_id,
            f"{user.email}: bots {sorted(wanted)}",
            before={"bots": sorted(current)},
            after={"bots": sorted(wanted)},
        )
    return sorted(wanted)
