"""The social service: the UI's and the API's one door to the network (writes in `writing`,
typed reads here).

Every method takes the acting principal and checks permission, sanitizes what is written,
enforces the limits, runs its database work off the event loop, and publishes what happened on
the event bus once the transaction has committed (so a page that reloads sees it).
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from clawnet.models import Follow, Post
from clawnet.security.permissions import Principal
from clawnet.security.sanitize import bio_source
from clawnet.social import api_tokens, audience, home_feed, notifications, profiles, timelines
from clawnet.social.content import SocialContent
from clawnet.social.discovery import SocialDiscovery
from clawnet.social.engage import SocialEngage
from clawnet.social.moderating import SocialModerating
from clawnet.social.rules import can_see, unread_count
from clawnet.social.views import (
    CommentView,
    MyProfile,
    NotificationView,
    PostView,
    ProfileCard,
    TokenRow,
)

PAGE = timelines.DEFAULT_LIMIT


class SocialService(SocialContent, SocialDiscovery, SocialModerating, SocialEngage):
    """One class, its parts in their own modules (content, discovery, moderating, engage)."""

    # --- who is looking ----------------------------------------------------------------------

    @staticmethod
    def _viewer(session: Session, actor: Principal | None) -> int | None:
        """The person profile of a signed-in actor (None when anonymous or without one)."""
        if actor is None or not actor.is_active:
            return None
        profile = profiles.person_profile_of(session, actor.user_id)
        return profile.id if profile is not None else None

    async def viewer_id(self, actor: Principal | None) -> int:
        return await self._db(lambda s: self._viewer(s, actor)) or 0

    async def trim_home_feeds(self) -> int:
        """Keep each home feed to its newest posts (older pages are merged at read time): a
        periodic job of the control plane; the number of feeds trimmed."""
        return await self._db(home_feed.trim)

    async def followees(self, actor: Principal | None) -> set[int]:
        """The profiles whose posts reach the actor's home timeline (their own included)."""

        def read(session: Session) -> set[int]:
            me = self._viewer(session, actor)
            if me is None:
                return set()
            return {me, *session.exec(select(Follow.followee_id).where(Follow.follower_id == me)).all()}

        return await self._db(read)

    # --- timelines and posts -------------------------------------------------------------------

    async def timeline(
        self,
        actor: Principal | None,
        which: str,
        *,
        max_id: int | None = None,
        min_id: int | None = None,
        limit: int = PAGE,
    ) -> list[PostView]:
        """The home timeline (people followed, and oneself) or the public one, newest first."""

        def read(session: Session) -> list[PostView]:
            me = self._viewer(session, actor)
            if which == "home" and me is not None:
                ids = timelines.home_ids(session, me, max_id=max_id, min_id=min_id, limit=limit)
            else:
                ids = timelines.public_ids(session, viewer_id=me, max_id=max_id, min_id=min_id, limit=limit)
            return timelines.hydrate(session, me, ids)

        return await self._db(read)

    async def posts(self, actor: Principal | None, ids: list[int]) -> list[PostView]:
        """These posts, as far as the actor may see them."""

        def read(session: Session) -> list[PostView]:
            me = self._viewer(session, actor)
            visible = [
                p.id
                for p in session.exec(select(Post).where(col(Post.id).in_(ids))).all()
                if p.id is not None and can_see(session, me, p)
            ]
            return timelines.hydrate(session, me, [i for i in ids if i in visible])

        return await self._db(read)

    async def visible_ids(self, actor: Principal | None, ids: list[int]) -> set[int]:
        """Of these post (or boost) ids, those the actor's timelines would show: visibility
        rules, their bot filter and moderation (for the live "new posts" count)."""

        def read(session: Session) -> set[int]:
            me = self._viewer(session, actor)
            rows = session.exec(
                select(Post).where(col(Post.id).in_(ids), *audience.post_clauses(session, me))
            ).all()
            return {p.id for p in rows if p.id is not None and can_see(session, me, p)}

        return await self._db(read) if ids else set()

    async def post(self, actor: Principal | None, post_id: int) -> tuple[PostView, list[CommentView]] | None:
        """A post with its thread, or None when it does not exist or the actor may not see it."""

        def read(session: Session) -> tuple[PostView, list[CommentView]] | None:
            me = self._viewer(session, actor)
            post = session.get(Post, post_id)
            if post is None or not can_see(session, me, post):
                return None
            shown = timelines.hydrate(session, me, [post_id])
            return (shown[0], timelines.comments_of(session, me, post_id)) if shown else None

        return await self._db(read)

    async def profile(self, actor: Principal | None, handle: str) -> ProfileCard | None:
        return await self._db(lambda s: timelines.profile_card(s, self._viewer(s, actor), handle))

    async def profile_posts(
        self, actor: Principal | None, profile_id: int, *, max_id: int | None = None
    ) -> list[PostView]:
        def read(session: Session) -> list[PostView]:
            me = self._viewer(session, actor)
            return timelines.hydrate(
                session, me, timelines.profile_ids(session, me, profile_id, max_id=max_id)
            )

        return await self._db(read)

    # --- notifications -------------------------------------------------------------------------

    async def notifications(
        self, actor: Principal | None, *, max_id: int | None = None, kinds: list[str] | None = None
    ) -> list[NotificationView]:
        def read(session: Session) -> list[NotificationView]:
            me = self._viewer(session, actor)
            return notifications.list_notifications(session, me, max_id=max_id, kinds=kinds) if me else []

        return await self._db(read)

    async def unread(self, actor: Principal | None) -> tuple[int, int]:
        """(the actor's profile id, their unread notifications); (0, 0) when anonymous."""

        def read(session: Session) -> tuple[int, int]:
            me = self._viewer(session, actor)
            return (me, unread_count(session, me)) if me else (0, 0)

        return await self._db(read)

    # --- one's own profile ---------------------------------------------------------------------

    async def my_profile(self, actor: Principal | None) -> MyProfile | None:
        def read(session: Session) -> MyProfile | None:
            if actor is None:
                return None
            me = profiles.person_profile_of(session, actor.user_id)
            if me is None:
                return None
            return MyProfile(
                id=me.id or 0,
                handle=me.handle,
                display_name=me.display_name,
                bio=bio_source(me.bio_html),
                avatar_path=me.avatar_path,
                avatar_url=self._media_url(me.avatar_path),
            )

        return await self._db(read)

    # --- bots' API tokens ----------------------------------------------------------------------

    async def bot_tokens(self, actor: Principal | None, bot_id: int) -> list[TokenRow]:
        return await self._db(lambda s: api_tokens.list_tokens(s, actor, bot_id))

    async def create_bot_token(self, actor: Principal | None, bot_id: int, name: str) -> str:
        """A new token for scripts posting as the bot; shown once, only its hash is kept."""
        return await self._db(lambda s: api_tokens.create_token(s, actor, bot_id, name))

    async def revoke_bot_token(self, actor: Principal | None, token_id: int) -> None:
        await self._db(lambda s: api_tokens.revoke_token(s, actor, token_id))
