"""The social network's writes: posts, comments, likes, follows, notifications, profiles and
uploads. Each checks permission, sanitizes, enforces the limits, and publishes what happened
after its transaction committed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from clawnet import media, routes
from clawnet.db import run_in_session
from clawnet.enums import NotificationKind, Visibility
from clawnet.errors import PermissionDenied, UserError
from clawnet.events import EventBus, Kind
from clawnet.models import Comment, Follow, Like, Media, Notification, Post, PostMention, Profile, utcnow
from clawnet.security.permissions import Action, Principal, require
from clawnet.security.sanitize import clean_text, plain_bio, render_text
from clawnet.settings import Settings
from clawnet.social import api_tokens, hashtags, moderation, profiles
from clawnet.social.engage_rules import check_bot_post_rate
from clawnet.social.federation import delivery as ap_delivery
from clawnet.social.federation import mentions, outgoing
from clawnet.social.rules import Outbox, can_see, check_follow_rate, check_post_rate, notify, unread_count
from clawnet.social.views import Upload

MAX_MEDIA_PER_POST = 4
T = TypeVar("T")


class SocialError(UserError):
    """A social action was refused; the message is safe to show."""


MAX_SPOILER = 500


def spoiler(text: str | None) -> str:
    """A content warning as typed: plain text on one line (shown escaped), at most 500 characters."""
    cleaned = " ".join(clean_text(text or "").split())
    if len(cleaned) > MAX_SPOILER:
        raise SocialError(f"Keep the content warning under {MAX_SPOILER} characters.")
    return cleaned


def check_not_suspended(profile: Profile) -> None:
    """Suspended profiles cannot post, comment or like (the error gives the reason)."""
    if refusal := moderation.suspension_refusal(profile):
        raise SocialError(refusal)


class SocialWrites:
    def __init__(self, settings: Settings, bus: EventBus) -> None:
        self.settings = settings
        self.bus = bus

    # --- plumbing ----------------------------------------------------------------------------

    async def _db(self, fn: Callable[[Session], T]) -> T:
        return await run_in_session(fn, self.settings.database_url)

    async def _write(self, fn: Callable[[Session, Outbox], T]) -> T:
        """`fn` in one transaction off the event loop, then its events published."""
        outbox = Outbox()
        result = await self._db(lambda s: fn(s, outbox))
        await self.publish(outbox)
        ap_delivery.wake_if_enqueued()  # deliveries it queued go out now, not at the next poll
        return result

    async def publish(self, outbox: Outbox) -> None:
        """Publish what a committed transaction did (notifications with the recipient's new
        unread count)."""
        for kind, payload, bot_id in outbox.events:
            if kind == Kind.NOTIFICATION:
                recipient = int(payload["recipient_id"])
                unread = await self._db(lambda s: unread_count(s, recipient))  # noqa: B023 (awaited at once)
                payload = {**payload, "unread": unread}
            self.bus.publish(kind, payload, bot_id=bot_id)

    @staticmethod
    def _media_url(path: str) -> str:
        return media.url(path)

    def media_file(self, relative: str) -> tuple[Path, str] | None:
        """The file and MIME type behind `/media/<relative>`, or None (no traversal)."""
        return media.resolve(self.settings, relative)

    def actor_profile(self, session: Session, actor: Principal | None) -> Profile:
        actor = require(session, actor, Action.USE_SOCIAL)
        profile = profiles.person_profile_of(session, actor.user_id)
        if profile is None:
            raise SocialError("Your account has no profile yet: choose a handle under Settings.")
        return profile

    async def learn_mentions(self, actor: Principal | None, text: str) -> None:
        """Look up the remote accounts `text` mentions that are new here (before the write; not
        for someone who may not write)."""

        def author(session: Session) -> Profile:
            profile = self.actor_profile(session, actor)
            check_not_suspended(profile)
            return profile

        await mentions.learn(self.settings, text, author)

    def _render(self, session: Session, raw: str) -> Any:
        rendered = render_text(
            raw,
            handle_exists=lambda h: (
                session.exec(select(Profile.id).where(Profile.handle == h)).first() is not None
            ),
            profile_url=routes.profile,
            tag_url=routes.tag,
            local_host=self.settings.federation_host,
        )
        if not rendered.text and "<" not in rendered.html.replace("<p>", "").replace("</p>", ""):
            raise SocialError("Write something first.")
        if len(rendered.text) > self.settings.post_max_chars:
            raise SocialError(
                f"That is {len(rendered.text)} characters; the limit is {self.settings.post_max_chars}."
            )
        return rendered

    # --- posts -------------------------------------------------------------------------------

    async def create_post(
        self,
        actor: Principal | None,
        text: str,
        visibility: str = Visibility.PUBLIC.value,
        media_ids: list[int] | None = None,
    ) -> int:
        await self.learn_mentions(actor, text)

        def write(session: Session, outbox: Outbox) -> int:
            profile = self.actor_profile(session, actor)
            post = self.post_as(session, outbox, profile, text, visibility, media_ids or [])
            assert post.id is not None
            return post.id

        return await self._write(write)

    async def post_with_token(self, token: str, text: str, visibility: str) -> int:
        """Post as the bot a per-bot API token belongs to (PermissionDenied for a bad token)."""
        await mentions.learn(
            self.settings, text, lambda s: api_tokens.profile_for_token(s, token, self.settings)
        )

        def write(session: Session, outbox: Outbox) -> int:
            profile = api_tokens.profile_for_token(session, token, self.settings)
            if profile is None:
                raise PermissionDenied("This token is not valid (wrong, or revoked).")
            post = self.post_as(session, outbox, profile, text, visibility, [])
            assert post.id is not None
            return post.id

        return await self._write(write)

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
        spoiler_text: str = "",
    ) -> Post:
        """Write a post for `profile` (a person, or a bot through the API or an insight), in the
        caller's transaction; its events go to `outbox`."""
        if visibility not in {v.value for v in Visibility}:
            raise SocialError("Choose public or followers-only.")
        assert profile.id is not None
        check_not_suspended(profile)
        if check_limits:
            check_post_rate(session, profile.id, self.settings)
            check_bot_post_rate(session, profile)  # the bot's owner's limit, beside the account's
        rendered = self._render(session, text)
        if len(media_ids) > MAX_MEDIA_PER_POST:
            raise SocialError(f"Attach at most {MAX_MEDIA_PER_POST} images.")
        attached = session.exec(select(Media).where(col(Media.id).in_(media_ids))).all() if media_ids else []
        if any(m.owner_id != profile.id or m.post_id is not None for m in attached) or len(attached) != len(
            set(media_ids)
        ):
            raise SocialError("One of the images cannot be attached (upload it again).")
        post = Post(
            author_id=profile.id,
            content_html=rendered.html,
            content_text=rendered.text[:10000],
            visibility=visibility,
            author_is_bot=profile.is_bot,
            spoiler_text=spoiler(spoiler_text),
        )
        session.add(post)
        session.flush()
        assert post.id is not None
        hashtags.set_tags(session, post, rendered.tags)
        for m in attached:
            m.post_id = post.id
            session.add(m)
        mentioned = mentions.profiles(session, rendered.mentions)
        for other in mentioned:
            assert other.id is not None
            session.add(PostMention(post_id=post.id, profile_id=other.id))
            notify(session, outbox, other.id, NotificationKind.MENTION, profile.id, post.id)
        profile.posts_count += 1
        session.add(profile)
        outgoing.post_created(session, self.settings, profile, post, mentioned)
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

    async def delete_post(self, actor: Principal | None, post_id: int) -> None:
        def write(session: Session, outbox: Outbox) -> None:
            profile, post = self._visible_post(session, actor, post_id)
            assert actor is not None
            if post.author_id != profile.id and not actor.is_admin:
                raise PermissionDenied("You can only delete your own posts.")
            author = session.get(Profile, post.author_id)
            outgoing.post_deleted(session, self.settings, author, post)
            if author is not None:
                author.posts_count = max(0, author.posts_count - 1)
                session.add(author)
            session.delete(post)
            outbox.add(Kind.POST_CHANGED, {"post_id": post_id, "what": "deleted"})

        await self._write(write)

    async def set_like(self, actor: Principal | None, post_id: int, liked: bool) -> tuple[bool, int]:
        """Like or unlike (idempotent: liking twice is one like). Returns (liked, count)."""

        def write(session: Session, outbox: Outbox) -> tuple[bool, int]:
            profile, post = self._visible_post(session, actor, post_id)
            if liked:
                check_not_suspended(profile)
            existing = session.exec(
                select(Like).where(Like.profile_id == profile.id, Like.post_id == post_id)
            ).first()
            if liked and existing is None:
                try:
                    row = Like(profile_id=profile.id or 0, post_id=post_id)
                    with session.begin_nested():
                        session.add(row)
                        session.flush()
                    notify(session, outbox, post.author_id, NotificationKind.LIKE, profile.id or 0, post_id)
                    outgoing.liked(session, self.settings, profile, post, row, True)
                except IntegrityError:
                    pass  # a concurrent like of the same post by the same profile
            elif not liked and existing is not None:
                session.delete(existing)
                outgoing.liked(session, self.settings, profile, post, existing, False)
            session.flush()
            count = session.exec(select(func.count()).select_from(Like).where(Like.post_id == post_id)).one()
            post.like_count = count
            session.add(post)
            outbox.add(Kind.POST_CHANGED, {"post_id": post_id, "what": "liked", "like_count": count})
            return liked, count

        return await self._write(write)

    # --- comments ----------------------------------------------------------------------------

    async def comment(
        self, actor: Principal | None, post_id: int, text: str, parent_id: int | None = None
    ) -> int:
        await self.learn_mentions(actor, text)

        def write(session: Session, outbox: Outbox) -> int:
            profile, post = self._visible_post(session, actor, post_id)
            assert profile.id is not None
            check_not_suspended(profile)
            check_post_rate(session, profile.id, self.settings)
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
            assert comment.id is not None
            post.reply_count += 1
            session.add(post)
            notify(session, outbox, post.author_id, NotificationKind.REPLY, profile.id, post_id, comment.id)
            if parent is not None and parent.author_id != post.author_id:
                notify(
                    session, outbox, parent.author_id, NotificationKind.REPLY, profile.id, post_id, comment.id
                )
            mentioned = mentions.profiles(session, rendered.mentions)
            outgoing.comment_created(session, self.settings, profile, comment, post, parent, mentioned)
            for other in mentioned:
                if other.id not in (post.author_id, parent.author_id if parent else None):
                    notify(
                        session,
                        outbox,
                        other.id or 0,
                        NotificationKind.MENTION,
                        profile.id,
                        post_id,
                        comment.id,
                    )
            outbox.add(
                Kind.POST_CHANGED,
                {
                    "post_id": post_id,
                    "what": "replied",
                    "reply_count": post.reply_count,
                    "comment_id": comment.id,
                },
            )
            outbox.add(  # bots answer mentions (social.mentions)
                Kind.COMMENT_CREATED,
                {
                    "post_id": post_id,
                    "comment_id": comment.id,
                    "author_id": profile.id,
                    "mentions": [m.id for m in mentioned],
                },
            )
            return comment.id

        return await self._write(write)

    async def delete_comment(self, actor: Principal | None, comment_id: int) -> None:
        def write(session: Session, outbox: Outbox) -> None:
            profile = self.actor_profile(session, actor)
            comment = session.get(Comment, comment_id)
            assert actor is not None
            if comment is None:
                raise SocialError("That comment does not exist.")
            if comment.author_id != profile.id and not actor.is_admin:
                raise PermissionDenied("You can only delete your own comments.")
            post = session.get(Post, comment.post_id)
            outgoing.comment_deleted(session, self.settings, session.get(Profile, comment.author_id), comment)
            session.delete(comment)
            session.flush()
            if post is not None:
                post.reply_count = session.exec(
                    select(func.count()).select_from(Comment).where(Comment.post_id == post.id)
                ).one()
                session.add(post)
            outbox.add(Kind.POST_CHANGED, {"post_id": comment.post_id, "what": "replied"})

        await self._write(write)

    # --- follows -----------------------------------------------------------------------------

    async def set_follow(self, actor: Principal | None, profile_id: int, follow: bool) -> int:
        """Follow or unfollow (idempotent). Returns the followee's follower count."""

        def write(session: Session, outbox: Outbox) -> int:
            me = self.actor_profile(session, actor)
            other = session.get(Profile, profile_id)
            if other is None:
                raise SocialError("That profile does not exist.")
            if other.id == me.id:
                raise SocialError("You cannot follow yourself.")
            assert me.id is not None
            existing = session.exec(
                select(Follow).where(Follow.follower_id == me.id, Follow.followee_id == profile_id)
            ).first()
            if follow and existing is None:
                if moderation.blocked_between(session, me.id, profile_id):
                    raise SocialError("You cannot follow this profile.")
                check_follow_rate(session, me.id, self.settings)
                try:
                    row = Follow(follower_id=me.id, followee_id=profile_id)
                    with session.begin_nested():
                        session.add(row)
                        session.flush()
                    notify(session, outbox, profile_id, NotificationKind.FOLLOW, me.id)
                    outgoing.followed(session, self.settings, me, other, row, True)
                except IntegrityError:
                    pass
            elif not follow and existing is not None:
                session.delete(existing)
                outgoing.followed(session, self.settings, me, other, existing, False)
            session.flush()
            other.followers_count = session.exec(
                select(func.count()).select_from(Follow).where(Follow.followee_id == profile_id)
            ).one()
            me.following_count = session.exec(
                select(func.count()).select_from(Follow).where(Follow.follower_id == me.id)
            ).one()
            session.add(other)
            session.add(me)
            outbox.add(
                Kind.POST_CHANGED, {"what": "followed", "follower_id": me.id, "followee_id": profile_id}
            )
            return other.followers_count

        return await self._write(write)

    # --- notifications -----------------------------------------------------------------------

    async def mark_read(self, actor: Principal | None, ids: list[int] | None = None) -> int:
        def write(session: Session, outbox: Outbox) -> int:
            me = self.actor_profile(session, actor)
            query = sa.update(Notification).where(
                col(Notification.recipient_id) == me.id, col(Notification.read_at).is_(None)
            )
            if ids is not None:
                query = query.where(col(Notification.id).in_(ids))
            session.exec(query.values(read_at=utcnow()))
            unread = unread_count(session, me.id or 0)
            outbox.add(Kind.NOTIFICATION, {"recipient_id": me.id})
            return unread

        return await self._write(write)

    # --- profiles and uploads ------------------------------------------------------------------

    async def update_profile(
        self, actor: Principal | None, *, display_name: str, bio: str, avatar_path: str | None = None
    ) -> None:
        display_name, bio = clean_text(display_name), clean_text(bio)
        errors: dict[str, str] = {}
        if not display_name.strip():
            errors["display_name"] = "Enter a display name."
        elif len(display_name.strip()) > 80:
            errors["display_name"] = "Use at most 80 characters for the name."
        if len(bio) > 1000:
            errors["bio"] = "Keep the bio under 1,000 characters."

        def write(session: Session) -> None:
            me = self.actor_profile(session, actor)
            if errors:
                raise SocialError(next(iter(errors.values())), errors)
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
            outgoing.profile_updated(session, self.settings, me)

        await self._db(write)
        ap_delivery.wake_if_enqueued()

    async def upload_avatar(self, actor: Principal | None, data: bytes) -> tuple[str, str]:
        """Store an uploaded profile picture (checked by its content): (media path, URL)."""
        await self._db(lambda s: self.actor_profile(s, actor))
        relative, _mime, _size = await asyncio.to_thread(
            media.save_image, self.settings, data, "avatars", max_bytes=2 * 2**20
        )
        return relative, media.url(relative)

    async def upload_post_image(self, actor: Principal | None, data: bytes) -> Upload:
        """Store an image for the actor's next post."""
        await self._db(lambda s: self.actor_profile(s, actor))
        relative, mime, size = await asyncio.to_thread(media.save_image, self.settings, data, "posts")

        def record(session: Session) -> int:
            me = self.actor_profile(session, actor)
            row = Media(owner_id=me.id or 0, path=relative, mime_type=mime, size_bytes=size)
            session.add(row)
            session.flush()
            assert row.id is not None
            return row.id

        return Upload(await self._db(record), media.url(relative))
