"""What the fleet pages read: each a typed read model (`views`), the caller's permission checked
in the same transaction (`queries`), the database work off the event loop."""

from __future__ import annotations

from sqlmodel import Session

from clawnet.bots import queries
from clawnet.bots.base import BotsBase
from clawnet.bots.uptime import uptime_of_bots
from clawnet.bots.views import (
    BotChoice,
    BotHeader,
    BotUptime,
    CardQuery,
    ChannelRow,
    DayFigures,
    FleetOverview,
    GatewayRow,
    MemoryPoint,
)
from clawnet.security.permissions import Action, Principal, require


class Reads(BotsBase):
    async def overview(self, actor: Principal | None, query: CardQuery | None = None) -> FleetOverview:
        """Bot cards (every one, or the page `query` asks for), the summary and the gateways."""
        return await self._db(lambda s: queries.fleet_overview(s, actor, query))

    async def find_bot(self, actor: Principal | None, ref: str) -> int | None:
        """A bot's number from `/bots/<ref>` (its number or its agent id), if `actor` may see it."""
        return await self._db(lambda s: queries.find_bot(s, actor, ref))

    async def header(self, actor: Principal | None, bot_id: int) -> BotHeader | None:
        return await self._db(lambda s: queries.bot_header(s, self.settings, actor, bot_id))

    async def uptime(self, actor: Principal | None, bot_id: int) -> BotUptime:
        """The bot's uptime per day over the last 30 days (and overall)."""

        def read(s: Session) -> BotUptime:
            require(s, actor, Action.VIEW_BOT, bot_id)
            return uptime_of_bots(s, [bot_id])[bot_id]

        return await self._db(read)

    async def channels(self, actor: Principal | None, bot_id: int) -> list[ChannelRow]:
        return await self._db(lambda s: queries.bot_channels(s, actor, bot_id))

    async def analytics(self, actor: Principal | None, *, bot_id: int | None = None) -> list[DayFigures]:
        return await self._db(lambda s: queries.analytics(s, actor, bot_id=bot_id))

    async def memory(self, actor: Principal | None, bot_id: int) -> list[MemoryPoint]:
        return await self._db(lambda s: queries.memory_series(s, actor, bot_id))

    async def bot_choices(self, actor: Principal | None) -> list[BotChoice]:
        return await self._db(lambda s: queries.bot_choices(s, actor))

    async def gateways(self, actor: Principal | None) -> list[GatewayRow]:
        return await self._db(lambda s: queries.all_gateways(s, actor))
