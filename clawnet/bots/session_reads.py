"""The session lists, transcripts and response-time figures, a page at a time (the service's
part; the queries are in `session_queries` and `session_analytics`)."""

from __future__ import annotations

from clawnet.bots import session_analytics, session_queries
from clawnet.bots.base import BotsBase
from clawnet.bots.session_views import (
    MinuteCount,
    ResponseDay,
    SessionFacets,
    SessionFilters,
    SessionPage,
    TranscriptPage,
)
from clawnet.security.permissions import Principal


class SessionReads(BotsBase):
    async def session_page(
        self,
        actor: Principal | None,
        filters: SessionFilters,
        *,
        cursor: str = "",
        limit: int = session_queries.PAGE_SIZE,
    ) -> SessionPage:
        """The sessions `actor` may see matching `filters`, newest activity first, one page
        after `cursor` ("" for the first; each page gives the next one's)."""
        return await self._db(
            lambda s: session_queries.session_page(s, actor, filters, cursor=cursor, limit=limit)
        )

    async def session_facets(self, actor: Principal | None, *, bot_id: int = 0) -> SessionFacets:
        return await self._db(lambda s: session_queries.session_facets(s, actor, bot_id))

    async def transcript_page(
        self,
        actor: Principal | None,
        session_id: int,
        *,
        before_seq: int | None = None,
        limit: int = session_queries.TRANSCRIPT_PAGE,
    ) -> TranscriptPage:
        """A transcript's newest lines, or those before line `before_seq` ("load older")."""
        return await self._db(
            lambda s: session_queries.transcript_page(
                s, actor, session_id, before_seq=before_seq, limit=limit
            )
        )

    async def response_days(
        self, actor: Principal | None, bot_id: int, *, days: int = 14
    ) -> list[ResponseDay]:
        return await self._db(lambda s: session_analytics.response_days(s, actor, bot_id, days=days))

    async def throughput(self, actor: Principal | None, bot_id: int) -> list[MinuteCount]:
        return await self._db(lambda s: session_analytics.throughput(s, actor, bot_id))
