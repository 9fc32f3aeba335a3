"""The social network's rules: who sees a post, how fast one may post and follow, and how a
notification is recorded (with the event that tells the recipient's open pages)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, func, select

from clawnet.enums import NotificationKind, Visibility
from clawnet.events import Kind
from clawnet.models import Comment, Follow, Notification, Post, PostMention, utcnow
from clawnet.security.rate_limit import RateLimited, retry_after, wait_phrase
from clawnet.settings import Settings
from clawnet.social import moderation


@dataclass
class Outbox:
    """Events to publish after the transaction commits."""

    events: list[tuple[str, dict[str, Any], int | None]] = field(default_factory=list)

    def add(self, kind: str, payload: dict[str, Any], bot_id: int | None = None) -> None:
        self.events.append((kind, payload, bot_id))


def can_see(session: Session, viewer_id: int | None, post: Post) -> bool:
    """Public posts are for everyone; followers-only posts for the author, followers and the
    profiles the post mentions."""
    if not moderation.may_see(session, viewer_id, post):
        return False
    if post.visibility == Visibility.PUBLIC.value:
        return True
    if viewer_id is None:
        return False
    if viewer_id == post.author_id:
        return True
    follows = session.exec(
        select(Follow.id).where(Follow.follower_id == viewer_id, Follow.followee_id == post.author_id)
    ).first()
    if follows is not None:
        return True
    return (
        session.exec(
            select(PostMention.id).where(PostMention.post_id == post.id, PostMention.profile_id == viewer_id)
        ).first()
        is not None
    )


def check_post_rate(session: Session, profile_id: int, settings: Settings) -> None:
    now = utcnow()
    window = timedelta(seconds=settings.posts_window_s)
    since = now - window
    posts, oldest_post = session.exec(
        select(func.count(), func.min(Post.created_at)).where(
            Post.author_id == profile_id, col(Post.created_at) > since
        )
    ).one()
    comments, oldest_comment = session.exec(
        select(func.count(), func.min(Comment.created_at)).where(
            Comment.author_id == profile_id, col(Comment.created_at) > since
        )
    ).one()
    if posts + comments >= settings.posts_per_window:
        oldest = min(t for t in (oldest_post, oldest_comment) if t is not None)
        wait = retry_after(oldest, window, now)
        hours = settings.posts_window_s / 3600
        raise RateLimited(
            f"You have reached {settings.posts_per_window} posts and replies in {hours:g} hours. "
            f"Try again in {wait_phrase(wait)}.",
            wait,
        )


def check_follow_rate(session: Session, follower_id: int, settings: Settings) -> None:
    now = utcnow()
    window = timedelta(days=1)
    count, oldest = session.exec(
        select(func.count(), func.min(Follow.created_at)).where(
            Follow.follower_id == follower_id, col(Follow.created_at) > now - window
        )
    ).one()
    if count >= settings.follows_per_day:
        wait = retry_after(oldest, window, now)
        raise RateLimited(
            f"You have followed {settings.follows_per_day} accounts today. Try again in {wait_phrase(wait)}.",
            wait,
        )


def notify(
    session: Session,
    outbox: Outbox,
    recipient_id: int,
    kind: NotificationKind,
    actor_id: int,
    post_id: int | None = None,
    comment_id: int | None = None,
) -> None:
    if recipient_id == actor_id or moderation.silenced(session, recipient_id, actor_id):
        return
    session.add(
        Notification(
            recipient_id=recipient_id,
            kind=kind.value,
            actor_id=actor_id,
            post_id=post_id,
            comment_id=comment_id,
        )
    )
    outbox.add(Kind.NOTIFICATION, {"recipient_id": recipient_id, "kind": kind.value})


def unread_count(session: Session, profile_id: int) -> int:
    return session.exec(
        select(func.count())
        .select_from(Notification)
        .where(Notification.recipient_id == profile_id, col(Notification.read_at).is_(None))
    ).one()
