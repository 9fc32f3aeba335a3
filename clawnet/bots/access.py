"""Access requests: strangers who asked to talk to a bot by DM (OpenClaw's pairing), and the
senders people approved.

Deciding uses the gateway's own pairing methods (`channels.pairing.approve` / `dismiss`, which
notify the sender when asked and the channel can). An approved sender is also kept as desired
state: their id joins the channel's allow_from, so the generated config carries it and the
approval survives a gateway that is moved or recreated with an empty state folder. Revoking
removes it there and from OpenClaw's pairing store (see `controlplane.pairing`), after which the
sender's next message gets a pairing code again instead of an answer.

Whoever may see a bot sees its requests and approved senders; deciding needs the right to
configure it (`Action.CONFIGURE_BOT`), checked here for every call. Each decision is audited.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from clawnet import audit
from clawnet.bots import access_views
from clawnet.bots.access_views import AccessRequestView, ApprovedSenderView
from clawnet.bots.base import BotsBase
from clawnet.bots.validation import allow_entry_problem
from clawnet.controlplane.gateway_api import GatewayApi, is_request_gone
from clawnet.controlplane.protocol import GatewayError
from clawnet.controlplane.remote import ControlOpError
from clawnet.enums import ChannelType
from clawnet.errors import NotFound, Unavailable, UserError
from clawnet.events import Kind
from clawnet.models import AccessRequest, ApprovedSender, Bot, BotChannel, utcnow
from clawnet.security.permissions import Action, Principal, require

NOTIFICATION_WORDS = {
    "sent": "they were told",
    "failed": "telling them failed",
    "unsupported": "this channel cannot tell them",
}


class AccessDecisionError(UserError):
    """The gateway could not carry out a decision; nothing was changed in ClawNet."""


@dataclass(frozen=True)
class _Pending:
    id: int
    gateway_id: int
    bot_id: int
    bot_name: str
    channel: str
    account_id: str
    request_id: str
    sender_id: str
    sender_name: str

    @property
    def who(self) -> str:
        return f"{self.sender_name} ({self.sender_id})" if self.sender_name else self.sender_id

    @property
    def key(self) -> list[str]:
        return [self.channel, self.account_id, self.request_id]


class Access(BotsBase):
    async def access_requests(
        self, actor: Principal | None, *, bot_id: int | None = None
    ) -> list[AccessRequestView]:
        """Pending requests of every bot `actor` may see (or of one bot)."""
        return await self._db(lambda s: access_views.pending_requests(s, actor, bot_id=bot_id))

    async def access_count(self, actor: Principal | None) -> int:
        """How many requests are waiting on the bots `actor` may see (the navigation's count)."""
        return await self._db(lambda s: access_views.pending_count(s, actor))

    async def approved_senders(self, actor: Principal | None, bot_id: int) -> list[ApprovedSenderView]:
        return await self._db(lambda s: access_views.approved_senders(s, actor, bot_id))

    # --- decisions ----------------------------------------------------------------------------

    async def _pending(self, actor: Principal | None, request_id: int) -> tuple[_Pending, GatewayApi]:
        def load(session: Session) -> _Pending:
            row = session.get(AccessRequest, int(request_id))
            if row is None:
                raise NotFound("This request was already decided, or it expired.")
            require(session, actor, Action.CONFIGURE_BOT, row.bot_id)
            bot = session.get(Bot, row.bot_id)
            return _Pending(
                row.id or 0,
                row.gateway_id,
                row.bot_id,
                bot.name if bot else "",
                row.channel,
                row.account_id,
                row.request_id,
                row.sender_id,
                row.sender_name,
            )

        pending = await self._db(load)
        api = self.control.gateway(pending.gateway_id)
        if api is None:
            raise Unavailable("The bot's gateway cannot be reached right now; try again when it runs.")
        return pending, api

    async def _gone(self, pending: _Pending) -> None:
        """The gateway no longer has the request: drop ClawNet's copy too."""
        await self._db(lambda s: _delete_request(s, pending.id))
        self._resolved(pending)

    def _resolved(self, pending: _Pending) -> None:
        self.bus.publish(
            Kind.ACCESS_REQUESTS,
            {"resolved": pending.key},
            bot_id=pending.bot_id,
            gateway_id=pending.gateway_id,
        )

    async def approve_access(self, actor: Principal | None, request_id: int, *, notify: bool = False) -> str:
        """Let the sender talk to the bot (telling them if `notify` and the channel can)."""
        pending, api = await self._pending(actor, request_id)
        try:
            approval = await api.approve_pairing(
                pending.channel, pending.account_id, pending.request_id, notify=bool(notify)
            )
        except GatewayError as exc:
            if is_request_gone(exc):
                await self._gone(pending)
                raise NotFound("This request was already decided, or it expired.") from None
            raise AccessDecisionError(f"The gateway could not approve it: {exc.message}") from None

        def record(session: Session) -> None:
            who = require(session, actor, Action.CONFIGURE_BOT, pending.bot_id)
            sender = approval.sender_id or pending.sender_id
            channel = session.exec(
                select(BotChannel).where(
                    BotChannel.bot_id == pending.bot_id, BotChannel.type == pending.channel
                )
            ).first()
            if channel is not None and sender not in channel.allow_from and _fits(channel.type, sender):
                channel.allow_from = [*channel.allow_from, sender]
                channel.updated_at = utcnow()
                session.add(channel)
            approved = _approval(session, pending.bot_id, pending.channel, sender) or ApprovedSender(
                bot_id=pending.bot_id, channel=pending.channel, sender_id=sender
            )
            approved.sender_name = pending.sender_name
            approved.approved_by_id, approved.approved_by = who.user_id, who.label
            approved.approved_at = utcnow()
            session.add(approved)
            _touch(session, pending.bot_id)
            _delete_request(session, pending.id)
            audit.record(
                session,
                who,
                "access.approve",
                "bot",
                pending.bot_id,
                f"approved {pending.channel} sender {pending.who} for {pending.bot_name}",
                after={"channel": pending.channel, "sender": sender, "notification": approval.notification},
            )

        await self._db(record)
        self._resolved(pending)
        self.bus.publish(Kind.ACCESS_SENDERS, {"channel": pending.channel}, bot_id=pending.bot_id)
        self._changed(pending.bot_id)
        told = NOTIFICATION_WORDS.get(approval.notification, "")
        return f"Approved {pending.who}" + (f"; {told}." if told else ".")

    async def dismiss_access(self, actor: Principal | None, request_id: int) -> str:
        """Drop the request without letting the sender in (they may ask again later)."""
        pending, api = await self._pending(actor, request_id)
        try:
            await api.dismiss_pairing(pending.channel, pending.account_id, pending.request_id)
        except GatewayError as exc:
            if is_request_gone(exc):
                await self._gone(pending)
                raise NotFound("This request was already decided, or it expired.") from None
            raise AccessDecisionError(f"The gateway could not dismiss it: {exc.message}") from None

        def record(session: Session) -> None:
            who = require(session, actor, Action.CONFIGURE_BOT, pending.bot_id)
            _delete_request(session, pending.id)
            audit.record(
                session,
                who,
                "access.dismiss",
                "bot",
                pending.bot_id,
                f"dismissed {pending.channel} sender {pending.who} for {pending.bot_name}",
                after={"channel": pending.channel, "sender": pending.sender_id},
            )

        await self._db(record)
        self._resolved(pending)
        return f"Dismissed {pending.who}."

    async def revoke_sender(self, actor: Principal | None, bot_id: int, channel: str, sender_id: str) -> str:
        """Take a sender's access away: from the channel's allow_from and from OpenClaw's
        pairing store, so their next message is asked to pair again."""
        channel, sender_id = str(channel).strip(), str(sender_id).strip()

        def check(session: Session) -> tuple[int | None, str]:
            require(session, actor, Action.CONFIGURE_BOT, bot_id)
            bot = session.get(Bot, bot_id)
            row = _channel(session, bot_id, channel)
            known = row is not None and sender_id in row.allow_from
            if bot is None or not (known or _approval(session, bot_id, channel, sender_id)):
                raise NotFound(f"{sender_id or 'That sender'} is not an allowed sender of this channel.")
            return bot.gateway_id, bot.agent_id

        gateway_id, agent_id = await self._db(check)
        try:
            note = await self.control.forget_paired_sender(gateway_id, channel, agent_id, sender_id)
        except ControlOpError as exc:
            raise Unavailable(str(exc)) from None

        def record(session: Session) -> str:
            who = require(session, actor, Action.CONFIGURE_BOT, bot_id)
            bot = session.get(Bot, bot_id)
            row = _channel(session, bot_id, channel)
            if bot is None or row is None:
                raise NotFound("This bot or channel no longer exists.")
            row.allow_from = [e for e in row.allow_from if e != sender_id]
            row.updated_at = utcnow()
            session.add(row)
            approval = _approval(session, bot_id, channel, sender_id)
            name = approval.sender_name if approval is not None else ""
            if approval is not None:
                session.delete(approval)
            _touch(session, bot_id)
            label = f"{name} ({sender_id})" if name else sender_id
            audit.record(
                session,
                who,
                "access.revoke",
                "bot",
                bot_id,
                f"revoked {channel} sender {label} for {bot.name}",
                before={"channel": channel, "sender": sender_id},
            )
            return label

        label = await self._db(record)
        self.bus.publish(Kind.ACCESS_SENDERS, {"channel": channel}, bot_id=bot_id)
        self._changed(bot_id)
        return f"Revoked {label}." + (f" {note}" if note else "")


def _fits(channel_type: str, sender: str) -> bool:
    """Whether the sender id is one ClawNet's own allowlist accepts for the channel (a Signal
    sender known only by a uuid is not): only then is it kept in the allowlist as well."""
    try:
        return allow_entry_problem(ChannelType(channel_type), sender) is None
    except ValueError:
        return False


def _approval(session: Session, bot_id: int, channel: str, sender_id: str) -> ApprovedSender | None:
    return session.exec(
        select(ApprovedSender).where(
            ApprovedSender.bot_id == bot_id,
            ApprovedSender.channel == channel,
            ApprovedSender.sender_id == sender_id,
        )
    ).first()


def _channel(session: Session, bot_id: int, channel: str) -> BotChannel | None:
    return session.exec(
        select(BotChannel).where(BotChannel.bot_id == bot_id, BotChannel.type == channel)
    ).first()


def _touch(session: Session, bot_id: int) -> None:
    bot = session.get(Bot, bot_id)
    if bot is not None:
        bot.config_version += 1
        bot.updated_at = utcnow()
        session.add(bot)


def _delete_request(session: Session, request_id: int) -> None:
    row = session.get(AccessRequest, request_id)
    if row is not None:
        session.delete(row)
