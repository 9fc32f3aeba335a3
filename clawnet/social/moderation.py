"""What moderation hides from a viewer: mutes, blocks (both ways), suspended profiles, hidden posts.

- A mute (until it expires) hides the muted profile's posts, boosts of their posts and their
  comments from the one who muted; with `notifications` it also silences their notifications.
- A block works both ways: neither sees the other's posts or comments, neither can follow,
  like or comment on the other's posts, and no notifications pass between them.
- A suspended profile's posts are hidden from everyone but itself.
- A post an admin hid is shown to its author only (with the reason).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from clawnet.models import Block, Mute, Notification, Post, Profile, utcnow
from clawnet.models.federation import FederationHost

# The boosted original in the boost test below (aliasing a mapper costs milliseconds: once).
_ORIGINAL = aliased(Post)
_BLOCKED_HOSTS = select(FederationHost.host).where(col(FederationHost.blocked).is_(True))


def _active_mute() -> Any:
    return sa.or_(col(Mute.expires_at).is_(None), col(Mute.expires_at) > utcnow())


def muted_ids(session: Session, viewer_id: int, *, notifications_only: bool = False) -> set[int]:
    """Profiles the viewer muted (unexpired); with `notifications_only`, those whose
    notifications are muted too."""
    query = select(Mute.target_id).where(Mute.profile_id == viewer_id, _active_mute())
    if notifications_only:
        query = query.where(col(Mute.notifications).is_(True))
    return set(session.exec(query).all())


def block_ids(session: Session, viewer_id: int) -> set[int]:
    """Profiles the viewer blocked and profiles that blocked the viewer."""
    mine = session.exec(select(Block.target_id).where(Block.profile_id == viewer_id)).all()
    theirs = session.exec(select(Block.profile_id).where(Block.target_id == viewer_id)).all()
    return {*mine, *theirs}


def blocked_between(session: Session, one: int, other: int) -> bool:
    """Whether either of the two blocked the other."""
    return (
        session.exec(
            select(Block.id).where(
                sa.or_(
                    sa.and_(col(Block.profile_id) == one, col(Block.target_id) == other),
                    sa.and_(col(Block.profile_id) == other, col(Block.target_id) == one),
                )
            )
        ).first()
        is not None
    )


def suspended_ids(session: Session, candidates: list[int] | None = None) -> set[int]:
    query = select(Profile.id).where(col(Profile.suspended_at).is_not(None))
    if candidates is not None:
        query = query.where(col(Profile.id).in_(candidates))
    return {i for i in session.exec(query).all() if i is not None}


def _excluded(session: Session, viewer_id: int | None, candidates: list[int] | None) -> set[int]:
    """Suspended profiles, and for a viewer those they muted (unexpired), blocked or are
    blocked by: one round trip (every timeline page asks)."""
    parts: list[Any] = [  # two selects, not one OR: each is an index range, an OR scans profiles
        select(Profile.id).where(col(Profile.suspended_at).is_not(None)),
        # Accounts on a server an admin blocked (federation): gone for everyone.
        select(Profile.id).where(col(Profile.domain).in_(_BLOCKED_HOSTS)),
    ]
    if viewer_id:
        parts += [
            select(Mute.target_id).where(Mute.profile_id == viewer_id, _active_mute()),
            select(Block.target_id).where(Block.profile_id == viewer_id),
            select(Block.profile_id).where(Block.target_id == viewer_id),
        ]
    out = {i for i in session.exec(sa.union(*parts)).scalars() if i is not None}  # type: ignore[call-overload]
    out.discard(viewer_id or 0)
    if candidates is not None:
        out &= set(candidates)
    return out


def excluded_authors(session: Session, viewer_id: int | None, candidates: list[int]) -> set[int]:
    """Of `candidates`, the authors whose posts this viewer must not see."""
    if not candidates:
        return set()
    return _excluded(session, viewer_id, candidates)


def post_clauses(session: Session, viewer_id: int | None) -> list[Any]:
    """WHERE terms on `Post`: no posts (or boosts of posts) by excluded authors, no hidden posts
    but one's own."""
    return clauses_for(viewer_id, _excluded(session, viewer_id, None))


def viewer_state(session: Session, viewer_id: int | None) -> frozenset[int]:
    """Everything this viewer must not see from, read once (for callers that need both the
    authors and the clauses: the home timeline)."""
    return frozenset(_excluded(session, viewer_id, None))


