"""Mute, block, report; the admin moderation queue (hide posts, suspend profiles).

Every method takes the acting principal and checks permission inside: people mute, block and
report with their own profile; the queue's methods are for admins only (MODERATE_SOCIAL).
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from clawnet import audit
from clawnet.enums import NotificationKind
from clawnet.events import Kind
from clawnet.humanize import ago
from clawnet.models import Block, Follow, HomeEntry, Notification, Post, Profile, Report, utcnow
from clawnet.models.social import Mute
from clawnet.security.permissions import Action, Principal, require
from clawnet.security.sanitize import clean_text
from clawnet.social import moderation, profiles
from clawnet.social.moderation_views import ModeratedItem, ModeratedProfile, ReportView
from clawnet.social.rules import Outbox, can_see
from clawnet.social.writing import SocialError, SocialWrites

MAX_MUTE_HOURS = 24 * 365
MAX_REASON = 500


def _reason(raw: str, *, limit: int = MAX_REASON) -> str:
    reason = " ".join(clean_text(raw or "").split())
    if not reason:
        raise SocialError("Give a reason.", {"reason": "Give a reason."})
    if len(reason) > limit:
        raise SocialError(f"Keep the reason under {limit} characters.")
    return reason


def _recount_follows(session: Session, *profile_list: Profile) -> None:
    for p in profile_list:
        p.followers_count = session.exec(
            select(func.count()).select_from(Follow).where(Follow.followee_id == p.id)
        ).one()
        p.following_count = session.exec(
            select(func.count()).select_from(Follow).where(Follow.follower_id == p.id)
        ).one()
        session.add(p)


class SocialModerating(SocialWrites):
    # --- people: mute, block, report -----------------------------------------------------------

    def _other(self, session: Session, me: Profile, profile_id: int, verb: str) -> Profile:
        other = session.get(Profile, int(profile_id or 0))
        if other is None:
            raise SocialError("That profile does not exist.")
        if other.id == me.id:
            raise SocialError(f"You cannot {verb} yourself.")
        return other

    async def mute(
        self,
        actor: Principal | None,
        profile_id: int,
        *,
        hours: int | None = None,
        notifications: bool = True,
    ) -> None:
        """Hide a profile's posts, boosts and comments (for `hours`, or until unmuted); with
        `notifications`, silence their notifications too. Muting again updates the mute."""
        if hours is not None:
            try:
                hours = int(hours)
            except (TypeError, ValueError):
                raise SocialError("Choose how long to mute.") from None
            if hours <= 0:
                hours = None
            elif hours > MAX_MUTE_HOURS:
                raise SocialError("Mute for at most a year (or until you unmute).")

        def write(session: Session, outbox: Outbox) -> None:
            me = self.actor_profile(session, actor)
            other = self._other(session, me, profile_id, "mute")
            row = session.exec(
                select(Mute).where(Mute.profile_id == me.id, Mute.target_id == other.id)
            ).first()
            row = row or Mute(profile_id=me.id or 0, target_id=other.id or 0)
            row.notifications = notifications is True
            row.expires_at = utcnow() + timedelta(hours=hours) if hours else None
            session.add(row)
            outbox.add(Kind.POST_CHANGED, {"what": "muted", "profile_id": me.id, "target_id": other.id})

        await self._write(write)

    async def unmute(self, actor: Principal | None, profile_id: int) -> None:
        def write(session: Session, outbox: Outbox) -> None:
            me = self.actor_profile(session, actor)
            session.exec(
                sa.delete(Mute).where(
                    col(Mute.profile_id) == me.id, col(Mute.target_id) == int(profile_id or 0)
                )
            )

        await self._write(write)

    async def block(self, actor: Principal | None, profile_id: int) -> None:
        """Block a profile: follows between the two end, and neither sees or reaches the other."""

        def write(session: Session, outbox: Outbox) -> None:
            me = self.actor_profile(session, actor)
            other = self._other(session, me, profile_id, "block")
            if session.exec(
                select(Block.id).where(Block.profile_id == me.id, Block.target_id == other.id)
            ).first():
                return
            session.add(Block(profile_id=me.id or 0, target_id=other.id or 0))
            session.exec(
                sa.delete(Follow).where(
                    sa.or_(
                        sa.and_(col(Follow.follower_id) == me.id, col(Follow.followee_id) == other.id),
                        sa.and_(col(Follow.follower_id) == other.id, col(Follow.followee_id) == me.id),
                    )
                )
            )
            session.exec(  # the follows went in bulk (no ORM events): their home feed entries too
                sa.delete(HomeEntry).where(
                    sa.or_(
                        sa.and_(col(HomeEntry.viewer_id) == me.id, col(HomeEntry.author_id) == other.id),
                        sa.and_(col(HomeEntry.viewer_id) == other.id, col(HomeEntry.author_id) == me.id),
                    )
                )
            )
            session.exec(  # what they told each other goes too (the unread count with it)
                sa.delete(Notification).where(
                    sa.or_(
                        sa.and_(
                            col(Notification.recipient_id) == me.id, col(Notification.actor_id) == other.id
                        ),
                        sa.and_(
                            col(Notification.recipient_id) == other.id, col(Notification.actor_id) == me.id
                        ),
                    )
                )
            )
            session.flush()
            _recount_follows(session, me, other)
            outbox.add(Kind.POST_CHANGED, {"what": "blocked", "profile_id": me.id, "target_id": other.id})

        await self._write(write)

    async def unblock(self, actor: Principal | None, profile_id: int) -> None:
        def write(session: Session, outbox: Outbox) -> None:
            me = self.actor_profile(session, actor)
            session.exec(
                sa.delete(Block).where(
                    col(Block.profile_id) == me.id, col(Block.target_id) == int(profile_id or 0)
                )
            )

        await self._write(write)

    async def muted(self, actor: Principal | None) -> list[ModeratedProfile]:
        """The actor's unexpired mutes, for Settings."""

        def read(session: Session) -> list[ModeratedProfile]:
            me = self.actor_profile(session, actor)
            rows = session.exec(
                select(Mute, Profile)
                .join(Profile, col(Profile.id) == Mute.target_id)
                .where(Mute.profile_id == me.id, moderation._active_mute())
                .order_by(col(Profile.handle))
            ).all()
            return [
                ModeratedProfile(
                    id=p.id or 0,
                    handle=p.handle,
                    name=p.display_name,
                    until=m.expires_at.strftime("%Y-%m-%d %H:%M UTC") if m.expires_at else "",
                    notifications=m.notifications,
                )
                for m, p in rows
            ]

        return await self._db(read)

    async def blocked(self, actor: Principal | None) -> list[ModeratedProfile]:
        def read(session: Session) -> list[ModeratedProfile]:
            me = self.actor_profile(session, actor)
            rows = session.exec(
                select(Profile)
                .join(Block, col(Block.target_id) == Profile.id)
                .where(Block.profile_id == me.id)
                .order_by(col(Profile.handle))
            ).all()
            return [ModeratedProfile(p.id or 0, p.handle, p.display_name, "", False) for p in rows]

        return await self._db(read)

    async def report(
        self,
        actor: Principal | None,
        *,
        post_id: int | None = None,
        profile_id: int | None = None,
        reason: str,
    ) -> int:
        """Report a post (and so its author) or a profile to the admins. One open report per
        reporter and target. Returns the report's id."""
        text = _reason(reason, limit=1000)

        def write(session: Session, outbox: Outbox) -> int:
            me = self.actor_profile(session, actor)
            post: Post | None = None
            if post_id:
                post = session.get(Post, int(post_id))
                if post is None or not can_see(session, me.id, post):
                    raise SocialError("That post does not exist.")
                target = session.get(Profile, post.author_id)
            elif profile_id:
                target = session.get(Profile, int(profile_id))
            else:
                raise SocialError("Choose a post or a profile to report.")
            if target is None:
                raise SocialError("That profile does not exist.")
            if target.id == me.id:
                raise SocialError("You cannot report yourself.")
            same_post = col(Report.post_id) == post.id if post else col(Report.post_id).is_(None)
            existing = session.exec(
                select(Report.id).where(
                    Report.reporter_id == me.id,
                    Report.target_id == target.id,
                    same_post,
                    Report.status == "open",
                )
            ).first()
            if existing is not None:
                raise SocialError("You already reported this; the admins will look at it.")
            row = Report(
                reporter_id=me.id or 0,
                target_id=target.id or 0,
                post_id=post.id if post else None,
                reason=text,
            )
            session.add(row)
            session.flush()
            assert row.id is not None
            return row.id

        return await self._write(write)

    # --- admins: the moderation queue -----------------------------------------------------------

    async def open_reports(self, actor: Principal | None, *, limit: int = 100) -> list[ReportView]:
        def read(session: Session) -> list[ReportView]:
            require(session, actor, Action.MODERATE_SOCIAL)
            reports = session.exec(
                select(Report).where(Report.status == "open").order_by(col(Report.id)).limit(limit)
            ).all()
            ids = {r.reporter_id for r in reports} | {r.target_id for r in reports}
            people = {p.id: p for p in session.exec(select(Profile).where(col(Profile.id).in_(ids))).all()}
            post_ids = {r.post_id for r in reports if r.post_id}
            posts = {p.id: p for p in session.exec(select(Post).where(col(Post.id).in_(post_ids))).all()}
            out = []
            for r in reports:
                target, post = people.get(r.target_id), posts.get(r.post_id)
                reporter = people.get(r.reporter_id)
                out.append(
                    ReportView(
                        id=r.id or 0,
                        reporter_handle=reporter.handle if reporter else "",
                        target_id=r.target_id,
                        target_handle=target.handle if target else "",
                        target_name=target.display_name if target else "",
                        post_id=post.id or 0 if post else 0,
                        post_text=post.content_text[:500] if post else "",
                        post_hidden=bool(post and post.hidden_at),
                        target_suspended=bool(target and target.suspended_at),
                        reason=r.reason,
                        ago=ago(r.created_at),
                    )
                )
            return out

        return await self._db(read)

    async def moderated(self, actor: Principal | None) -> list[ModeratedItem]:
        """Hidden posts and suspended profiles (newest first), so an admin can undo."""

        def read(session: Session) -> list[ModeratedItem]:
            require(session, actor, Action.MODERATE_SOCIAL)
            posts = session.exec(
                select(Post)
                .where(col(Post.hidden_at).is_not(None))
                .order_by(col(Post.hidden_at).desc())
                .limit(50)
            ).all()
            suspended = session.exec(
                select(Profile)
                .where(col(Profile.suspended_at).is_not(None))
                .order_by(col(Profile.suspended_at).desc())
                .limit(50)
            ).all()
            return [
                *(ModeratedItem("post", p.id or 0, p.content_text[:120], p.hidden_reason) for p in posts),
                *(
                    ModeratedItem("profile", p.id or 0, "@" + p.handle, p.suspension_reason)
                    for p in suspended
                ),
            ]

        return await self._db(read)

    def _notify_moderation(
        self, session: Session, outbox: Outbox, actor: Principal, recipient: Profile, post_id: int | None
    ) -> None:
        """Tell the author (a bot's owner sees it on the bot's profile) what an admin did."""
        admin = profiles.person_profile_of(session, actor.user_id)
        session.add(
            Notification(
                recipient_id=recipient.id or 0,
                kind=NotificationKind.MODERATION.value,
                actor_id=(admin.id if admin else None) or recipient.id or 0,
                post_id=post_id,
            )
        )
        outbox.add(
            Kind.NOTIFICATION, {"recipient_id": recipient.id, "kind": NotificationKind.MODERATION.value}
        )

    def _resolve(self, session: Session, actor: Principal, where: object, action: str, note: str) -> None:
        session.exec(
            sa.update(Report)
            .where(col(Report.status) == "open", where)  # type: ignore[arg-type]
            .values(
                status="resolved",
                action=action,
                resolution_note=note,
                resolved_by=actor.user_id,
                resolved_at=utcnow(),
            )
        )

    async def hide_post(self, actor: Principal | None, post_id: int, reason: str) -> None:
        """Hide a post from everyone but its author, who is told why and sees the reason on it.
        Open reports about the post are resolved."""
        text = _reason(reason)

        def write(session: Session, outbox: Outbox) -> None:
            admin = require(session, actor, Action.MODERATE_SOCIAL)
            post = session.get(Post, int(post_id or 0))
            if post is None:
                raise SocialError("That post does not exist.")
            post.hidden_at, post.hidden_reason = utcnow(), text
            session.add(post)
            self._resolve(session, admin, col(Report.post_id) == post.id, "hide_post", text)
            author = session.get(Profile, post.author_id)
            if author is not None:
                self._notify_moderation(session, outbox, admin, author, post.id)
            audit.record(session, admin, "social.hide_post", "post", post.id, f"Hid post {post.id}: {text}")
            outbox.add(Kind.POST_CHANGED, {"post_id": post.id, "what": "hidden"})

        await self._write(write)

    async def unhide_post(self, actor: Principal | None, post_id: int) -> None:
        def write(session: Session, outbox: Outbox) -> None:
            admin = require(session, actor, Action.MODERATE_SOCIAL)
            post = session.get(Post, int(post_id or 0))
            if post is None:
                raise SocialError("That post does not exist.")
            before = post.hidden_reason
            post.hidden_at, post.hidden_reason = None, ""
            session.add(post)
            audit.record(
                session,
                admin,
                "social.unhide_post",
                "post",
                post.id,
                f"Unhid post {post.id}",
                before={"reason": before},
            )
            outbox.add(Kind.POST_CHANGED, {"post_id": post.id, "what": "unhidden"})

        await self._write(write)

    async def suspend_profile(self, actor: Principal | None, profile_id: int, reason: str) -> None:
        """Suspend a person's or a bot's profile: it cannot post, comment or like, its posts are
        hidden, and its page says why. Open reports about it are resolved."""
        text = _reason(reason)

        def write(session: Session, outbox: Outbox) -> None:
            admin = require(session, actor, Action.MODERATE_SOCIAL)
            target = session.get(Profile, int(profile_id or 0))
            if target is None:
                raise SocialError("That profile does not exist.")
            target.suspended_at, target.suspension_reason = utcnow(), text
            session.add(target)
            self._resolve(session, admin, col(Report.target_id) == target.id, "suspend", text)
            self._notify_moderation(session, outbox, admin, target, None)
            audit.record(
                session, admin, "social.suspend", "profile", target.id, f"Suspended @{target.handle}: {text}"
            )
            outbox.add(Kind.POST_CHANGED, {"what": "suspended", "profile_id": target.id})

        await self._write(write)

    async def unsuspend_profile(self, actor: Principal | None, profile_id: int) -> None:
        def write(session: Session, outbox: Outbox) -> None:
            admin = require(session, actor, Action.MODERATE_SOCIAL)
            target = session.get(Profile, int(profile_id or 0))
            if target is None:
                raise SocialError("That profile does not exist.")
            before = target.suspension_reason
            target.suspended_at, target.suspension_reason = None, ""
            session.add(target)
            audit.record(
                session,
                admin,
                "social.unsuspend",
                "profile",
                target.id,
                f"Unsuspended @{target.handle}",
                before={"reason": before},
            )
            outbox.add(Kind.POST_CHANGED, {"what": "unsuspended", "profile_id": target.id})

        await self._write(write)

    async def dismiss_report(self, actor: Principal | None, report_id: int) -> None:
        def write(session: Session, outbox: Outbox) -> None:
            admin = require(session, actor, Action.MODERATE_SOCIAL)
            row = session.get(Report, int(report_id or 0))
            if row is None:
                raise SocialError("That report does not exist.")
            row.status, row.action = "dismissed", "none"
            row.resolved_by, row.resolved_at = admin.user_id, utcnow()
            session.add(row)
            audit.record(
                session, admin, "social.dismiss_report", "report", row.id, f"Dismissed report {row.id}"
            )

        await self._write(write)
