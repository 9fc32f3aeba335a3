"""Search, the viewer's bot filter, grouped and filtered notifications."""

from __future__ import annotations

from sqlmodel import Session

from clawnet.security.permissions import Action, Principal, require
from clawnet.social import bot_filter as bots
from clawnet.social import profiles, search
from clawnet.social.rules import Outbox
from clawnet.social.timelines import clamp_limit
from clawnet.social.views import SearchResults
from clawnet.social.writing import SocialError, SocialWrites


class SocialDiscovery(SocialWrites):
    @staticmethod
    def _searcher(session: Session, actor: Principal | None) -> int | None:
        """The searching profile: None for anonymous readers (public posts only)."""
        if actor is None:
            return None
        actor = require(session, actor, Action.USE_SOCIAL)
        profile = profiles.person_profile_of(session, actor.user_id)
        return profile.id if profile is not None else None

    async def search(
        self, actor: Principal | None, query: str, *, kind: str = "all", limit: int = 20
    ) -> SearchResults:
        """People and bots, posts (full text) and hashtags matching `query`, as far as the actor
        may see them (and with their bot filter)."""
        if kind not in search.KINDS:
            raise SocialError("Search people, posts or tags.")
        text = search.normalize(query)
        n = clamp_limit(limit)

        def read(session: Session) -> SearchResults:
            me = self._searcher(session, actor)
            if not text:
                return SearchResults(profiles=[], posts=[], tags=[])
            return SearchResults(
                profiles=search.profiles(session, me, text, n) if kind in ("all", "profiles") else [],
                posts=search.posts(session, me, text, n) if kind in ("all", "posts") else [],
                tags=search.tags(session, text, n) if kind in ("all", "tags") else [],
            )

        return await self._db(read)

    async def set_bot_filter(self, actor: Principal | None, value: str) -> None:
        """Which bots' posts reach the actor's timelines and search: "all", "following", "none"."""
        if value not in bots.CHOICES:
            raise SocialError("Choose all bots, bots you follow, or no bots.")

        def write(session: Session, _outbox: Outbox) -> None:
            profile = self.actor_profile(session, actor)
            profile.bot_filter = value
            session.add(profile)

        await self._write(write)

    async def bot_filter(self, actor: Principal | None) -> str:
        """The actor's bot filter ("all" for anonymous readers)."""

        def read(session: Session) -> str:
            return bots.choice_of(session, self._searcher(session, actor))

        return await self._db(read)