def clauses_for(viewer_id: int | None, excluded: set[int] | frozenset[int]) -> list[Any]:
    """`post_clauses` from an excluded set already read."""
    own = col(Post.author_id) == viewer_id if viewer_id else sa.false()
    clauses: list[Any] = [sa.or_(col(Post.hidden_at).is_(None), own)]
    original = _ORIGINAL
    # A boost goes when its original is hidden or by an excluded author: one primary-key
    # lookup per boost row (correlated), never a scan of the posts table.
    gone = sa.or_(
        original.hidden_at.is_not(None),  # type: ignore[union-attr]
        original.author_id.in_(excluded) if excluded else sa.false(),  # type: ignore[attr-defined]
    )
    clauses.append(
        sa.or_(
            col(Post.reblog_of_id).is_(None),
            ~sa.exists().where(
                original.id == Post.reblog_of_id,  # type: ignore[arg-type]
                gone,
                original.author_id != (viewer_id or 0),  # type: ignore[arg-type]
            ),
        )
    )
    if excluded:
        clauses.append(col(Post.author_id).not_in(excluded))
    return clauses


def suspension_refusal(profile: Profile) -> str:
    """Why this profile may not post, comment or like ("" when it may)."""
    if profile.suspended_at is None:
        return ""
    return f"This profile is suspended: {profile.suspension_reason or 'no reason given'}"


def may_see(session: Session, viewer_id: int | None, post: Post) -> bool:
    """One post, opened directly: hidden, blocked-between or suspended-author posts are not
    shown (to anyone but their author)."""
    if viewer_id is not None and viewer_id == post.author_id:
        return True
    if post.hidden_at is not None:
        return False
    author = session.get(Profile, post.author_id)
    if author is not None and author.suspended_at is not None:
        return False
    if author is not None and author.domain is not None and host_blocked(session, author.domain):
        return False
    return not (viewer_id and blocked_between(session, viewer_id, post.author_id))


def host_blocked(session: Session, host: str) -> bool:
    """Whether an admin blocked this server (federation)."""
    return (
        session.exec(
            select(FederationHost.id).where(
                FederationHost.host == host, col(FederationHost.blocked).is_(True)
            )
        ).first()
        is not None
    )


def comment_authors_hidden(session: Session, viewer_id: int | None, authors: set[int]) -> set[int]:
    """Of the authors of a thread's comments, those whose comments this viewer does not see."""
    return excluded_authors(session, viewer_id, sorted(authors))


def silenced(session: Session, recipient_id: int, actor_id: int) -> bool:
    """Whether a notification from `actor_id` to `recipient_id` is dropped (a block either way,
    or the recipient muted the actor's notifications)."""
    if blocked_between(session, recipient_id, actor_id):
        return True
    return actor_id in muted_ids(session, recipient_id, notifications_only=True)


def notification_clauses(session: Session, viewer_id: int) -> list[Any]:
    """WHERE terms on `Notification` for this recipient: none from blocked or
    notification-muted profiles (moderation notices always pass)."""
    quiet = block_ids(session, viewer_id) | muted_ids(session, viewer_id, notifications_only=True)
    if not quiet:
        return []
    return [sa.or_(col(Notification.actor_id).not_in(quiet), col(Notification.kind) == "moderation")]


def notice_text(session: Session, notice: Notification) -> str:
    """A moderation notification's words, with the reason (the post's, or the profile's)."""
    if notice.post_id:
        post = session.get(Post, notice.post_id)
        if post is not None and post.hidden_at is not None:
            return f"hid your post: {post.hidden_reason}"
        return "reviewed your post"
    profile = session.get(Profile, notice.recipient_id)
    if profile is not None and profile.suspended_at is not None:
        return f"suspended your profile: {profile.suspension_reason}"
    return "reviewed your profile"


def card_fields(session: Session, viewer_id: int | None, profile: Profile) -> dict[str, Any]:
    """ProfileCard's moderation fields: suspended (with the reason), and whether the viewer
    muted or blocked this profile."""
    muted = blocked = False
    if viewer_id and viewer_id != profile.id:
        muted = profile.id in muted_ids(session, viewer_id)
        blocked = (
            session.exec(
                select(Block.id).where(Block.profile_id == viewer_id, Block.target_id == profile.id)
            ).first()
            is not None
        )
    return {
        "suspended": profile.suspended_at is not None,
        "suspension_reason": profile.suspension_reason if profile.suspended_at is not None else "",
        "muted": muted,
        "blocked": blocked,
    }
