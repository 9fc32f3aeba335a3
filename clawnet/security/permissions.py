"""Who may do what: the one permission service every handler and service calls.

- admin: everything.
- operator: the fleet pages; creates bots; views, operates and configures the bots they own or
  are assigned; deletes and changes social settings of the bots they own.
- viewer: the fleet pages; views the bots assigned to them; acts on nothing.
- member: the social side only.
A deactivated account, or no account, may do nothing here (reading the public timeline needs no
permission at all).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlmodel import Session, select

from clawnet.enums import Role
from clawnet.errors import PermissionDenied
from clawnet.models import Bot, BotAssignment, SystemFlag, User


class Action(StrEnum):
    VIEW_FLEET = "view_fleet"
    CREATE_BOT = "create_bot"
    IMPORT_CONFIG = "import_config"
    VIEW_BOT = "view_bot"
    OPERATE_BOT = "operate_bot"  # start, stop, restart, chat
    CONFIGURE_BOT = "configure_bot"  # edit settings, channels, bindings
    DELETE_BOT = "delete_bot"
    MANAGE_BOT_SOCIAL = "manage_bot_social"  # auto-post settings, API tokens
    MANAGE_PROVIDERS = "manage_providers"
    MANAGE_GATEWAYS = "manage_gateways"
    MANAGE_BACKUPS = "manage_backups"  # the backup schedule, "Run backup now", the runs
    MANAGE_USERS = "manage_users"
    VIEW_AUDIT = "view_audit"
    MANAGE_LIMITS = "manage_limits"  # rate limits on costly actions
    USE_SOCIAL = "use_social"
    MODERATE_SOCIAL = "moderate_social"  # the moderation queue: hide posts, suspend profiles (admins)


BOT_ACTIONS = frozenset(
    {
        Action.VIEW_BOT,
        Action.OPERATE_BOT,
        Action.CONFIGURE_BOT,
        Action.DELETE_BOT,
        Action.MANAGE_BOT_SOCIAL,
    }
)
OWNER_ONLY_ACTIONS = frozenset({Action.DELETE_BOT, Action.MANAGE_BOT_SOCIAL})

_ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action),
    Role.OPERATOR: frozenset(
        {
            Action.VIEW_FLEET,
            Action.CREATE_BOT,
            Action.IMPORT_CONFIG,
            Action.USE_SOCIAL,
            Action.VIEW_BOT,
            Action.OPERATE_BOT,
            Action.CONFIGURE_BOT,
            Action.DELETE_BOT,
            Action.MANAGE_BOT_SOCIAL,
        }
    ),
    Role.VIEWER: frozenset({Action.VIEW_FLEET, Action.VIEW_BOT, Action.USE_SOCIAL}),
    Role.MEMBER: frozenset({Action.USE_SOCIAL}),
}


# The admin's switch that requires two-factor sign-in for admins and operators (a SystemFlag).
REQUIRE_2FA_FLAG = "require_2fa_staff"
STAFF_ROLES = frozenset({Role.ADMIN, Role.OPERATOR})
SET_UP_2FA_FIRST = "Two-factor sign-in is required for your role: turn it on in Settings first."


@dataclass(frozen=True)
class Principal:
    """The signed-in account a request acts for."""

    user_id: int
    email: str
    display_name: str
    role: Role
    is_active: bool = True

    @classmethod
    def of(cls, user: User) -> Principal:
        assert user.id is not None
        return cls(user.id, user.email, user.display_name, Role(user.role), user.is_active)

    @property
    def is_admin(self) -> bool:
        return self.is_active and self.role is Role.ADMIN

    @property
    def label(self) -> str:
        return self.email


def role_allows(role: Role, action: Action) -> bool:
    """Whether the role may ever do `action` (on some bot, for bot actions)."""
    return action in _ROLE_ACTIONS[role]


def _relation(session: Session, principal: Principal, bot_id: int) -> tuple[bool, bool] | None:
    """(is owner, is assigned) for an existing bot, None if there is no such bot."""
    bot = session.get(Bot, bot_id)
    if bot is None:
        return None
    if bot.owner_id == principal.user_id:
        return True, True
    assigned = session.exec(
        select(BotAssignment.id).where(
            BotAssignment.user_id == principal.user_id, BotAssignment.bot_id == bot_id
        )
    ).first()
    return False, assigned is not None


def can(session: Session, principal: Principal | None, action: Action, bot_id: int | None = None) -> bool:
    if principal is None or not principal.is_active:
        return False
    if not role_allows(principal.role, action):
        return False
    if action not in BOT_ACTIONS:
        return True
    if bot_id is None:
        return False
    relation = _relation(session, principal, bot_id)
    if relation is None:
        return principal.is_admin  # lets an admin get a clean "not found" later
    if principal.is_admin:
        return True
    is_owner, is_assigned = relation
    if action in OWNER_ONLY_ACTIONS:
        return is_owner
    return is_assigned


_DENIED_MESSAGES = {
    Action.VIEW_FLEET: "Your role does not include the fleet pages.",
    Action.CREATE_BOT: "Only operators and admins can create bots.",
    Action.IMPORT_CONFIG: "Only operators and admins can import configurations.",
    Action.VIEW_BOT: "You do not have access to this bot.",
    Action.OPERATE_BOT: "You can view this bot but not start, stop or chat with it.",
    Action.CONFIGURE_BOT: "You cannot change this bot's configuration.",
    Action.DELETE_BOT: "Only the bot's owner or an admin can delete it.",
    Action.MANAGE_BOT_SOCIAL: "Only the bot's owner or an admin can change its social settings.",
    Action.MANAGE_PROVIDERS: "Only admins can manage model providers.",
    Action.MANAGE_GATEWAYS: "Only admins can manage gateways.",
    Action.MANAGE_BACKUPS: "Only admins can manage backups.",
    Action.MANAGE_USERS: "Only admins can manage users.",
    Action.VIEW_AUDIT: "Only admins can read the audit log.",
    Action.MANAGE_LIMITS: "Only admins can change the rate limits.",
    Action.USE_SOCIAL: "Sign in to do that.",
    Action.MODERATE_SOCIAL: "Only admins can moderate the social network.",
}


def require(
    session: Session, principal: Principal | None, action: Action, bot_id: int | None = None
) -> Principal:
    """Return the principal if it may do `action`; raise PermissionDenied otherwise."""
    if principal is None or not principal.is_active:
        raise PermissionDenied("Sign in to do that." if principal is None else "This account is deactivated.")
    if not can(session, principal, action, bot_id):
        raise PermissionDenied(_DENIED_MESSAGES[action])
    if action is not Action.USE_SOCIAL and must_set_up_two_factor(session, principal):
        raise PermissionDenied(SET_UP_2FA_FIRST)
    return principal


def must_set_up_two_factor(session: Session, principal: Principal) -> bool:
    """An admin or operator without two-factor sign-in while an admin requires it: they may use
    the social side and their own settings, but no staff action until they turn it on (the pages
    redirect them too; this is the check that holds for every caller of `require`)."""
    if principal.role not in STAFF_ROLES:
        return False
    flag = session.get(SystemFlag, REQUIRE_2FA_FLAG)
    if flag is None or flag.value != "1":
        return False
    user = session.get(User, principal.user_id)
    return user is None or user.totp_enabled_at is None


def accessible_bot_ids(session: Session, principal: Principal | None) -> set[int] | None:
    """The bots the principal may view: None means all of them (admins)."""
    if principal is None or not principal.is_active or not role_allows(principal.role, Action.VIEW_BOT):
        return set()
    if principal.is_admin:
        return None
    owned = session.exec(select(Bot.id).where(Bot.owner_id == principal.user_id)).all()
    assigned = session.exec(
        select(BotAssignment.bot_id).where(BotAssignment.user_id == principal.user_id)
    ).all()
    return {i for i in owned if i is not None} | set(assigned)
