"""The service face of the control plane: what pages (and tests, and scripts) call.

Every method takes the acting `Principal` and checks permission itself, so a handler that
forgets to check cannot leak an action. Writes go to the database (the desired state) in one
transaction with an audit event, then ask the controller to reconcile; nothing here waits on a
gateway except `chat`, `restart_bot` and the `wait_*` helpers.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from clawnet import audit
from clawnet.bots.placement import place_bot
from clawnet.bots.validation import BotInput, ChannelInput, available_agent_id, validate_bot_input
from clawnet.controlplane import openclaw_config as oc
from clawnet.controlplane.kicks import write_kick
from clawnet.controlplane.sessions import ChatError, Turn
from clawnet.controlplane.supervisor import bot_paths
from clawnet.db import session_scope
from clawnet.events.bus import EventBus, Kind
from clawnet.models import Binding, Bot, BotChannel, Gateway, ModelProvider, utcnow
from clawnet.models.enums import BotStatus, DesiredStatus, GatewayKind, GatewayStatus, ProviderKind
from clawnet.security.permissions import Action, Principal, accessible_bot_ids, require
from clawnet.security.secret_fields import CHANNEL_CREDENTIALS, GATEWAY_TOKEN, seal_json, unseal_json
from clawnet.settings import Settings
from clawnet.social.profiles import create_bot_profile

DELETE_MARKER = ".delete-requested"


class BotInputError(Exception):
    """The submitted bot has problems; `errors` maps each field to what is wrong."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class NotFound(Exception):
    pass


class ChannelActionError(Exception):
    """A channel action on a running gateway failed; the message says why and what to do."""


def _apply_input(bot: Bot, inp: BotInput) -> None:
    bot.name = inp.name.strip()
    bot.persona = inp.persona.strip()
    bot.emoji = inp.emoji.strip()
    bot.avatar_path = inp.avatar_path
    bot.provider_id = inp.provider_id
    bot.model_id = inp.model_id.strip()
    bot.placement = inp.placement
    bot.session_scope, bot.dm_scope, bot.reset_mode = inp.session_scope, inp.dm_scope, inp.reset_mode
    bot.reset_at_hour, bot.reset_idle_minutes = inp.reset_at_hour, inp.reset_idle_minutes
    bot.tools_profile = inp.tools_profile
    bot.tools_allow = [t.strip() for t in inp.tools_allow if t.strip()]
    bot.tools_deny = [t.strip() for t in inp.tools_deny if t.strip()]
    bot.updated_at = utcnow()


def _summary(bot: Bot) -> dict[str, Any]:
    """What an audit event says about a bot (never credentials)."""
    return {
        "name": bot.name,
        "agent_id": bot.agent_id,
        "model": f"{bot.provider_id}/{bot.model_id}",
        "placement": bot.placement,
        "tools": bot.tools_profile,
        "desired": bot.desired_status,
    }


def _replace_channels(session: Session, bot: Bot, channels: list[ChannelInput]) -> None:
    assert bot.id is not None
    existing = {c.type: c for c in session.exec(select(BotChannel).where(BotChannel.bot_id == bot.id)).all()}
    wanted = {c.type: c for c in channels}
    for ctype, row in existing.items():
        if ctype not in wanted:
            session.delete(row)
    for ctype, inp in wanted.items():
        row = existing.get(ctype) or BotChannel(bot_id=bot.id, type=ctype, account_id=bot.agent_id)
        creds = {k: v.strip() for k, v in inp.credentials.items() if v and v.strip()}
        if existing.get(ctype) is not None and row.credentials_enc:
            # Secrets are never sent back to the browser: an empty field means "keep the stored one".
            stored = unseal_json(CHANNEL_CREDENTIALS, row.credentials_enc)
            creds = {**stored, **creds}
        row.credentials_enc = seal_json(CHANNEL_CREDENTIALS, creds) if creds else None
        row.dm_policy, row.group_policy, row.mention_policy = (
            inp.dm_policy,
            inp.group_policy,
            inp.mention_policy,
        )
        row.allow_from = [a.strip() for a in inp.allow_from if a.strip()]
        row.group_allow_from = [a.strip() for a in inp.group_allow_from if a.strip()]
        row.enabled = inp.enabled
        row.updated_at = utcnow()
        session.add(row)


