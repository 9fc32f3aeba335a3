"""Operating a bot's sessions: start a new one, rename, reset, compact, delete, abort its running
turn, and reply into a channel conversation as the operator.

Each goes through the gateway's own session methods (`controlplane.gateway_sessions`); the
operator or admin of the bot may do it (viewers only read), it is audited once the gateway
accepted it, ClawNet's copy of the session follows at once (and again from the gateway's events)
and open pages hear of it on the bus.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlmodel import Session

from clawnet import audit
from clawnet.bots.base import BotsBase
from clawnet.controlplane import session_ops as stored
from clawnet.controlplane.gateway_sessions import GatewaySessions, ReplyTarget, label_taken, reply_target
from clawnet.controlplane.protocol import GatewayError, GatewayTimeout
from clawnet.errors import NotFound, UserError
from clawnet.events import Kind
from clawnet.models import Bot, BotSession, OperatorReply, utcnow
from clawnet.security.permissions import Action, Principal, require
from clawnet.security.rate_limit import LimitAction
from clawnet.security.sanitize import clean_text

LABEL_MAX = 100
REPLY_MAX = 4000  # Telegram's message limit is 4096 characters


class SessionOpError(UserError):
    """The gateway refused or could not do a session operation; the message says why."""


@dataclass(frozen=True)
class _Target:
    session_id: int
    bot_id: int
    bot_name: str
    agent_id: str
    gateway_id: int | None
    key: str
    title: str


def can_reply(key: str) -> bool:
    """Whether a session is a channel conversation an operator can reply into."""
    return reply_target(key) is not None


def clean_label(label: str) -> str:
    label = " ".join(clean_text(label).split())
    if len(label) > LABEL_MAX:
        raise UserError(field_errors={"label": f"Keep the name under {LABEL_MAX} characters."})
    return label


def clean_reply(text: str) -> str:
    text = clean_text(text).strip()
    if not text:
        raise UserError(field_errors={"reply": "Type the reply first."})
    if len(text) > REPLY_MAX:
        raise UserError(field_errors={"reply": f"Keep the reply under {REPLY_MAX:,} characters."})
    return text


def _failure(verb: str, exc: GatewayError) -> SessionOpError:
    if isinstance(exc, GatewayTimeout):
        return SessionOpError("The gateway did not answer in time: check the session again in a moment.")
    return SessionOpError(f"The gateway could not {verb} the session: {exc.message}")


class SessionOps(BotsBase):
    # --- shared steps ----------------------------------------------------------------------

    async def _target(self, actor: Principal | None, session_id: int, *, counted: bool = True) -> _Target:
        """The session, once the actor may operate its bot (and, when `counted`, is within the
        session-changes limit)."""

        def load(s: Session) -> _Target:
            row = s.get(BotSession, session_id)
            if row is None:
                raise NotFound("No such session.")
            require(s, actor, Action.OPERATE_BOT, row.bot_id)
            bot = s.get(Bot, row.bot_id)
            if bot is None:
                raise NotFound("No such bot.")
            title = row.label or f"{row.channel or 'dashboard'} · {row.peer or row.key}"
            return _Target(session_id, row.bot_id, bot.name, bot.agent_id, bot.gateway_id, row.key, title)

        target = await self._db(load)
        if counted and actor is not None:
            await self._limit(LimitAction.SESSION, actor.user_id)
        return target

    def _sessions(self, gateway_id: int | None) -> GatewaySessions:
        api = self.control.gateway(gateway_id) if gateway_id else None
        if api is None:
            raise SessionOpError("The bot's gateway is not running: start the bot first.")
        return GatewaySessions(api)

    async def _done(self, actor: Principal | None, t: _Target, action: str, summary: str) -> None:
        await self._db(lambda s: audit.record(s, actor, action, "session", t.session_id, summary))

    def _announce(self, t: _Target, **extra: object) -> None:
        payload = {"key": t.key, "session_id": t.session_id, **extra}
        self.bus.publish(Kind.SESSION_CHANGED, payload, gateway_id=t.gateway_id, bot_id=t.bot_id)

    # --- operations --------------------------------------------------------------------------

    async def new_session(self, actor: Principal | None, bot_id: int, label: str = "") -> int:
        """Start a new (empty) conversation with the bot; the id of ClawNet's row for it."""
        label = clean_label(label)

        def load(s: Session) -> tuple[str, int | None]:
            require(s, actor, Action.OPERATE_BOT, bot_id)
            bot = s.get(Bot, bot_id)
            if bot is None:
                raise NotFound("No such bot.")
            return bot.agent_id, bot.gateway_id

        agent_id, gateway_id = await self._db(load)
        if actor is not None:
            await self._limit(LimitAction.SESSION, actor.user_id)
        try:
            created = await self._sessions(gateway_id).create(agent_id, label=label)
        except GatewayError as exc:
            if label_taken(exc):
                raise UserError(field_errors={"label": "Another session already has that name."}) from None
            raise _failure("create", exc) from None
        if not created.key:
            raise SessionOpError("The gateway created no session.")

        def store(s: Session) -> int:
            row = stored.record_created(s, bot_id, created.key, label, created.session_id)
            assert row.id is not None
            audit.record(s, actor, "session.create", "session", row.id, f"new session {label or row.key}")
            return row.id

        session_id = await self._db(store)
        t = _Target(session_id, bot_id, "", agent_id, gateway_id, created.key, label)
        self._announce(t)
        return session_id

    async def rename_session(self, actor: Principal | None, session_id: int, label: str) -> None:
        """Name the session (an empty name clears it)."""
        label = clean_label(label)
        t = await self._target(actor, session_id)
        try:
            await self._sessions(t.gateway_id).rename(t.agent_id, t.key, label)
        except GatewayError as exc:
            if label_taken(exc):
                raise UserError(field_errors={"label": "Another session already has that name."}) from None
            raise _failure("rename", exc) from None

        def store(s: Session) -> None:
            row = s.get(BotSession, session_id)
            if row is not None:
                before = row.label
                row.label = label
                s.add(row)
                audit.record(
                    s,
                    actor,
                    "session.rename",
                    "session",
                    session_id,
                    f"renamed {t.title} on {t.bot_name}",
                    before={"label": before},
                    after={"label": label},
                )

        await self._db(store)
        self._announce(t)

    async def reset_session(self, actor: Principal | None, session_id: int) -> None:
        """Start the conversation over: the bot forgets it (same session, empty history)."""
        t = await self._target(actor, session_id)
        asked_at = utcnow()
        try:
            await self._sessions(t.gateway_id).reset(t.agent_id, t.key)
        except GatewayError as exc:
            raise _failure("reset", exc) from None

        def store(s: Session) -> None:
            row = s.get(BotSession, session_id)
            if row is not None:
                stored.clear_transcript(s, row, before=asked_at)
            audit.record(s, actor, "session.reset", "session", session_id, f"reset {t.title} on {t.bot_name}")

        await self._db(store)
        self._announce(t)

    async def compact_session(self, actor: Principal | None, session_id: int) -> str:
        """Have the gateway summarize the session's older turns; what it said."""
        t = await self._target(actor, session_id)
        try:
            outcome = await self._sessions(t.gateway_id).compact(t.agent_id, t.key)
        except GatewayError as exc:
            raise _failure("compact", exc) from None
        said = (
            "Session compacted."
            if outcome.compacted
            else f"Nothing to compact ({outcome.reason or 'too short'})."
        )
        await self._done(actor, t, "session.compact", f"compacted {t.title} on {t.bot_name}: {said}")
        self._announce(t)
        return said

    async def delete_session(self, actor: Principal | None, session_id: int) -> None:
        """Delete the session and its transcript, on the gateway and here."""
        t = await self._target(actor, session_id)
        try:
            await self._sessions(t.gateway_id).delete(t.agent_id, t.key)
        except GatewayError as exc:
            raise _failure("delete", exc) from None

        def store(s: Session) -> None:
            stored.forget_session(s, t.bot_id, t.key)
            audit.record(
                s, actor, "session.delete", "session", session_id, f"deleted {t.title} on {t.bot_name}"
            )

        await self._db(store)
        self._announce(t, deleted=True)

    async def abort_session(self, actor: Principal | None, session_id: int) -> bool:
        """Stop the session's running turn; whether one was running (never limited: it is how
        a runaway turn is stopped)."""
        t = await self._target(actor, session_id, counted=False)
        try:
            aborted = await self._sessions(t.gateway_id).abort(t.agent_id, t.key)
        except GatewayError as exc:
            raise _failure("abort", exc) from None
        if aborted:
            await self._done(
                actor, t, "session.abort", f"aborted the running turn of {t.title} on {t.bot_name}"
            )
        return aborted

    async def reply_as_operator(self, actor: Principal | None, session_id: int, text: str) -> None:
        """Send `text` into the session's channel conversation as the operator: delivered through
        the bot's channel account and shown in the transcript as the operator's."""
        text = clean_reply(text)
        t = await self._target(actor, session_id)
        target: ReplyTarget | None = reply_target(t.key)
        if target is None:
            raise SessionOpError("Only channel conversations can be replied to; this one has no channel.")
        try:
            delivery = await self._sessions(t.gateway_id).send_to_channel(
                t.agent_id, t.key, target, text, f"clawnet-op-{uuid.uuid4()}"
            )
        except GatewayError as exc:
            raise SessionOpError(f"The reply was not delivered: {exc.message}") from None

        def store(s: Session) -> None:
            assert actor is not None  # _target required a permission
            s.add(
                OperatorReply(
                    session_id=session_id,
                    user_id=actor.user_id,
                    author=(actor.display_name or actor.email)[:200],
                    text=text,
                    message_id=delivery.message_id[:128],
                )
            )
            audit.record(
                s, actor, "session.reply", "session", session_id, f"replied in {t.title} on {t.bot_name}"
            )

        await self._db(store)
        self._announce(t)
