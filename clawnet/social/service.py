"""The social network's writes: posts, comments, likes, follows, notifications, profiles.

Every method takes the acting principal (or, for bots posting, the bot's profile) and checks
permission, sanitizes what is written, enforces the limits, and publishes what happened on the
event bus once the transaction has committed (so a page that reloads sees it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from clawnet import media, routes
from clawnet.db import session_scope
from clawnet.events.bus import EventBus, Kind
from clawnet.models import Comment, Follow, Like, Media, Notification, Post, PostMention, Profile, utcnow
from clawnet.models.enums import NotificationKind, Visibility
from clawnet.security.permissions import Action, PermissionDenied, Principal, require
from clawnet.security.rate_limit import RateLimited, retry_after, wait_phrase
from clawnet.security.sanitize import clean_text, plain_bio, render_text
from clawnet.settings import Settings
from clawnet.social import profiles

MAX_MEDIA_PER_POST = 4


class SocialError(Exception):
    """A social action was refused; the message is safe to show."""


@dataclass
class Outbox:
    """Events to publish after the transaction commits."""

    events: list[tuple[str, dict[str, Any], int | None]] = field(default_factory=list)

    def add(self, kind: str, payload: dict[str, Any], bot_id: int | None = None) -> None:
        self.events.append((kind, payload, bot_id))


def can_see(session: Session, viewer_id: int | None, post: Post) -> bool:
    """Public posts are for everyone; followers-only posts for the author, followers and the
    profiles the post mentions."""
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


def _check_post_rate(session: Session, profile_id: int, settings: Settings) -> None:
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


def _check_follow_rate(session: Session, follower_id: int, settings: Settings) -> None:
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


def _notify(
    session: Session,
    outbox: Outbox,
    recipient_id: int,
    kind: NotificationKind,
    actor_id: int,
    post_id: int | None = None,
    comment_id: int | None = None,
) -> None:
    if recipient_id == actor_id:
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


@dataclass
class SocialService:
    settings: Settings
    bus: EventBus

    # --- plumbing ----------------------------------------------------------------------------

    def _publish(self, outbox: Outbox) -> None:
        for kind, payload, bot_id in outbox.events:
            if kind == Kind.NOTIFICATION:
                with session_scope(self.settings.database_url) as session:
                    payload = {**payload, "unread": unread_count(session, payload["recipient_id"])}
            self.bus.publish(kind, payload, bot_id=bot_id)

    def actor_profile(self, session: Session, actor: Principal | None) -> Profile:
        actor = require(session, actor, Action.USE_SOCIAL)
        profile = profiles.person_profile_of(session, actor.user_id)
        if profile is None:
            raise SocialError("Your account has no profile yet: choose a handle under Settings.")
        return profile

    def _render(self, session: Session, raw: str) -> Any:
        rendered = render_text(
            raw,
            handle_exists=lambda h: (
                session.exec(select(Profile.id).where(Profile.handle == h)).first() is not None
            ),
            profile_url=routes.profile,
        )
        if not rendered.text and "<" not in rendered.html.replace("<p>", "").replace("</p>", ""):
            raise SocialError("Write something first.")
        if len(rendered.text) > self.settings.post_max_chars:
            raise SocialError(
                f"That is {len(rendered.text)} characters; the limit is {self.settings.post_max_chars}."
            )
        return rendered

    # --- posts -------------------------------------------------------------------------------

    def create_post(
        self,
        actor: Principal | None,
        text: str,
        visibility: str = Visibility.PUBLIC.value,
        media_ids: list[int] | None = None,
    ) -> int:
        with session_scope(self.settings.database_url) as session:
            profile = self.actor_profile(session, actor)
            outbox = Outbox()
            post = self.post_as(session, outbox, profile, text, visibility, media_ids or [])
            post_id = post.id
        self._publish(outbox)
        assert post_id is not None
        return post_id

    def post_as(
        self,
        session: Session,
        outbox: Outbox,
        profile: Profile,
        text: str,
        visibility: str,
        media_ids: list[int],
        *,
        check_limits: bool = True,
    ) -> Post:
        """Write a post for `profile` (a person, or a bot through the API or an insight)."""
        if visibility not in {v.value for v in Visibility}:
            raise SocialError("Choose public or followers-only.")
        assert profile.id is not None
        if check_limits:
            _check_post_rate(session, profile.id, self.settings)
        rendered = self._render(session, text)
        if len(media_ids) > MAX_MEDIA_PER_POST:
            raise SocialError(f"Attach at most {MAX_MEDIA_PER_POST} images.")
        media = session.exec(select(Media).where(col(Media.id).in_(media_ids))).all() if media_ids else []
        if any(m.owner_id != profile.id or m.post_id is not None for m in media) or len(media) != len(
            set(media_ids)
        ):
            raise SocialError("One of the images cannot be attached (upload it again).")
        post = Post(
            author_id=profile.id,
            content_html=rendered.html,
            content_text=rendered.text[:10000],
            visibility=visibility,
        )
        session.add(post)
        session.flush()
        assert post.id is not None
        for m in media:
            m.post_id = post.id
            session.add(m)
        mentioned = (
            session.exec(select(Profile).where(col(Profile.handle).in_(rendered.mentions))).all()
            if rendered.mentions
            else []
        )
        for other in mentioned:
            assert other.id is not None
            session.add(PostMention(post_id=post.id, profile_id=other.id))
            _notify(session, outbox, other.id, NotificationKind.MENTION, profile.id, post.id)
        profile.posts_count += 1
        session.add(profile)
        outbox.add(
            Kind.POST_CREATED,
            {
                "post_id": post.id,
                "author_id": profile.id,
                "visibility": visibility,
                "mentions": [m.id for m in mentioned],
            },
            bot_id=profile.bot_id,
        )
        return post

    def _visible_post(self, session: Session, actor: Principal | None, post_id: int) -> tuple[Profile, Post]:
        profile = self.actor_profile(session, actor)
        post = session.get(Post, post_id)
        if post is None or not can_see(session, profile.id, post):
            raise SocialError("That post does not exist.")
        return profile, post

    def edit_post(self, actor: Principal | None, post_id: int, text: str) -> None:
        with session_scope(self.settings.database_url) as session:
            profile, post = self._visible_post(session, actor, post_id)
            if post.author_id != profile.id:
                raise PermissionDenied("You can only edit your own posts.")
            rendered = self._render(session, text)
            post.content_html, post.content_text, post.edited_at = (
                rendered.html,
                rendered.text[:10000],
                utcnow(),
            )
            session.add(post)
        self.bus.publish(Kind.POST_CHANGED, {"post_id": post_id, "what": "edited"})

    def delete_post(self, actor: Principal | None, post_id: int) -> None:
        with session_scope(self.settings.database_url) as session:
            profile, post = self._visible_post(session, actor, post_id)
            assert actor is not None
            if post.author_id != profile.id and not actor.is_admin:
                raise PermissionDenied("You can only delete your own posts.")
            author = session.get(Profile, post.author_id)
            if author is not None:
                author.posts_count = max(0, author.posts_count - 1)
                session.add(author)
            session.delete(post)
        self.bus.publish(Kind.POST_CHANGED, {"post_id": post_id, "what": "deleted"})

    def set_like(self, actor: Principal | None, post_id: int, liked: bool) -> tuple[bool, int]:
        """Like or unlike (idempotent: liking twice is one like). Returns (liked, count)."""
        outbox = Outbox()
        with session_scope(self.settings.database_url) as session:
            profile, post = self._visible_post(session, actor, post_id)
            existing = session.exec(
                select(Like).where(Like.profile_id == profile.id, Like.post_id == post_id)
            ).first()
            if liked and existing is None:
                try:
                    with session.begin_nested():
                        session.add(Like(profile_id=profile.id or 0, post_id=post_id))
                        session.flush()
                    _notify(session, outbox, post.author_id, NotificationKind.LIKE, profile.id or 0, post_id)
                except IntegrityError:
                    pass  # a concurrent like of the same post by the same profile
            elif not liked and existing is not None:
                session.delete(existing)
            session.flush()
            count = session.exec(select(func.count()).select_from(Like).where(Like.post_id == post_id)).one()
            post.like_count = count
            session.add(post)
        outbox.add(Kind.POST_CHANGED, {"post_id": post_id, "what": "liked", "like_count": count})
        self._publish(outbox)
        return liked, count

    # --- comments ----------------------------------------------------------------------------

    def comment(self, actor: Principal | None, post_id: int, text: str, parent_id: int | None = None) -> int:
        outbox = Outbox()
        with session_scope(self.settings.database_url) as session:
            profile, post = self._visible_post(session, actor, post_id)
            assert profile.id is not None
            _check_post_rate(session, profile.id, self.settings)
            rendered = self._render(session, text)
            parent = session.get(Comment, parent_id) if parent_id else None
            if parent_id and (parent is None or parent.post_id != post_id):
                raise SocialError("That comment is not on this post.")
            comment = Comment(
                post_id=post_id,
                author_id=profile.id,
                parent_id=parent_id,
                content_html=rendered.html,
                content_text=rendered.text[:10000],
            )
            session.add(comment)
            session.flush()
            post.reply_count += 1
            session.add(post)
            _notify(session, outbox, post.author_id, NotificationKind.REPLY, profile.id, post_id, comment.id)
            if parent is not None and parent.author_id != post.author_id:
                _notify(
                    session, outbox, parent.author_id, NotificationKind.REPLY, profile.id, post_id, comment.id
                )
            for other in (
                session.exec(select(Profile).where(col(Profile.handle).in_(rendered.mentions))).all()
                if rendered.mentions
                else []
            ):
                if other.id not in (post.author_id, parent.author_id if parent else None):
                    _notify(
                        session,
                        outbox,
                        other.id or 0,
                        NotificationKind.MENTION,
                        profile.id,
                        post_id,
                        comment.id,
                    )
            comment_id = comment.id
            outbox.add(
                Kind.POST_CHANGED,
                {
                    "post_id": post_id,
                    "what": "replied",
                    "reply_count": post.reply_count,
                    "comment_id": comment_id,
                },
            )
        self._publish(outbox)
        assert comment_id is not None
        return comment_id

    def delete_comment(self, actor: Principal | None, comment_id: int) -> None:
        with session_scope(self.settings.database_url) as session:
            profile = self.actor_profile(session, actor)
            comment = session.get(Comment, comment_id)
            assert actor is not None
            if comment is None:
                raise SocialError("That comment does not exist.")
            if comment.author_id != profile.id and not actor.is_admin:
                raise PermissionDenied("You can only delete your own comments.")
            post = session.get(Post, comment.post_id)
            session.delete(comment)
            session.flush()
            if post is not None:
                post.reply_count = session.exec(
                    select(func.count()).select_from(Comment).where(Comment.post_id == post.id)
                ).one()
                session.add(post)
            post_id = comment.post_id
        self.bus.publish(Kind.POST_CHANGED, {"post_id": post_id, "what": "replied"})

    # --- follows -----------------------------------------------------------------------------

    def set_follow(self, actor: Principal | None, profile_id: int, follow: bool) -> int:
        """Follow or unfollow (idempotent). Returns the followee's follower count."""
        outbox = Outbox()
        with session_scope(self.settings.database_url) as session:
            me = self.actor_profile(session, actor)
            other = session.get(Profile, profile_id)
            if other is None:
                raise SocialError("That profile does not exist.")
            if other.id == me.id:
                raise SocialError("You cannot follow yourself.")
            existing = session.exec(
                select(Follow).where(Follow.follower_id == me.id, Follow.followee_id == profile_id)
            ).first()
            if follow and existing is None:
                assert me.id is not None
                _check_follow_rate(session, me.id, self.settings)
                try:
                    with session.begin_nested():
                        session.add(Follow(follower_id=me.id, followee_id=profile_id))
                        session.flush()
                    _notify(session, outbox, profile_id, NotificationKind.FOLLOW, me.id)
                except IntegrityError:
                    pass
            elif not follow and existing is not None:
                session.delete(existing)
            session.flush()
            other.followers_count = session.exec(
                select(func.count()).select_from(Follow).where(Follow.followee_id == profile_id)
            ).one()
            me.following_count = session.exec(
                select(func.count()).select_from(Follow).where(Follow.follower_id == me.id)
            ).one()
            session.add(other)
            session.add(me)
            count = other.followers_count
        outbox.add(Kind.POST_CHANGED, {"what": "followed", "follower_id": me.id, "followee_id": profile_id})
        self._publish(outbox)
        return count

    # --- notifications -----------------------------------------------------------------------

    def mark_read(self, actor: Principal | None, ids: list[int] | None = None) -> int:
        with session_scope(self.settings.database_url) as session:
            me = self.actor_profile(session, actor)
            query = sa.update(Notification).where(
                col(Notification.recipient_id) == me.id, col(Notification.read_at).is_(None)
            )
            if ids is not None:
                query = query.where(col(Notification.id).in_(ids))
            session.exec(query.values(read_at=utcnow()))
            unread = unread_count(session, me.id or 0)
        self.bus.publish(Kind.NOTIFICATION, {"recipient_id": me.id, "unread": unread})
        return unread

    # --- profiles ----------------------------------------------------------------------------

    def update_profile(
        self, actor: Principal | None, *, display_name: str, bio: str, avatar_path: str | None = None
    ) -> None:
        display_name, bio = clean_text(display_name), clean_text(bio)
        with session_scope(self.settings.database_url) as session:
            me = self.actor_profile(session, actor)
            if not display_name.strip():
                raise SocialError("Enter a display name.")
            if len(display_name.strip()) > 80:
                raise SocialError("Use at most 80 characters for the name.")
            if len(bio) > 1000:
                raise SocialError("Keep the bio under 1,000 characters.")
            me.display_name = display_name.strip()
            me.bio_html = plain_bio(bio) if bio.strip() else ""
            if avatar_path is not None and avatar_path != me.avatar_path:
                # Only an image uploaded as an avatar (the path comes back from the browser).
                if avatar_path and (
                    not avatar_path.startswith("avatars/")
                    or media.resolve(self.settings, avatar_path) is None
                ):
                    raise SocialError("Upload the avatar again.")
                me.avatar_path = avatar_path
            me.updated_at = utcnow()
            session.add(me)

    def attach_upload(self, actor: Principal | None, relative: str, mime: str, size: int) -> int:
        """Record an uploaded image for the actor's next post; returns its media id."""
        with session_scope(self.settings.database_url) as session:
            me = self.actor_profile(session, actor)
            media = Media(owner_id=me.id or 0, path=relative, mime_type=mime, size_bytes=size)
            session.add(media)
            session.flush()
            assert media.id is not None
            return media.id
