"""What the access pages show (pending DM pairing requests, approved senders), as typed read
models built in one database session with the caller's permissions decided here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from clawnet.humanize import ago
from clawnet.models import AccessRequest, ApprovedSender, Bot, BotChannel
from clawnet.security.permissions import Action, Principal, accessible_bot_ids, can, require, role_allows

# Said plainly wherever a request is shown: OpenClaw answers a stranger with a pairing code and
# drops the message (its ingress queue keeps no payload for it), so nobody can show it.
MESSAGE_NOT_KEPT = (
    "OpenClaw does not keep the message that made a request (it answers the sender with a "
    "pairing code and drops the message), so it cannot be shown here."
)
DETAIL_LABELS = {"username": "username", "firstName": "first name", "lastName": "last name"}


@dataclass(frozen=True)
class AccessRequestView:
    id: int
    bot_id: int
    bot_name: str
    channel: str
    sender_id: str
    sender_name: str  # "" when the channel tells no name
    details: str  # what else the channel told ("username: mallory · first name: Mallory")
    requested: str  # "3 min ago"
    requested_at: str  # "2026-12-02 14:02 UTC"
    last_seen: str
    expires: str  # "in 57 min"
    expires_at: str
    notify_supported: bool
    can_decide: bool


@dataclass(frozen=True)
class ApprovedSenderView:
    key: str  # "<channel>:<sender id>", unique within a bot
    bot_id: int
    channel: str
    dm_policy: str
    sender_id: str
    sender_name: str
    how: str  # "approved 3 min ago by ada@example.com" or "in the allowlist"
    can_revoke: bool


def until(moment: datetime, now: datetime | None = None) -> str:
    seconds = int((moment - (now or datetime.now(UTC))).total_seconds())
    if seconds <= 0:
        return "expired"
    if seconds < 90:
        return "in 1 min"
    if seconds < 5400:
        return f"in {round(seconds / 60)} min"
    return f"in {round(seconds / 3600)} h"


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _details(details: dict[str, str]) -> str:
    parts = [f"{DETAIL_LABELS.get(k, k)}: {v}" for k, v in sorted(details.items()) if v]
    return " · ".join(parts)


def _visible(session: Session, actor: Principal | None) -> set[int] | None:
    """Bot ids whose requests `actor` sees (None: all); empty for roles without the fleet."""
    if actor is None or not actor.is_active or not role_allows(actor.role, Action.VIEW_FLEET):
        return set()
    return accessible_bot_ids(session, actor)


def pending_requests(
    session: Session, actor: Principal | None, *, bot_id: int | None = None
) -> list[AccessRequestView]:
    """Pending, unexpired requests of the bots `actor` may see (of one bot if `bot_id`), newest
    first. `can_decide` is whether `actor` may approve or dismiss each."""
    if bot_id is not None:
        require(session, actor, Action.VIEW_BOT, bot_id)
        allowed: set[int] | None = {bot_id}
    else:
        allowed = _visible(session, actor)
        if allowed is not None and not allowed:
            return []
    now = datetime.now(UTC)
    query = (
        select(AccessRequest, Bot.name)
        .join(Bot, col(Bot.id) == col(AccessRequest.bot_id))
        .where(col(AccessRequest.expires_at) > now)
        .order_by(col(AccessRequest.requested_at).desc(), col(AccessRequest.id).desc())
    )
    if allowed is not None:
        query = query.where(col(AccessRequest.bot_id).in_(allowed))
    deciders: dict[int, bool] = {}
    out = []
    for row, bot_name in session.exec(query).all():
        if row.bot_id not in deciders:
            deciders[row.bot_id] = can(session, actor, Action.CONFIGURE_BOT, row.bot_id)
        out.append(
            AccessRequestView(
                id=row.id or 0,
                bot_id=row.bot_id,
                bot_name=bot_name,
                channel=row.channel,
                sender_id=row.sender_id,
                sender_name=row.sender_name,
                details=_details(row.sender_details or {}),
                requested=ago(row.requested_at, now),
                requested_at=stamp(row.requested_at),
                last_seen=ago(row.last_seen_at, now),
                expires=until(row.expires_at, now),
                expires_at=stamp(row.expires_at),
                notify_supported=row.notify_supported,
                can_decide=deciders[row.bot_id],
            )
        )
    return out


def pending_count(session: Session, actor: Principal | None) -> int:
    allowed = _visible(session, actor)
    if allowed is not None and not allowed:
        return 0
    query = (
        select(AccessRequest.id)
        .join(Bot, col(Bot.id) == col(AccessRequest.bot_id))
        .where(col(AccessRequest.expires_at) > datetime.now(UTC))
    )
    if allowed is not None:
        query = query.where(col(AccessRequest.bot_id).in_(allowed))
    return len(session.exec(query).all())


def approved_senders(session: Session, actor: Principal | None, bot_id: int) -> list[ApprovedSenderView]:
    """Who may write to the bot's channels by DM: every allow_from entry (the wildcard aside),
    with who approved it and when if it came through an access request."""
    require(session, actor, Action.VIEW_BOT, bot_id)
    may_revoke = can(session, actor, Action.CONFIGURE_BOT, bot_id)
    approvals = {
        (a.channel, a.sender_id): a
        for a in session.exec(select(ApprovedSender).where(ApprovedSender.bot_id == bot_id)).all()
    }
    out = []
    for ch in session.exec(
        select(BotChannel).where(BotChannel.bot_id == bot_id).order_by(col(BotChannel.type))
    ).all():
        listed = [s for s in ch.allow_from if s.strip() not in ("", "*")]
        # An approval whose id the allowlist cannot hold (a Signal uuid) lives in the gateway only.
        extra = [a.sender_id for (c, _), a in approvals.items() if c == ch.type and a.sender_id not in listed]
        for sender in [*listed, *extra]:
            approval = approvals.get((ch.type, sender))
            how = (
                f"approved {ago(approval.approved_at)} by {approval.approved_by or 'someone'}"
                if approval is not None
                else "in the allowlist"
            )
            if sender in extra:
                how += " (kept by the gateway only: the allowlist cannot hold this id)"
            out.append(
                ApprovedSenderView(
                    key=f"{ch.type}:{sender}",
                    bot_id=bot_id,
                    channel=ch.type,
                    dm_policy=ch.dm_policy,
                    sender_id=sender,
                    sender_name=approval.sender_name if approval is not None else "",
                    how=how,
                    can_revoke=may_revoke,
                )
            )
    return out
