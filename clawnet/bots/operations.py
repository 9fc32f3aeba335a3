"""Talking to a running bot: chat turns, channel actions (reconnect, WhatsApp pairing) and its
gateway's log. Each checks permission first, then goes through the control plane, wherever it
runs (`controlplane.access`)."""

from __future__ import annotations

import asyncio
import logging

from sqlmodel import Session

from clawnet import audit
from clawnet.bots import whatsapp
from clawnet.bots.base import BotsBase
from clawnet.bots.queries import log_scope
from clawnet.bots.views import LogEntry, LogScope, PairingStep
from clawnet.controlplane.chat import ChatError, Turn
from clawnet.controlplane.gateway_api import GatewayApi, lacks_plugin, main_session_key
from clawnet.controlplane.logs import recent_logs, recent_remote_logs
from clawnet.controlplane.protocol import GatewayError, GatewayTimeout
from clawnet.errors import NotFound, UserError
from clawnet.models import Bot
from clawnet.security.permissions import Action, Principal, require
from clawnet.security.rate_limit import LimitAction

MAX_MESSAGE = 20000

log = logging.getLogger(__name__)


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
        await self._limit(LimitAction.CHAT, user_id)
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

    async def whatsapp_pairing_qr(
        self, actor: Principal | None, bot_id: int, *, relink: bool = False
    ) -> PairingStep:
        """Start WhatsApp's QR login through the bot's gateway. `relink` drops an existing link."""
        api, agent_id = await self._gateway_of(actor, bot_id, Action.CONFIGURE_BOT, "channel.whatsapp_pair")
        try:
            login = await api.start_web_login(
                "whatsapp", agent_id, valid_ms=whatsapp.QR_WAIT_S * 1000, force=relink
            )
        except GatewayError as exc:
            raise ChannelActionError(pairing_error(exc)) from None
        return whatsapp.started(login)

    async def whatsapp_pairing_wait(
        self, actor: Principal | None, bot_id: int, shown: PairingStep
    ) -> PairingStep:
        """Wait a while for the code on screen (`shown`) to be scanned: the link, a new code when
        WhatsApp rotates it, "waiting" when neither came, or the failure."""
        api, agent_id = await self._gateway_of(actor, bot_id, Action.CONFIGURE_BOT, "")
        try:
            login = await api.wait_web_login(
                "whatsapp",
                agent_id,
                shown.login_key,
                current_qr=shown.qr,
                valid_ms=whatsapp.WAIT_STEP_S * 1000,
            )
        except GatewayError as exc:
            raise ChannelActionError(pairing_error(exc)) from None
        return whatsapp.waited(login, shown.qr)

    async def log_scope(self, actor: Principal | None, bot_id: int) -> LogScope | None:
        return await self._db(lambda s: log_scope(s, actor, bot_id))

    async def recent_logs(
        self, actor: Principal | None, bot_id: int, *, level: str = "INFO", search: str = "", limit: int = 300
    ) -> list[LogEntry]:
        """The newest lines of the bot's gateway log (lines naming the pool's other bots hidden)."""
        scope = await self.log_scope(actor, bot_id)
        if scope is None:
            return []
        if scope.remote:
            api = self.control.gateway(scope.gateway_id)
            if api is None:
                return []
            try:
                lines = await recent_remote_logs(api, limit=limit, level=level, search=search)
            except GatewayError as exc:
                log.info("logs of remote gateway %s not read: %s", scope.gateway_id, exc)
                return []
        else:
            lines = await asyncio.to_thread(
                recent_logs, self.settings, scope.gateway_id, limit=limit, level=level, search=search
            )
        return [
            LogEntry(ln.time, ln.level, ln.subsystem, ln.message) for ln in lines if scope.shows(ln.message)
        ]


def pairing_error(exc: GatewayError) -> str:
    if lacks_plugin(exc):
        return whatsapp.NO_PLUGIN
    if isinstance(exc, GatewayTimeout):
        return "The gateway did not answer in time. Press Pair again."
    return whatsapp.failure(exc.message) or f"WhatsApp pairing failed: {exc.message}"
