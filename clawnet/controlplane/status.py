"""The status book: the one place the control plane records what state a gateway or a bot is in.

Every change is written to the database first, then published on the bus (`gateway.status`,
`bot.status`) exactly when the stored fact changed, so every live view of a fact (a dashboard's
gateway row, a bot card, a bot's page) hears the same change at the same time. Failure counters,
last errors and "last seen" times live here too.
"""

from __future__ import annotations

import asyncio

from sqlmodel import Session, col, select

from clawnet.controlplane.db_runner import DbRunner
from clawnet.enums import BotStatus, DesiredStatus, GatewayStatus
from clawnet.events import EventBus, Kind
from clawnet.models import Bot, Gateway, record_bot_status, utcnow

ALIVE_EVERY_S = 20.0  # "last seen" is written at most this often per gateway


class StatusBook:
    def __init__(self, db: DbRunner, bus: EventBus) -> None:
        self.db = db
        self.bus = bus
        self._last_touch: dict[int, float] = {}

    async def set_gateway(
        self,
        gateway_id: int,
        status: GatewayStatus,
        detail: str,
        *,
        bots: list[int] | None = None,
        bot_status: BotStatus | None = None,
        clear_pid: bool = False,
        announce: bool = False,
    ) -> None:
        """Record a gateway's status (and optionally its bots'). Published when it changed, or
        always with `announce` (e.g. "adopted", which a previous process may have stored)."""

        def update(s: Session) -> bool:
            gw = s.get(Gateway, gateway_id)
            if gw is None:
                return False
            changed = gw.actual_status != status.value or gw.status_detail != detail[:500]
            gw.actual_status = status.value
            gw.status_detail = detail[:500]
            if status in (GatewayStatus.ERROR, GatewayStatus.CRASH_LOOP):
                gw.last_error = detail[:2000]
            if clear_pid:
                gw.pid = None
                gw.pid_started_at = None
            gw.updated_at = utcnow()
            s.add(gw)
            return changed

        if await self.db.run(update) or announce:
            self.bus.publish(
                Kind.GATEWAY_STATUS, {"status": status.value, "detail": detail}, gateway_id=gateway_id
            )
        if bots and bot_status is not None:
            await self.set_bots(bots, bot_status, detail if bot_status is BotStatus.ERROR else "")

    async def set_bots(self, bot_ids: list[int], status: BotStatus, error: str) -> None:
        if not bot_ids:
            return

        def update(s: Session) -> list[tuple[int, int | None]]:
            changed = []
            for bot in s.exec(select(Bot).where(col(Bot.id).in_(bot_ids))).all():
                if bot.actual_status != status.value or bot.last_error != error[:2000]:
                    bot.actual_status = status.value
                    bot.last_error = error[:2000]
                    bot.updated_at = utcnow()
                    s.add(bot)
                    assert bot.id is not None
                    wanted = bot.desired_status == DesiredStatus.RUNNING.value
                    record_bot_status(s, bot.id, status.value, wanted)  # for uptime
                    changed.append((bot.id, bot.gateway_id))
            return changed

        for bot_id, gateway_id in await self.db.run(update):
            self.bus.publish(
                Kind.BOT_STATUS,
                {"status": status.value, "error": error},
                bot_id=bot_id,
                gateway_id=gateway_id,
            )

    async def record_failure(self, gateway_id: int, message: str) -> int:
        """Count one more failure in a row; returns the count."""

        def update(s: Session) -> int:
            gw = s.get(Gateway, gateway_id)
            if gw is None:
                return 0
            gw.consecutive_failures += 1
            gw.last_error = message[:2000]
            s.add(gw)
            return gw.consecutive_failures

        return await self.db.run(update)

    async def record_error(self, gateway_id: int, message: str) -> None:
        """Say what went wrong on the gateway's status, in plain words, without changing its state."""

        def update(s: Session) -> str | None:
            gw = s.get(Gateway, gateway_id)
            if gw is None:
                return None
            gw.last_error = message[:2000]
            gw.status_detail = message[:500]
            s.add(gw)
            return gw.actual_status

        status = await self.db.run(update)
        if status is not None:
            self.bus.publish(
                Kind.GATEWAY_STATUS, {"status": status, "detail": message}, gateway_id=gateway_id
            )

    async def reset_failures(self, gateway_id: int) -> None:
        def update(s: Session) -> None:
            gw = s.get(Gateway, gateway_id)
            if gw is not None:
                gw.consecutive_failures = 0
                s.add(gw)

        await self.db.run(update)

    def note_alive(self, gateway_id: int, *, force: bool = False) -> None:
        """Record that a gateway spoke (at most once every 20 s per gateway)."""
        now = asyncio.get_running_loop().time()
        if not force and now - self._last_touch.get(gateway_id, 0) < ALIVE_EVERY_S:
            return
        self._last_touch[gateway_id] = now
        self.db.submit(lambda s: _touch(s, gateway_id))

    async def touch(self, gateway_id: int) -> None:
        await self.db.run(lambda s: _touch(s, gateway_id))


def _touch(s: Session, gateway_id: int) -> None:
    gw = s.get(Gateway, gateway_id)
    if gw is not None:
        gw.last_seen_at = utcnow()
        s.add(gw)