def _replace_bindings(session: Session, bot: Bot, inp: BotInput) -> None:
    assert bot.id is not None
    for row in session.exec(select(Binding).where(Binding.bot_id == bot.id)).all():
        session.delete(row)
    for b in inp.bindings:
        session.add(
            Binding(
                bot_id=bot.id,
                channel=b.channel,
                peer_kind=b.peer_kind or None,
                peer_id=b.peer_id.strip() or None,
                guild_id=b.guild_id.strip() or None,
                team_id=b.team_id.strip() or None,
                priority=b.priority,
            )
        )


def stored_channel_inputs(session: Session, bot_id: int) -> list[ChannelInput]:
    """A bot's channels as inputs, with credentials left empty (they stay stored)."""
    return [
        ChannelInput(
            c.type,
            {},
            c.dm_policy,
            list(c.allow_from),
            c.group_policy,
            list(c.group_allow_from),
            c.mention_policy,
            c.enabled,
        )
        for c in session.exec(
            select(BotChannel).where(BotChannel.bot_id == bot_id).order_by(col(BotChannel.type))
        ).all()
    ]


@dataclass
class FleetService:
    settings: Settings
    bus: EventBus
    controller: Any = None  # FleetController when the control plane runs in this process
    _remote_chats: Any = None  # RemoteChats, when it runs in another

    def kick(self, changed_bot: int | None = None) -> None:
        """Ask the controller to reconcile; tell open pages the fleet changed."""
        self.bus.publish(Kind.FLEET_KICK)
        if self.controller is None:
            write_kick(self.settings.database_url)  # the controller runs in another process
        self.bus.publish(Kind.FLEET_CHANGED, {"bot_id": changed_bot}, bot_id=changed_bot)

    # --- bots --------------------------------------------------------------------------------

    def create_bot(self, actor: Principal | None, inp: BotInput) -> int:
        with session_scope(self.settings.database_url) as session:
            actor = require(session, actor, Action.CREATE_BOT)
            if not inp.agent_id.strip():
                inp.agent_id = available_agent_id(session, self.settings, inp.name)
            inp.agent_id = inp.agent_id.strip()
            errors = validate_bot_input(session, self.settings, inp, owner_id=actor.user_id)
            if errors:
                raise BotInputError(errors)
            bot = Bot(
                owner_id=actor.user_id,
                name=inp.name.strip(),
                agent_id=inp.agent_id,
                desired_status=(DesiredStatus.RUNNING if inp.start else DesiredStatus.STOPPED).value,
                actual_status=(BotStatus.PENDING if inp.start else BotStatus.STOPPED).value,
            )
            _apply_input(bot, inp)
            session.add(bot)
            session.flush()
            _replace_channels(session, bot, inp.channels)
            _replace_bindings(session, bot, inp)
            if inp.remote_gateway_id is not None:
                bot.gateway_id = inp.remote_gateway_id
            place_bot(session, bot, self.settings)
            create_bot_profile(session, bot)
            audit.record(
                session,
                actor,
                "bot.create",
                "bot",
                bot.id,
                f"created {bot.name} ({bot.agent_id})",
                after=_summary(bot),
            )
            bot_id = bot.id
        assert bot_id is not None
        self.kick(bot_id)
        return bot_id

    def update_bot(self, actor: Principal | None, bot_id: int, inp: BotInput) -> None:
        with session_scope(self.settings.database_url) as session:
            actor = require(session, actor, Action.CONFIGURE_BOT, bot_id)
            bot = session.get(Bot, bot_id)
            if bot is None:
                raise NotFound("No such bot.")
            inp.agent_id = bot.agent_id  # the agent id is the bot's identity in its gateway: fixed
            errors = validate_bot_input(session, self.settings, inp, owner_id=bot.owner_id, bot_id=bot_id)
            if errors:
                raise BotInputError(errors)
            before = _summary(bot)
            _apply_input(bot, inp)
            bot.config_version += 1
            if inp.remote_gateway_id is not None:
                bot.gateway_id = inp.remote_gateway_id
            session.add(bot)
            _replace_channels(session, bot, inp.channels)
            _replace_bindings(session, bot, inp)
            place_bot(session, bot, self.settings)
            audit.record(
                session,
                actor,
                "bot.update",
                "bot",
                bot.id,
                f"changed {bot.name}",
                before=before,
                after=_summary(bot),
            )
        self.kick(bot_id)

    def delete_bot(self, actor: Principal | None, bot_id: int, *, delete_data: bool = False) -> None:
        """Remove a bot. Its gateway drops the agent without deleting files; the bot's data
        folder (sessions, workspace) is kept unless `delete_data`."""
        with session_scope(self.settings.database_url) as session:
            actor = require(session, actor, Action.DELETE_BOT, bot_id)
            bot = session.get(Bot, bot_id)
            if bot is None:
                raise NotFound("No such bot.")
            audit.record(
                session,
                actor,
                "bot.delete",
                "bot",
                bot.id,
                f"deleted {bot.name} ({bot.agent_id}); data {'deleted' if delete_data else 'kept'}",
                before=_summary(bot),
            )
            agent_id = bot.agent_id
            session.delete(bot)
        if delete_data:
            folder = bot_paths(self.settings, agent_id).root
            folder.mkdir(parents=True, exist_ok=True)
            (folder / DELETE_MARKER).write_text(str(time.time()))
        self.kick(bot_id)

    def set_running(self, actor: Principal | None, bot_id: int, running: bool) -> None:
        with session_scope(self.settings.database_url) as session:
            actor = require(session, actor, Action.OPERATE_BOT, bot_id)
            bot = session.get(Bot, bot_id)
            if bot is None:
                raise NotFound("No such bot.")
            desired = DesiredStatus.RUNNING if running else DesiredStatus.STOPPED
            if bot.desired_status != desired.value:
                bot.desired_status = desired.value
                bot.actual_status = BotStatus.STARTING if running else bot.actual_status
                bot.updated_at = utcnow()
                session.add(bot)
                if running and bot.gateway_id is not None:
                    gw = session.get(Gateway, bot.gateway_id)
                    if gw is not None and gw.actual_status in (
                        GatewayStatus.CRASH_LOOP.value,
                        GatewayStatus.ERROR.value,
                    ):
                        gw.actual_status, gw.consecutive_failures = GatewayStatus.STOPPED.value, 0
                        session.add(gw)
                audit.record(
                    session,
                    actor,
                    "bot.start" if running else "bot.stop",
                    "bot",
                    bot.id,
                    f"{'started' if running else 'stopped'} {bot.name}",
                )
                changed = (bot.actual_status, bot.last_error)
            else:
                changed = None
        # Only this bot's desired state changed: open pages update one card, not the whole list.
        self.bus.publish(Kind.FLEET_KICK)
        if changed is not None:
            self.bus.publish(Kind.BOT_DESIRED, {"desired": desired.value}, bot_id=bot_id)
            if running:
                self.bus.publish(
                    Kind.BOT_STATUS, {"status": str(changed[0]), "error": changed[1] or ""}, bot_id=bot_id
                )

    def set_auto_post(
        self, actor: Principal | None, bot_id: int, *, enabled: bool, max_per_day: int, min_conversations: int
    ) -> None:
        """The bot's auto-posting of insights (owner or admin only)."""
        errors: dict[str, str] = {}
        if not 1 <= max_per_day <= 24:
            errors["auto_post_max_per_day"] = "Between 1 and 24 posts a day."
        if not 1 <= min_conversations <= 1000:
            errors["auto_post_min_conversations"] = "Between 1 and 1000 conversations."
        with session_scope(self.settings.database_url) as session:
            actor = require(session, actor, Action.MANAGE_BOT_SOCIAL, bot_id)
            if errors:
                raise BotInputError(errors)
            bot = session.get(Bot, bot_id)
            if bot is None:
                raise NotFound("No such bot.")
            before = {
                "enabled": bot.auto_post_enabled,
                "max": bot.auto_post_max_per_day,
                "min": bot.auto_post_min_conversations,
            }
            bot.auto_post_enabled, bot.auto_post_max_per_day = enabled, max_per_day
            bot.auto_post_min_conversations = min_conversations
            session.add(bot)
            audit.record(
                session,
                actor,
                "bot.auto_post",
                "bot",
                bot_id,
                f"auto-post {'on' if enabled else 'off'} for {bot.name}",
                before=before,
                after={"enabled": enabled, "max": max_per_day, "min": min_conversations},
            )

    async def restart_bot(self, actor: Principal | None, bot_id: int) -> None:
        """Restart the bot's gateway process (also the way out of a crash loop)."""
        with session_scope(self.settings.database_url) as session:
            actor = require(session, actor, Action.OPERATE_BOT, bot_id)
            bot = session.get(Bot, bot_id)
            if bot is None or bot.gateway_id is None:
                raise NotFound("No such bot.")
            gw = session.get(Gateway, bot.gateway_id)
            if gw is not None:
                gw.consecutive_failures = 0
                if gw.actual_status in (GatewayStatus.CRASH_LOOP.value, GatewayStatus.ERROR.value):
                    gw.actual_status = GatewayStatus.STOPPED.value
                session.add(gw)
            audit.record(session, actor, "bot.restart", "bot", bot.id, f"restarted {bot.name}")
            gateway_id = bot.gateway_id
        if self.controller is not None:
            self.controller.health.cancel_restart(gateway_id)
            await self.controller.reconciler.reconcile_gateway(gateway_id, restart=True)
        else:
            self.kick()

    async def chat(
        self,
        actor: Principal | None,
        bot_id: int,
        text: str,
        *,
        session_key: str | None = None,
        timeout_s: float | None = None,
    ) -> Turn:
        with session_scope(self.settings.database_url) as session:
            actor = require(session, actor, Action.OPERATE_BOT, bot_id)
        text = text.strip()
        if not text:
            raise ChatError("Type a message first.")
        if len(text) > 20000:
            raise ChatError("That message is too long (20,000 characters at most).")
        if self.controller is None:
            if self.bus._transport is None:
                raise ChatError("The control plane is not running in this process.")
            if self._remote_chats is None:
                from clawnet.controlplane.remote import RemoteChats

                self._remote_chats = RemoteChats(self.bus)
            return await self._remote_chats.send(  # through the controller in another process
                bot_id, text, user_id=actor.user_id, session_key=session_key, timeout_s=timeout_s
            )
        return await self.controller.chats.send(
            bot_id, text, user_id=actor.user_id, session_key=session_key, timeout_s=timeout_s
        )

    # --- gateways --------------------------------------------------------------------------

    async def adopt_remote_gateway(self, actor: Principal | None, name: str, url: str, token: str) -> int:
        """Manage a gateway running elsewhere (its own supervisor starts it) by URL and token.
        The connection is tried first, so a wrong URL or token is refused with the reason."""
        from clawnet.controlplane.protocol import GatewayAuthError, GatewayConnection, GatewayError

        with session_scope(self.settings.database_url) as session:
            require(session, actor, Action.MANAGE_GATEWAYS)
        errors: dict[str, str] = {}
        if not name.strip():
            errors["name"] = "Name the gateway."
        if not url.startswith(("ws://", "wss://")):
            errors["url"] = (
                "Use the gateway's WebSocket URL, like wss://gateway.example.com or ws://10.0.0.5:18789."
            )
        if not token.strip():
            errors["token"] = "Paste the gateway's auth token (gateway.auth.token in its config)."  # noqa: S105
        if errors:
            raise BotInputError(errors)
        try:
            conn = await GatewayConnection.open(url, token.strip(), timeout=20)
            await conn.close()
        except GatewayAuthError:
            raise BotInputError({"token": "The gateway refused this token."}) from None
        except GatewayError as exc:
            raise BotInputError({"url": f"Cannot reach the gateway: {exc.message}"}) from None
        with session_scope(self.settings.database_url) as session:
            actor = require(session, actor, Action.MANAGE_GATEWAYS)
            gateway = Gateway(
                name=name.strip(),
                kind=GatewayKind.REMOTE.value,
                url=url,
                owner_id=actor.user_id,
                token_enc=GATEWAY_TOKEN.seal(token.strip()),
                capacity=self.settings.pool_capacity,
            )
            session.add(gateway)
            session.flush()
            audit.record(
                session,
                actor,
                "gateway.adopt",
                "gateway",
                gateway.id,
                f"adopted remote gateway {name} at {url}",
            )
            gateway_id = gateway.id
        assert gateway_id is not None
        self.kick()
        return gateway_id

    def rotate_gateway_token(self, actor: Principal | None, gateway_id: int) -> None:
        """Give a local gateway a new random token (applied hot; connections reconnect with it)."""
        import secrets

        with session_scope(self.settings.database_url) as session:
            actor = require(session, actor, Action.MANAGE_GATEWAYS)
            gateway = session.get(Gateway, gateway_id)
            if gateway is None or gateway.kind != GatewayKind.LOCAL.value:
                raise NotFound("No such local gateway.")
            gateway.token_enc = GATEWAY_TOKEN.seal(secrets.token_urlsafe(32))
            session.add(gateway)
            audit.record(
                session, actor, "gateway.rotate_token", "gateway", gateway_id, f"new token for {gateway.name}"
            )
        self.kick()

    # --- channels on a running gateway -----------------------------------------------------

    def _link_for(self, bot_id: int) -> tuple[Any, str]:
        with session_scope(self.settings.database_url) as session:
            bot = session.get(Bot, bot_id)
            if bot is None:
                raise NotFound("No such bot.")
            gateway_id, agent_id = bot.gateway_id, bot.agent_id
        if self.controller is None and self.bus._transport is not None and gateway_id:
            from clawnet.controlplane.remote import RemoteLink

            return RemoteLink(self.bus, gateway_id), agent_id  # through the controller elsewhere
        link = self.controller.links.get(gateway_id) if self.controller is not None and gateway_id else None
        if link is None or not link.client.is_connected:
            raise ChannelActionError("The bot's gateway is not running: start the bot first.")
        return link, agent_id

    async def reconnect_channel(self, actor: Principal | None, bot_id: int, channel: str) -> str:
        """Stop and start one channel account of the bot (credentials kept)."""
        from clawnet.controlplane.protocol import GatewayError

        with session_scope(self.settings.database_url) as session:
            actor = require(session, actor, Action.OPERATE_BOT, bot_id)
            audit.record(session, actor, "channel.reconnect", "bot", bot_id, f"reconnect {channel}")
        link, agent_id = self._link_for(bot_id)
        try:
            await link.client.call("channels.stop", {"channel": channel, "accountId": agent_id}, timeout=30)
            answer = await link.client.call(
                "channels.start", {"channel": channel, "accountId": agent_id}, timeout=30
            )
        except GatewayError as exc:
            raise ChannelActionError(f"The gateway could not restart {channel}: {exc.message}") from None
        outcome = (answer or {}).get("outcome") or {}
        if (answer or {}).get("started"):
            return f"{channel} restarted."
        return (
            f"{channel} did not start: {outcome.get('reason') or outcome.get('status') or 'no reason given'}."
        )

    async def whatsapp_pairing_qr(self, actor: Principal | None, bot_id: int) -> tuple[str, str]:
        """Start WhatsApp's QR login through the gateway: (QR image data URL, login session key)."""
        from clawnet.controlplane.protocol import GatewayError

        with session_scope(self.settings.database_url) as session:
            require(session, actor, Action.CONFIGURE_BOT, bot_id)
        link, agent_id = self._link_for(bot_id)
        try:
            answer = await link.client.call(
                "web.login.start",
                {"channel": "whatsapp", "accountId": agent_id, "force": True, "timeoutMs": 120_000},
                timeout=60,
            )
        except GatewayError as exc:
            text = exc.message.lower()
            if "plugin" in text or "not installed" in text or "unknown channel" in text or "no qr" in text:
                raise ChannelActionError(
                    "This gateway has no WhatsApp support installed. On the gateway host run "
                    "`openclaw plugins install @openclaw/whatsapp`, then restart the bot."
                ) from None
            raise ChannelActionError(f"WhatsApp pairing could not start: {exc.message}") from None
        qr = str((answer or {}).get("qrDataUrl") or (answer or {}).get("qr") or "")
        if not qr.startswith("data:image/"):
            raise ChannelActionError("The gateway did not return a QR code. Try again in a moment.")
        return qr, str((answer or {}).get("sessionKey") or "")

    async def whatsapp_pairing_wait(self, actor: Principal | None, bot_id: int, login_key: str) -> str:
        from clawnet.controlplane.protocol import GatewayError, GatewayTimeout

        with session_scope(self.settings.database_url) as session:
            require(session, actor, Action.CONFIGURE_BOT, bot_id)
        link, agent_id = self._link_for(bot_id)
        params: dict[str, Any] = {"channel": "whatsapp", "accountId": agent_id, "timeoutMs": 120_000}
        if login_key:
            params["sessionKey"] = login_key
        try:
            answer = await link.client.call("web.login.wait", params, timeout=130)
        except GatewayTimeout:
            raise ChannelActionError(
                "The QR code timed out before it was scanned. Press Pair again for a new one."
            ) from None
        except GatewayError as exc:
            if "timeout" in exc.message.lower() or "expired" in exc.message.lower():
                raise ChannelActionError(
                    "The QR code timed out before it was scanned. Press Pair again for a new one."
                ) from None
            raise ChannelActionError(f"WhatsApp pairing failed: {exc.message}") from None
        return (
            "WhatsApp is linked."
            if (answer or {}).get("connected", True)
            else "WhatsApp did not confirm the link."
        )

    # --- reading -----------------------------------------------------------------------------

    def visible_bots(self, session: Session, actor: Principal | None) -> list[Bot]:
        require(session, actor, Action.VIEW_FLEET)
        allowed = accessible_bot_ids(session, actor)
        query = select(Bot).order_by(col(Bot.name))
        if allowed is not None:
            if not allowed:
                return []
            query = query.where(col(Bot.id).in_(allowed))
        return list(session.exec(query).all())

    async def wait_for_bot(self, bot_id: int, status: BotStatus, timeout: float = 120.0) -> Bot:
        """Wait until the bot reaches `status` (raises TimeoutError with its last state)."""
        deadline = time.monotonic() + timeout
        with self.bus.subscribe([Kind.BOT_STATUS], bot_ids=[bot_id]) as events:
            while True:
                with session_scope(self.settings.database_url) as session:
                    bot = session.get(Bot, bot_id)
                    if bot is None:
                        raise NotFound("No such bot.")
                    if bot.actual_status == status.value:
                        return bot
                    if bot.actual_status == BotStatus.ERROR.value and status is not BotStatus.ERROR:
                        last = f"{bot.actual_status}: {bot.last_error}"
                    else:
                        last = bot.actual_status
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"bot {bot_id} did not reach {status.value} within {timeout:.0f} s (last: {last})"
                    )
                try:
                    await events.get(timeout=min(remaining, 1.0))
                except TimeoutError:
                    pass

    # --- import / export -------------------------------------------------------------------

    def export_config(self, actor: Principal | None, bot_id: int | None = None) -> str:
        """A bot's (or every visible bot's) OpenClaw config, secrets redacted."""
        from clawnet.controlplane.reconciler import agent_spec, provider_spec

        with session_scope(self.settings.database_url) as session:
            if bot_id is not None:
                require(session, actor, Action.VIEW_BOT, bot_id)
                bots = [b for b in [session.get(Bot, bot_id)] if b is not None]
            else:
                bots = self.visible_bots(session, actor)
            providers = {p.id: p for p in session.exec(select(ModelProvider)).all() if p.id is not None}
            agents = tuple(agent_spec(session, b, providers, self.settings, local=False) for b in bots)
            session_spec = oc.SessionSpec()
            if bots:
                from clawnet.bots.placement import session_spec_of

                session_spec = session_spec_of(bots[0])
            spec = oc.GatewaySpec(
                local=False,
                providers=tuple(provider_spec(p, self.settings) for p in providers.values()),
                agents=agents,
                session=session_spec,
            )
            config = oc.redact_secrets(oc.build_config(spec))
        return oc.render(config)

    def import_config(self, actor: Principal | None, raw: str, *, dry_run: bool = False) -> ImportResult:
        from clawnet.bots.importer import import_openclaw_config

        with session_scope(self.settings.database_url) as session:
            actor = require(session, actor, Action.IMPORT_CONFIG)
            result = import_openclaw_config(session, self.settings, actor, raw)
            if result.errors or dry_run:
                session.rollback()
                return result
            for bot_id in result.bot_ids:
                bot = session.get(Bot, bot_id)
                if bot is not None:
                    place_bot(session, bot, self.settings)
                    create_bot_profile(session, bot)
            audit.record(
                session,
                actor,
                "config.import",
                "fleet",
                "",
                f"imported {len(result.bot_ids)} bots",
                after={"bots": [b.name for b in result.bots]},
            )
        self.kick()
        return result


