"""Talking to a running bot: chat turns, channel actions (reconnect, WhatsApp pairing) and its
gateway's log. Each checks permission first, then goes through the control plane, wherever it
runs (`controlplane.access`)."""

from __future__ import annotations

import asyncio

from sqlmodel import Session

from clawnet import audit
from clawnet.bots.base import BotsBase
from clawnet.bots.queries import log_scope
from clawnet.bots.views import LogEntry, LogScope
from clawnet.controlplane.chat import ChatError, Turn
from clawnet.controlplane.gateway_api import GatewayApi, is_expiry, lacks_plugin, main_session_key
from clawnet.controlplane.logs import recent_logs
from clawnet.controlplane.protocol import GatewayError
from clawnet.errors import NotFound, UserError
from clawnet.models import Bot
from clawnet.security.permissions import Action, Principal, require

MAX_MESSAGE = 20000
QR_VALID_S = 120


class ChannelActionError(UserError):
    """A channel action on a running gateway failed; the message says why and what to do."""


class Operations(BotsBase):
    async def chat(
        self,
        actor: Principal | None,
        bot_id: int,
        text: str,
        *,
        session_key: str | None = None,
        timeout_s: float | None = None,
    ) -> Turn:
        """Send `text` to the bot (its main dashboard session unless `session_key`)."""

        def check(session: Session) -> tuple[int, str]:
            who = require(session, actor, Action.OPERATE_BOT, bot_id)
            bot = session.get(Bot, bot_id)
            if bot is None:
                raise NotFound("No such bot.")
            return who.user_id, bot.agent_id

        user_id, agent_id = await self._db(check)
        text = text.strip()
        if not text:
            raise ChatError("Type a message first.")
        if len(text) > MAX_MESSAGE:
            raise ChatError("That message is too long (20,000 characters at most).")
        return await self.control.chat(
            bot_id,
            text,
            user_id=user_id,
            session_key=session_key or main_session_key(agent_id),
            timeout_s=timeout_s,
        )

    async def _gateway_of(
        self, actor: Principal | None, bot_id: int, action: Action, what: str
    ) -> tuple[GatewayApi, str]:
        def load(session: Session) -> tuple[int | None, str]:
            who = require(session, actor, action, bot_id)
            bot = session.get(Bot, bot_id)
            if bot is None:
                raise NotFound("No such bot.")
            if what:
                audit.record(session, who, what, "bot", bot_id, f"{what} on {bot.name}")
            return bot.gateway_id, bot.agent_id

        gateway_id, agent_id = await self._db(load)
        api = self.control.gateway(gateway_id) if gateway_id else None
        if api is None:
            raise ChannelActionError("The bot's gateway is not running: start the bot first.")
        return api, agent_id

    async def reconnect_channel(self, actor: Principal | None, bot_id: int, channel: str) -> str:
        """Stop and start one channel account of the bot (credentials kept)."""
        api, agent_id = await self._gateway_of(actor, bot_id, Action.OPERATE_BOT, "channel.reconnect")
        try:
            await api.stop_channel(channel, agent_id)
            outcome = await api.start_channel(channel, agent_id)
        except GatewayError as exc:
            raise ChannelActionError(f"The gateway could not restart {channel}: {exc.message}") from None
        if outcome.started:
            return f"{channel} restarted."
        return f"{channel} did not start: {outcome.reason or 'no reason given'}."

    async def whatsapp_pairing_qr(self, actor: Principal | None, bot_id: int) -> tuple[str, str]:
        """Start WhatsApp's QR login through the gateway: (QR image data URL, login key)."""
        api, agent_id = await self._gateway_of(actor, bot_id, Action.CONFIGURE_BOT, "channel.whatsapp_pair")
        try:
            login = await api.start_web_login("whatsapp", agent_id, valid_ms=QR_VALID_S * 1000)
        except GatewayError as exc:
            if lacks_plugin(exc):
                raise ChannelActionError(
                    "This gateway has no WhatsApp support installed. On the gateway host run "
                    "`openclaw plugins install @openclaw/whatsapp`, then restart the bot."
                ) from None
            raise ChannelActionError(f"WhatsApp pairing could not start: {exc.message}") from None
        if not login.qr_data_url.startswith("data:image/"):
            raise ChannelActionError("The gateway did not return a QR code. Try again in a moment.")
        return login.qr_data_url, login.login_key

    async def whatsapp_pairing_wait(self, actor: Principal | None, bot_id: int, login_key: str) -> str:
        api, agent_id = await self._gateway_of(actor, bot_id, Action.CONFIGURE_BOT, "")
        try:
            connected = await api.wait_web_login("whatsapp", agent_id, login_key, valid_ms=QR_VALID_S * 1000)
        except GatewayError as exc:
            if is_expiry(exc):
                raise ChannelActionError(
                    "The QR code timed out before it was scanned. Press Pair again for a new one."
                ) from None
            raise ChannelActionError(f"WhatsApp pairing failed: {exc.message}") from None
        return "WhatsApp is linked." if connected else "WhatsApp did not confirm the link."

    async def log_scope(self, actor: Principal | None, bot_id: int) -> LogScope | None:
        return await self._db(lambda s: log_scope(s, actor, bot_id))

    async def recent_logs(
        self, actor: Principal | None, bot_id: int, *, level: str = "INFO", search: str = "", limit: int = 300
    ) -> list[LogEntry]:
        """The newest lines of the bot's gateway log (lines naming the pool's other bots hidden)."""
        scope = await self.log_scope(actor, bot_id)
        if scope is None:
            return []
        lines = await asyncio.to_thread(
            recent_logs, self.settings, scope.gateway_id, limit=limit, level=level, search=search
        )
        return [
            LogEntry(ln.time, ln.level, ln.subsystem, ln.message) for ln in lines if scope.shows(ln.message)
        ]
