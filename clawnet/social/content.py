"""Boosts, hashtags, mentions, content warnings, edit history, Atom feeds.

A boost is a post row of its own (`reblog_of_id` = the original, author = the booster, no
content, the original's visibility), so timelines page through boosts like any post; only public
posts can be boosted, boosting a boost boosts its original, and one profile boosts a post once.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from clawnet.enums import NotificationKind, Visibility
from clawnet.errors import PermissionDenied
from clawnet.events import Kind
from clawnet.humanize import ago
from clawnet.models import Post, PostEdit, PostMention, Profile, utcnow
from clawnet.security.permissions import Principal
from clawnet.social import audience, feeds, hashtags, profiles, timelines
from clawnet.social.federation import outgoing
from clawnet.social.rules import Outbox, can_see, notify
from clawnet.social.views import EditView, PostView, TagView
from clawnet.social.writing import SocialError, SocialWrites, spoiler


def _viewer(session: Session, actor: Principal | None) -> int | None:
    """The actor's person profile id (None when anonymous), as `SocialService._viewer`."""
    if actor is None or not actor.is_active:
        return None
    profile = profiles.person_profile_of(session, actor.user_id)
    return profile.id if profile is not None else None


class SocialContent(SocialWrites):
    # --- writing with a content warning, and editing with history ----------------------------

    async def create_post(
        self,
        actor: Principal | None,
        text: str,
        visibility: str = Visibility.PUBLIC.value,
        media_ids: list[int] | None = None,
        spoiler_text: str = "",
    ) -> int:
        await self.learn_mentions(actor, text)

        def write(session: Session, outbox: Outbox) -> int:
            profile = self.actor_profile(session, actor)
            post = self.post_as(
                session, outbox, profile, text, visibility, media_ids or [], spoiler_text=spoiler_text
            )
            assert post.id is not None
            return post.id

        return await self._write(write)

    async def edit_post(
        self, actor: Principal | None, post_id: int, text: str, spoiler_text: str | None = None
    ) -> None:
        """Change one's own post; the previous version is kept for its visible history, and its
        tags and mentions follow the new text (newly mentioned people are notified)."""
        await self.learn_mentions(actor, text)

        def write(session: Session, outbox: Outbox) -> None:
            profile, post = self._visible_post(session, actor, post_id)
            if post.author_id != profile.id:
                raise PermissionDenied("You can only edit your own posts.")
            if post.reblog_of_id is not None:
                raise SocialError("A boost cannot be edited.")
            rendered = self._render(session, text)
            warning = post.spoiler_text if spoiler_text is None else spoiler(spoiler_text)
            if rendered.html == post.content_html and warning == post.spoiler_text:
                return  # nothing changed: no empty version in the history
            session.add(
                PostEdit(
                    post_id=post_id,
                    content_html=post.content_html,
                    content_text=post.content_text,
                    spoiler_text=post.spoiler_text,
                    created_at=post.edited_at or post.created_at,
                )
            )
            post.content_html, post.content_text = rendered.html, rendered.text[:10000]
            post.spoiler_text, post.edited_at = warning, utcnow()
            session.add(post)
            hashtags.set_tags(session, post, rendered.tags)
            self._sync_mentions(session, outbox, post, profile, rendered.mentions)
            session.flush()
            outgoing.post_edited(session, self.settings, profile, post)
            outbox.add(Kind.POST_CHANGED, {"post_id": post_id, "what": "edited"})

        await self._write(write)

    @staticmethod
    def _sync_mentions(
        session: Session, outbox: Outbox, post: Post, author: Profile, handles: tuple[str, ...]
    ) -> None:
        assert post.id is not None and author.id is not None
        wanted: dict[int | None, Profile] = {
            p.id: p
            for p in (
                session.exec(select(Profile).where(col(Profile.handle).in_(handles))).all() if handles else []
            )
        }
        existing = {
            m.profile_id: m for m in session.exec(select(PostMention).where(PostMention.post_id == post.id))
        }
        for profile_id, row in existing.items():
            if profile_id not in wanted:
                session.delete(row)
        for new_id in wanted:
            if new_id is not None and new_id not in existing:
                session.add(PostMention(post_id=post.id, profile_id=new_id))
                notify(session, outbox, new_id, NotificationKind.MENTION, author.id, post.id)

    async def post_history(self, actor: Principal | None, post_id: int) -> list[EditView]:
        """Every version of a post, the oldest first, the current one last; empty when the actor
        may not see the post."""

        def read(session: Session) -> list[EditView]:
            me = _viewer(session, actor)
            post = session.get(Post, post_id)
            if post is None or not can_see(session, me, post):
                return []
            if post.hidden_at is not None and post.author_id != me:
                return []
            edits = session.exec(
                select(PostEdit).where(PostEdit.post_id == post_id).order_by(col(PostEdit.id))
            ).all()
            versions = [EditView(e.content_html, e.spoiler_text, ago(e.created_at), False) for e in edits]
            when = post.edited_at or post.created_at
            return [*versions, EditView(post.content_html, post.spoiler_text, ago(when), True)]

        return await self._db(read)

    # --- boosts ------------------------------------------------------------------------------

    def _boostable(self, session: Session, actor: Principal | None, post_id: int) -> tuple[Profile, Post]:
        profile, post = self._visible_post(session, actor, post_id)
        if post.reblog_of_id is not None:  # boosting a boost boosts the original
            original = session.get(Post, post.reblog_of_id)
            if original is None or not can_see(session, profile.id, original):
                raise SocialError("That post does not exist.")
            post = original
        if post.hidden_at is not None and post.author_id != profile.id:
            raise SocialError("That post does not exist.")
        return profile, post

    @staticmethod
    def _recount_boosts(session: Session, post: Post) -> int:
        session.flush()
        post.reblog_count = session.exec(
            select(func.count()).select_from(Post).where(Post.reblog_of_id == post.id)
        ).one()
        session.add(post)
        return post.reblog_count

    async def boost(self, actor: Principal | None, post_id: int) -> int:
        """Boost a public post (idempotent); returns the boost's own row id."""

        def write(session: Session, outbox: Outbox) -> int:
            profile, post = self._boostable(session, actor, post_id)
            assert profile.id is not None and post.id is not None
            if post.visibility != Visibility.PUBLIC.value or post.hidden_at is not None:
                raise SocialError("Only public posts can be boosted.")
            mine = select(Post.id).where(Post.author_id == profile.id, Post.reblog_of_id == post.id)
            existing = session.exec(mine).first()
            if existing is not None:
                return existing
            original_author = session.get(Profile, post.author_id)
            row = Post(
                author_id=profile.id,
                content_html="",
                content_text="",
                visibility=post.visibility,
                reblog_of_id=post.id,
                author_is_bot=profile.is_bot or bool(original_author and original_author.is_bot),
            )
            try:
                with session.begin_nested():
                    session.add(row)
                    session.flush()
            except IntegrityError:  # the same person boosting twice at once
                return session.exec(mine).one() or 0
            assert row.id is not None
            count = self._recount_boosts(session, post)
            notify(session, outbox, post.author_id, NotificationKind.REBLOG, profile.id, post.id)
            outgoing.boosted(session, self.settings, profile, row, post)
            outbox.add(
                Kind.POST_CREATED,
                {
                    "post_id": row.id,
                    "author_id": profile.id,
                    "visibility": row.visibility,
                    "mentions": [],
                    "reblog_of_id": post.id,
                },
                bot_id=profile.bot_id,
            )
            outbox.add(Kind.POST_CHANGED, {"post_id": post.id, "what": "boosted", "reblog_count": count})
            return row.id

        return await self._write(write)

    async def unboost(self, actor: Principal | None, post_id: int) -> None:
        """Take one's boost back (idempotent)."""

        def write(session: Session, outbox: Outbox) -> None:
            profile, post = self._boostable(session, actor, post_id)
            row = session.exec(
                select(Post).where(Post.author_id == profile.id, Post.reblog_of_id == post.id)
            ).first()
            if row is None:
                return
            row_id = row.id
            outgoing.unboosted(session, self.settings, profile, row, post)
            session.delete(row)
            count = self._recount_boosts(session, post)
            outbox.add(Kind.POST_CHANGED, {"post_id": row_id, "what": "deleted"})
            outbox.add(Kind.POST_CHANGED, {"post_id": post.id, "what": "boosted", "reblog_count": count})

        await self._write(write)

    # --- hashtags and mentions -----------------------------------------------------------------

    async def tag_timeline(
        self,
        actor: Principal | None,
        tag: str,
        *,
        max_id: int | None = None,
        min_id: int | None = None,
        limit: int = timelines.DEFAULT_LIMIT,
    ) -> list[PostView]:
        def read(session: Session) -> list[PostView]:
            me = _viewer(session, actor)
            ids = hashtags.tag_ids(session, me, tag, max_id=max_id, min_id=min_id, limit=limit)
            return timelines.hydrate(session, me, ids)

        return await self._db(read)

    async def trending_tags(self, actor: Principal | None, limit: int = 10) -> list[TagView]:
        return await self._db(lambda s: hashtags.trending(s, _viewer(s, actor), limit))

    async def mentions(
        self, actor: Principal | None, *, max_id: int | None = None, limit: int = timelines.DEFAULT_LIMIT
    ) -> list[PostView]:
        """Posts that mention the actor, newest first (empty when anonymous)."""

        def read(session: Session) -> list[PostView]:
            me = _viewer(session, actor)
            if me is None:
                return []
            q = (
                select(Post.id)
                .join(PostMention, col(PostMention.post_id) == Post.id)
                .where(PostMention.profile_id == me, *audience.post_clauses(session, me))
            )
            if max_id is not None:
                q = q.where(col(Post.id) < max_id)
            rows = session.exec(q.order_by(col(Post.id).desc()).limit(timelines.clamp_limit(limit))).all()
            visible = [
                p.id
                for p in session.exec(select(Post).where(col(Post.id).in_([r for r in rows if r]))).all()
                if p.id is not None and can_see(session, me, p)
            ]
            return timelines.hydrate(session, me, [r for r in rows if r in visible])

        return await self._db(read)

    # --- Atom feeds ----------------------------------------------------------------------------

    async def atom_profile(self, handle: str) -> feeds.Feed | None:
        """A profile's newest public posts for its Atom feed (None: no such, or suspended)."""
        return await self._db(lambda s: feeds.profile_feed(s, handle))

    async def atom_tag(self, tag: str) -> feeds.Feed:
        """A hashtag's newest public posts for its Atom feed."""
        return await self._db(lambda s: feeds.tag_feed(s, tag))
