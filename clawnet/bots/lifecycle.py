"""Creating, changing, starting, stopping, restarting and deleting bots.

Every method takes the acting `Principal` and checks permission itself, so a handler that forgets
to check cannot leak an action. Writes go to the database (the desired state) in one transaction
with an audit event, then the control plane is asked to reconcile; nothing here waits on a
gateway except `restart_bot` and `wait_for_bot`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace

from sqlmodel import Session, select

from clawnet import audit
from clawnet.bots.base import BotsBase
from clawnet.bots.forms import BotForm, BotInput, apply_form_changes, channel_creds
from clawnet.bots.placement import on_remote_gateway, place_bot
from clawnet.bots.store import (
    apply_input,
    replace_bindings,
    replace_channels,
    stored_credentials,
    stored_input,
    summary,
)
from clawnet.bots.validation import available_agent_id, validate_bot_input
from clawnet.bots.views import AutoPost
from clawnet.controlplane.agent_files import request_data_deletion
from clawnet.controlplane.remote import ControlOpError
from clawnet.enums import BotStatus, DesiredStatus, GatewayStatus
from clawnet.errors import NotFound, UserError
from clawnet.events import Kind
from clawnet.models import Bot, BotChannel, Gateway, record_bot_status, utcnow
from clawnet.models.access import ApprovedSender
from clawnet.security.permissions import Action, Principal, require
from clawnet.security.rate_limit import LimitAction, rate_limiter
from clawnet.social.profiles import create_bot_profile

log = logging.getLogger(__name__)
# (gateway id, agent id, [(channel, sender id)]) an edit took off the bot's allowlists
_Removed = tuple[int | None, str, list[tuple[str, str]]]


def bot_channels(session: Session, bot_id: int) -> list[BotChannel]:
    return list(session.exec(select(BotChannel).where(BotChannel.bot_id == bot_id)))


def forget_approval(session: Session, bot_id: int, channel: str, sender: str) -> None:
    row = session.exec(
        select(ApprovedSender).where(
            ApprovedSender.bot_id == bot_id,
            ApprovedSender.channel == channel,
            ApprovedSender.sender_id == sender,
        )
    ).first()
    if row is not None:
        session.delete(row)


def _bot(session: Session, bot_id: int) -> Bot:
    bot = session.get(Bot, bot_id)
    if bot is None:
        raise NotFound("No such bot.")
    return bot


class Lifecycle(BotsBase):
    async def create_bot(self, actor: Principal | None, inp: BotInput) -> int:
        def create(session: Session) -> int:
            who = require(session, actor, Action.CREATE_BOT)
            if not inp.agent_id.strip():
                inp.agent_id = available_agent_id(session, self.settings, inp.name)
            inp.agent_id = inp.agent_id.strip()
            errors = validate_bot_input(session, self.settings, inp, owner_id=who.user_id)
            if errors:
                raise UserError(field_errors=errors)
            bot = Bot(
                owner_id=who.user_id,
                name=inp.name.strip(),
                agent_id=inp.agent_id,
                desired_status=(DesiredStatus.RUNNING if inp.start else DesiredStatus.STOPPED).value,
                actual_status=(BotStatus.PENDING if inp.start else BotStatus.STOPPED).value,
            )
            apply_input(bot, inp)
            session.add(bot)
            session.flush()
            assert bot.id is not None
            record_bot_status(session, bot.id, bot.actual_status, inp.start)  # uptime starts here
            replace_channels(session, bot, inp.channels)
            replace_bindings(session, bot, inp.bindings)
            if inp.remote_gateway_id is not None:
                bot.gateway_id = inp.remote_gateway_id
            place_bot(session, bot, self.settings)
            create_bot_profile(session, bot)
            audit.record(
                session,
                who,
                "bot.create",
                "bot",
                bot.id,
                f"created {bot.name} ({bot.agent_id})",
                after=summary(bot),
            )
            assert bot.id is not None
            return bot.id

        bot_id = await self._db(create)
        self._changed(bot_id)
        return bot_id

    async def update_bot(self, actor: Principal | None, bot_id: int, inp: BotInput) -> None:
        """Replace the bot's settings with `inp` (empty credentials keep the stored ones)."""

        def update(session: Session) -> _Removed:
            who = require(session, actor, Action.CONFIGURE_BOT, bot_id)
            return self._save(session, who, _bot(session, bot_id), inp)

        await self._forget_removed(await self._db(update))
        self._changed(bot_id)

    async def update_from_form(
        self, actor: Principal | None, bot_id: int, base: BotForm, form: BotForm, creds: dict[str, str]
    ) -> None:
        """Apply what changed between the wizard's form as loaded (`base`) and as submitted:
        everything else about the bot, shown in the form or not, stays as it is."""

        def update(session: Session) -> _Removed:
            who = require(session, actor, Action.CONFIGURE_BOT, bot_id)
            bot = _bot(session, bot_id)
            merged = apply_form_changes(stored_input(session, bot), base, form, creds)
            return self._save(session, who, bot, merged)

        await self._forget_removed(await self._db(update))
        self._changed(bot_id)

    async def _forget_removed(self, removed: _Removed) -> None:
        """Senders taken off an allowlist by an edit lose access like a revoke: OpenClaw also
        allows the senders in its own pairing store, so they are removed there too."""
        gateway_id, agent_id, senders = removed
        for channel, sender in senders:
            try:
                await self.control.forget_paired_sender(gateway_id, channel, agent_id, sender)
            except ControlOpError as exc:
                log.warning("could not remove %s sender %s from the pairing store: %s", channel, sender, exc)

    def _save(self, session: Session, who: Principal, bot: Bot, inp: BotInput) -> _Removed:
        """Store `inp` as the bot's settings; returns the senders it took off allowlists."""
        assert bot.id is not None
        inp = replace(inp, agent_id=bot.agent_id)  # the agent id is the bot's identity in its gateway
        # A credential left empty keeps the stored one: check the bot as it will be.
        stored = stored_credentials(session, bot.id)
        checked = replace(
            inp,
            channels=[
                replace(
                    c,
                    credentials={
                        **channel_creds(stored, c.type),
                        **{k: v for k, v in c.credentials.items() if v},
                    },
                )
                for c in inp.channels
            ],
        )
        errors = validate_bot_input(session, self.settings, checked, owner_id=bot.owner_id, bot_id=bot.id)
        if errors:
            raise UserError(field_errors=errors)
        before = summary(bot)
        approved_on = bot.gateway_id  # where the senders were approved (the edit may move the bot)
        allowed_before = {c.type: set(c.allow_from) for c in bot_channels(session, bot.id)}
        allowed_after = {c.type: set(c.allow_from) for c in inp.channels}
        dropped = sorted(
            (channel, sender)
            for channel, senders in allowed_before.items()
            for sender in senders - allowed_after.get(channel, set())
            if sender != "*"
        )
        for channel, sender in dropped:
            forget_approval(session, bot.id, channel, sender)
        apply_input(bot, inp)
        bot.config_version += 1
        if inp.remote_gateway_id is not None:
            bot.gateway_id = inp.remote_gateway_id
        elif on_remote_gateway(session, bot):  # moved back to this machine: placed anew
            bot.gateway_id = None
        session.add(bot)
        replace_channels(session, bot, inp.channels)
        replace_bindings(session, bot, inp.bindings)
        place_bot(session, bot, self.settings)
        audit.record(
            session,
            who,
            "bot.update",
            "bot",
            bot.id,
            f"changed {bot.name}",
            before=before,
            after=summary(bot),
        )
        return approved_on, bot.agent_id, dropped

    async def delete_bot(self, actor: Principal | None, bot_id: int, *, delete_data: bool = False) -> None:
        """Remove a bot. Its gateway drops the agent without deleting files; the bot's data
        folder (sessions, workspace) is kept unless `delete_data`."""

        def delete(session: Session) -> str:
            who = require(session, actor, Action.DELETE_BOT, bot_id)
            bot = _bot(session, bot_id)
            kept = "deleted" if delete_data else "kept"
            audit.record(
                session, who, "bot.delete", "bot", bot.id, f"deleted {bot.name} ({bot.agent_id}); data {kept}",
                before=summary(bot),
            )  # fmt: skip
            session.delete(bot)
            return bot.agent_id

        agent_id = await self._db(delete)
        if delete_data:
            request_data_deletion(self.settings, agent_id)
        self._changed(bot_id)

    async def set_running(self, actor: Principal | None, bot_id: int, running: bool) -> None:
        desired = DesiredStatus.RUNNING if running else DesiredStatus.STOPPED

        def update(session: Session) -> tuple[str, str] | None:
            who = require(session, actor, Action.OPERATE_BOT, bot_id)
            bot = _bot(session, bot_id)
            if bot.desired_status == desired.value:
                return None
            rate_limiter(self.settings).hit(LimitAction.LIFECYCLE, f"user:{who.user_id}")
            bot.desired_status = desired.value
            bot.actual_status = BotStatus.STARTING.value if running else bot.actual_status
            bot.updated_at = utcnow()
            session.add(bot)
            assert bot.id is not None
            record_bot_status(session, bot.id, bot.actual_status, running)
            if running and bot.gateway_id is not None:
                gw = session.get(Gateway, bot.gateway_id)
                if gw is not None and gw.actual_status in (
                    GatewayStatus.CRASH_LOOP.value,
                    GatewayStatus.ERROR.value,
                ):
                    gw.actual_status, gw.consecutive_failures = GatewayStatus.STOPPED.value, 0
                    session.add(gw)
            verb = "started" if running else "stopped"
            audit.record(
                session, who, f"bot.{'start' if running else 'stop'}", "bot", bot.id, f"{verb} {bot.name}"
            )
            return bot.actual_status, bot.last_error

        changed = await self._db(update)
        # Only this bot's desired state changed: open pages update one card, not the whole list.
        self.control.kick()
        if changed is not None:
            self.bus.publish(Kind.BOT_DESIRED, {"desired": desired.value}, bot_id=bot_id)
            if running:
                self.bus.publish(
                    Kind.BOT_STATUS, {"status": changed[0], "error": changed[1] or ""}, bot_id=bot_id
                )

    async def restart_bot(self, actor: Principal | None, bot_id: int) -> None:
        """Restart the bot's gateway process (also the way out of a crash loop)."""

        def update(session: Session) -> int:
            who = require(session, actor, Action.OPERATE_BOT, bot_id)
            bot = _bot(session, bot_id)
            if bot.gateway_id is None:
                raise NotFound("The bot has no gateway yet.")
            rate_limiter(self.settings).hit(LimitAction.LIFECYCLE, f"user:{who.user_id}")
            gw = session.get(Gateway, bot.gateway_id)
            if gw is not None:
                gw.consecutive_failures = 0
                if gw.actual_status in (GatewayStatus.CRASH_LOOP.value, GatewayStatus.ERROR.value):
                    gw.actual_status = GatewayStatus.STOPPED.value
                session.add(gw)
            audit.record(session, who, "bot.restart", "bot", bot.id, f"restarted {bot.name}")
            return bot.gateway_id

        gateway_id = await self._db(update)
        await self.control.restart_gateway(gateway_id)

    async def auto_post(self, actor: Principal | None, bot_id: int) -> AutoPost:
        def read(session: Session) -> AutoPost:
            require(session, actor, Action.VIEW_BOT, bot_id)
            bot = _bot(session, bot_id)
            return AutoPost(bot.auto_post_enabled, bot.auto_post_max_per_day, bot.auto_post_min_conversations)

        return await self._db(read)

    async def set_auto_post(
        self, actor: Principal | None, bot_id: int, *, enabled: bool, max_per_day: int, min_conversations: int
    ) -> AutoPost:
        """The bot's auto-posting of insights (owner or admin only)."""
        errors: dict[str, str] = {}
        if not 1 <= max_per_day <= 24:
            errors["auto_post_max_per_day"] = "Between 1 and 24 posts a day."
        if not 1 <= min_conversations <= 1000:
            errors["auto_post_min_conversations"] = "Between 1 and 1000 conversations."

        def update(session: Session) -> AutoPost:
            who = require(session, actor, Action.MANAGE_BOT_SOCIAL, bot_id)
            if errors:
                raise UserError(field_errors=errors)
            bot = _bot(session, bot_id)
            before = {
                "enabled": bot.auto_post_enabled,
                "max": bot.auto_post_max_per_day,
                "min": bot.auto_post_min_conversations,
            }
            bot.auto_post_enabled, bot.auto_post_max_per_day = enabled, max_per_day
            bot.auto_post_min_conversations = min_conversations
            session.add(bot)
            audit.record(
                session, who, "bot.auto_post", "bot", bot_id, f"auto-post {'on' if enabled else 'off'} for {bot.name}",
                before=before, after={"enabled": enabled, "max": max_per_day, "min": min_conversations},
            )  # fmt: skip
            return AutoPost(enabled, max_per_day, min_conversations)

        return await self._db(update)

    async def wait_for_bot(self, bot_id: int, status: BotStatus, timeout: float = 120.0) -> Bot:
        """Wait until the bot reaches `status` (raises TimeoutError with its last state)."""
        deadline = time.monotonic() + timeout
        with self.bus.subscribe([Kind.BOT_STATUS], bot_ids=[bot_id]) as events:
            while True:
                bot = await self._db(lambda s: s.get(Bot, bot_id))
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