@dataclass
class ImportedBot:
    name: str
    agent_id: str
    channels: list[str]
    model: str


@dataclass
class ImportResult:
    bots: list[ImportedBot]
    providers: list[str]
    errors: list[str]
    bot_ids: list[int]


def ensure_local_echo_provider(session: Session) -> ModelProvider:
    """The built-in "local echo" model provider (no API key; echoes what it is told). Several
    web workers starting at once may race to add it: the loser takes the winner's row."""
    import sqlalchemy.exc

    def existing() -> ModelProvider | None:
        return session.exec(
            select(ModelProvider).where(ModelProvider.kind == ProviderKind.LOCAL_ECHO.value)
        ).first()

    provider = existing()
    if provider is None:
        provider = ModelProvider(
            name="echo",
            display_name="Local echo (no API key)",
            kind=ProviderKind.LOCAL_ECHO.value,
            models=[
                {
                    "id": "echo-1",
                    "name": "Echo",
                    "description": "Repeats what it is told. For trying ClawNet out.",
                }
            ],
        )
        try:
            with session.begin_nested():
                session.add(provider)
                session.flush()
        except sqlalchemy.exc.IntegrityError:
            provider = existing()
            assert provider is not None
    return provider


def purge_deleted_bot_data(settings: Settings, session: Session) -> list[str]:
    """Delete the data folders of deleted bots whose deletion was asked for, once no gateway
    config still names them."""
    root = settings.data_dir / "bots"
    if not root.exists():
        return []
    live_agents = set(session.exec(select(Bot.agent_id)).all())
    for gw in session.exec(select(Gateway)).all():
        live_agents |= set(((gw.applied_config or {}).get("agents") or {}).get("entries", {}) or {})
    purged = []
    for folder in root.iterdir():
        if (folder / DELETE_MARKER).exists() and folder.name not in live_agents:
            shutil.rmtree(folder, ignore_errors=True)
            purged.append(folder.name)
    return purged
