"""Reading notifications (like, reply, follow, mention) for the bell and its page."""

from __future__ import annotations

from sqlmodel import Session, col, select

from clawnet import routes
from clawnet.humanize import ago
from clawnet.models import Notification, Profile
from clawnet.social import moderation
from clawnet.social.timelines import clamp_limit
from clawnet.social.views import NotificationView

WORDS = {
    "like": "liked your post",
    "reply": "replied to your post",
    "follow": "followed you",
    "mention": "mentioned you",
    "reblog": "boosted your post",
}


def list_notifications(
    session: Session,
    profile_id: int,
    *,
    max_id: int | None = None,
    limit: int = 20,
    kinds: list[str] | None = None,
) -> list[NotificationView]:
    query = (
        select(Notification, Profile)
        .join(Profile, col(Profile.id) == Notification.actor_id)
        .where(Notification.recipient_id == profile_id, *moderation.notification_clauses(session, profile_id))
    )
    if max_id is not None:
        query = query.where(col(Notification.id) < max_id)
    if kinds:
        query = query.where(col(Notification.kind).in_(kinds))
    rows = session.exec(query.order_by(col(Notification.id).desc()).limit(clamp_limit(limit))).all()
    return [
        NotificationView(
            id=n.id or 0,
            kind=n.kind,
            text=moderation.notice_text(session, n) if n.kind == "moderation" else WORDS.get(n.kind, n.kind),
            actor_handle=actor.handle,
            actor_name=actor.display_name,
            is_bot=actor.is_bot,
            link=routes.post_detail(n.post_id) if n.post_id else routes.profile(actor.handle),
            unread=n.read_at is None,
            ago=ago(n.created_at),
        )
        for n, actor in rows
    ]
