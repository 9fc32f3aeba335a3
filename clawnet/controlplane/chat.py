"""Chat turns: `chat.send`, then `chat` events (`delta` ... `final`) streamed to whoever waits.

A turn accepted but never finished (the gateway died, or it ran out of time) is recorded as
failed; OpenClaw loses such a turn, so saying so is the honest answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from clawnet.aio import wait_for
from clawnet.controlplane.db_runner import DbRunner
from clawnet.controlplane.gateway_api import asks_for_retry, main_session_key
from clawnet.controlplane.links import GatewayLinks
from clawnet.controlplane.protocol import GatewayError
from clawnet.controlplane.sessions import message_text
from clawnet.controlplane.tasks import TaskSet
from clawnet.enums import DesiredStatus, TurnStatus
from clawnet.errors import UserError
from clawnet.events import EventBus, Kind
from clawnet.metrics import CHAT_FIRST_REPLY_SECONDS, CHAT_TURN_SECONDS
from clawnet.models import Bot, ChatTurn, utcnow

log = logging.getLogger(__name__)

SEND_ATTEMPTS = 3  # chat.send again (same idempotency key) when OpenClaw asks for a retry


class ChatError(UserError):
    """A message could not be sent to a bot; the message says why."""


@dataclass
class Turn:
    turn_id: int
    bot_id: int
    gateway_id: int
    session_key: str
    idempotency_key: str
    run_id: str = ""
    text: str = ""
    status: TurnStatus = TurnStatus.PENDING
    error: str = ""
    updates: asyncio.Queue[tuple[str, str]] = field(default_factory=asyncio.Queue)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    started: float = field(default_factory=time.monotonic)  # for the latency histograms

    @property
    def finished(self) -> bool:
        return self.status in (TurnStatus.DONE, TurnStatus.FAILED)

    async def stream(self) -> AsyncIterator[tuple[str, str]]:
        """("delta", reply so far) ... then ("final", reply) or ("failed", reason)."""
        while True:
            kind, value = await self.updates.get()
            yield kind, value
            if kind in ("final", "failed"):
                return

    async def result(self, timeout: float | None = None) -> str:
        """The final reply; raises ChatError if the turn failed."""
        await wait_for(self.done.wait(), timeout)
        if self.status is TurnStatus.FAILED:
            raise ChatError(self.error)
        return self.text


class ChatRouter:
    def __init__(
        self, db: DbRunner, bus: EventBus, links: GatewayLinks, tasks: TaskSet, turn_timeout_s: float = 300.0
    ) -> None:
        self.db = db
        self.bus = bus
        self.links = links
        self.tasks = tasks
        self.turn_timeout_s = turn_timeout_s
        self._by_key: dict[str, Turn] = {}  # idempotency key and run id -> turn

    async def send(
        self,
        bot_id: int,
        text: str,
        *,
        user_id: int | None,
        session_key: str | None = None,
        purpose: str = "chat",
        timeout_s: float | None = None,
    ) -> Turn:
        def load(s: Session) -> tuple[str, int | None, str]:
            bot = s.get(Bot, bot_id)
            if bot is None:
                raise ChatError("No such bot.")
            return bot.agent_id, bot.gateway_id, bot.desired_status

        agent_id, gateway_id, desired = await self.db.run(load)
        if desired != DesiredStatus.RUNNING.value or gateway_id is None:
            raise ChatError("The bot is stopped: start it to chat.")
        link = self.links.get(gateway_id)
        if link is not None and not link.client.is_connected:
            with contextlib.suppress(TimeoutError):
                await wait_for(link.client.connected.wait(), 20)
        if link is None or not link.client.is_connected:
            raise ChatError("The bot's gateway is not running yet. Try again in a moment.")
        key = session_key or main_session_key(agent_id)
        idempotency_key = str(uuid.uuid4())

        def create(s: Session) -> int:
            row = ChatTurn(
                bot_id=bot_id,
                user_id=user_id,
                session_key=key,
                idempotency_key=idempotency_key,
                message=text,
                purpose=purpose,
            )
            s.add(row)
            s.flush()
            assert row.id is not None
            return row.id

        turn = Turn(await self.db.run(create), bot_id, gateway_id, key, idempotency_key)
        self._by_key[idempotency_key] = turn
        for attempt in range(SEND_ATTEMPTS):
            try:
                turn.run_id = await link.api.send_chat(key, text, idempotency_key)
                break
            except GatewayError as exc:
                # OpenClaw asks for a retry when the session changed under it (busy sessions).
                if asks_for_retry(exc) and attempt + 1 < SEND_ATTEMPTS:
                    await asyncio.sleep(0.2 * (attempt + 1))
                    continue
                self._finish(
                    turn, TurnStatus.FAILED, f"The gateway did not accept the message: {exc.message}"
                )
                raise ChatError(turn.error) from None
        self._by_key[turn.run_id] = turn
        if turn.status is TurnStatus.PENDING:
            turn.status = TurnStatus.STREAMING
            self.db.submit(lambda s: self._store(s, turn))
        self.tasks.spawn(
            self._watchdog(turn, timeout_s or self.turn_timeout_s), f"chat-watchdog-{turn.turn_id}"
        )
        return turn

    async def _watchdog(self, turn: Turn, timeout_s: float) -> None:
        try:
            await wait_for(turn.done.wait(), timeout_s)
        except TimeoutError:
            link = self.links.get(turn.gateway_id)
            if link is not None:
                with contextlib.suppress(GatewayError):
                    await link.api.abort_chat(turn.session_key, turn.run_id)
            self._finish(turn, TurnStatus.FAILED, f"No answer within {timeout_s:.0f} s.")

    def on_chat_event(self, gateway_id: int, payload: dict[str, Any]) -> None:
        turn = self._by_key.get(str(payload.get("runId") or ""))
        if turn is None or turn.finished:
            return
        state = payload.get("state")
        message = payload.get("message") or {}
        if state == "delta":
            if turn.status is not TurnStatus.STREAMING:
                CHAT_FIRST_REPLY_SECONDS.observe(time.monotonic() - turn.started)
            turn.text = message_text(message) or (turn.text + str(payload.get("deltaText") or ""))
            turn.status = TurnStatus.STREAMING
            turn.updates.put_nowait(("delta", turn.text))
            self.bus.publish(
                Kind.CHAT_DELTA,
                {
                    "turn_id": turn.turn_id,
                    "run_id": turn.run_id,
                    "text": turn.text,
                    "session_key": turn.session_key,
                },
                gateway_id=gateway_id,
                bot_id=turn.bot_id,
            )
        elif state == "final":
            if turn.status is not TurnStatus.STREAMING:  # answered in one piece
                CHAT_FIRST_REPLY_SECONDS.observe(time.monotonic() - turn.started)
            turn.text = message_text(message) or turn.text
            self._finish(turn, TurnStatus.DONE, "")
        elif state in ("error", "aborted"):
            reason = str(payload.get("errorMessage") or payload.get("error") or f"the run was {state}")
            self._finish(turn, TurnStatus.FAILED, reason)

    def fail_gateway(self, gateway_id: int, reason: str) -> None:
        for turn in {id(t): t for t in self._by_key.values()}.values():
            if turn.gateway_id == gateway_id and not turn.finished:
                self._finish(turn, TurnStatus.FAILED, reason)

    def _finish(self, turn: Turn, status: TurnStatus, error: str) -> None:
        """End a turn: the stream and the bus hear at once; `done` is set once it is recorded,
        so whoever waits on it reads the final state from the database too."""
        if turn.finished:
            return
        turn.status, turn.error = status, error
        CHAT_TURN_SECONDS.labels(outcome=status.value).observe(time.monotonic() - turn.started)
        for key in (turn.idempotency_key, turn.run_id):
            self._by_key.pop(key, None)
        if status is TurnStatus.DONE:
            turn.updates.put_nowait(("final", turn.text))
            self.bus.publish(
                Kind.CHAT_FINAL,
                {
                    "turn_id": turn.turn_id,
                    "run_id": turn.run_id,
                    "text": turn.text,
                    "session_key": turn.session_key,
                },
                gateway_id=turn.gateway_id,
                bot_id=turn.bot_id,
            )
        else:
            turn.updates.put_nowait(("failed", error))
            self.bus.publish(
                Kind.CHAT_FAILED,
                {"turn_id": turn.turn_id, "error": error, "session_key": turn.session_key},
                gateway_id=turn.gateway_id,
                bot_id=turn.bot_id,
            )
        stored = self.db.submit(lambda s: self._store(s, turn))
        stored.add_done_callback(lambda _f: turn.done.set())

    @staticmethod
    def _store(s: Session, turn: Turn) -> None:
        row = s.get(ChatTurn, turn.turn_id)
        if row is None:
            return
        row.run_id, row.status, row.reply, row.error = (
            turn.run_id,
            turn.status.value,
            turn.text,
            turn.error[:2000],
        )
        if turn.finished:
            row.finished_at = utcnow()
        s.add(row)


def fail_unfinished_turns(s: Session) -> int:
    """At start-up: turns left pending or streaming by a previous run can never finish."""
    rows = s.exec(
        select(ChatTurn).where(
            col(ChatTurn.status).in_([TurnStatus.PENDING.value, TurnStatus.STREAMING.value])
        )
    ).all()
    for row in rows:
        row.status = TurnStatus.FAILED.value
        row.error = "ClawNet restarted before the answer arrived."
        row.finished_at = utcnow()
        s.add(row)
    return len(rows)
