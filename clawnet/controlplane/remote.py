"""Chatting with a bot, and the few direct gateway calls channel actions make, from a process
that does not run the control plane (another web worker); and, in the control plane's process,
`RemoteRequests`, which answers them.

The request travels over the event transport (Redis) to the controller, which runs the turn with
its own gateway link and answers `chat.accepted` with the turn id (or `chat.rejected` with the
reason); the turn's deltas and end arrive as the usual `chat.*` events. Here they feed a `Turn`,
so callers cannot tell a remote turn from a local one. Permission (and the rate limit) is checked
before the request is sent (by the bots service); the transport signs every message with the
installation's key and drops what is unsigned or replayed, so only ClawNet's own processes can ask
(`events.redis`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from clawnet.controlplane.chat import ChatError, ChatRouter, Turn
from clawnet.controlplane.gateway_approvals import APPROVAL_METHODS
from clawnet.controlplane.gateway_sessions import SESSION_METHODS
from clawnet.controlplane.links import GatewayLinks
from clawnet.controlplane.protocol import GatewayError, GatewayTimeout
from clawnet.controlplane.tasks import TaskSet
from clawnet.enums import TurnStatus
from clawnet.events import EventBus, FleetEvent, Kind, Subscription

log = logging.getLogger(__name__)

ACCEPT_TIMEOUT_S = 20.0
# A chat request is acted on only this long before its asker gives up: one held back by a Redis
# outage and delivered later would otherwise be answered after the person was told it failed
# (and answered twice if they sent it again).
ACCEPT_MARGIN_S = 5.0
CLOCK_SKEW_S = 60.0  # as the signed messages' window (events.redis)
TURN_KINDS = (Kind.CHAT_DELTA, Kind.CHAT_FINAL, Kind.CHAT_FAILED)


class RemoteChats:
    def __init__(self, bus: EventBus, accept_timeout_s: float = ACCEPT_TIMEOUT_S) -> None:
        self.bus = bus
        self.accept_timeout_s = accept_timeout_s
        self._followers: set[asyncio.Task[Any]] = set()

    async def send(
        self, bot_id: int, text: str, *, user_id: int, session_key: str | None, timeout_s: float | None
    ) -> Turn:
        request_id = uuid.uuid4().hex
        sub = self.bus.subscribe([Kind.CHAT_ACCEPTED, Kind.CHAT_REJECTED, *TURN_KINDS], bot_ids=[bot_id])
        self.bus.publish(
            Kind.CHAT_REQUEST,
            {
                "request_id": request_id,
                "text": text,
                "user_id": user_id,
                "session_key": session_key,
                "timeout_s": timeout_s,
                "act_before": time.time() + max(1.0, self.accept_timeout_s - ACCEPT_MARGIN_S),
            },
            bot_id=bot_id,
        )
        early: list[FleetEvent] = []  # turn events that overtook the answer
        try:
            async with asyncio.timeout(self.accept_timeout_s):
                while True:
                    event = await sub.get()
                    if event.kind in (Kind.CHAT_ACCEPTED, Kind.CHAT_REJECTED):
                        if event.payload.get("request_id") == request_id:
                            break
                    else:
                        early.append(event)
        except TimeoutError:
            sub.close()
            raise ChatError("The control plane did not answer; try again in a moment.") from None
        if event.kind == Kind.CHAT_REJECTED:
            sub.close()
            raise ChatError(str(event.payload.get("error") or "The chat was refused."))
        turn = Turn(
            turn_id=int(event.payload["turn_id"]),
            bot_id=bot_id,
            gateway_id=int(event.payload.get("gateway_id") or 0),
            session_key=str(event.payload.get("session_key") or session_key or ""),
            idempotency_key=request_id,
            status=TurnStatus.STREAMING,
        )
        follower = asyncio.create_task(self._follow(sub, turn, early, (timeout_s or 300.0) + 30))
        self._followers.add(follower)
        follower.add_done_callback(self._followers.discard)
        return turn

    async def _follow(self, sub: Subscription, turn: Turn, early: list[FleetEvent], limit_s: float) -> None:
        with sub:
            for event in early:
                if _apply(turn, event):
                    return
            try:
                async with asyncio.timeout(limit_s):
                    while not _apply(turn, await sub.get()):
                        pass
            except TimeoutError:
                _end(turn, TurnStatus.FAILED, "", "No answer from the control plane.")

    async def close(self) -> None:
        for task in list(self._followers):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _apply(turn: Turn, event: FleetEvent) -> bool:
    """Feed one event to the turn; True when the turn is over."""
    if event.kind not in TURN_KINDS or event.payload.get("turn_id") != turn.turn_id:
        return False
    if event.kind == Kind.CHAT_DELTA:
        turn.text = str(event.payload.get("text") or "")
        turn.updates.put_nowait(("delta", turn.text))
        return False
    if event.kind == Kind.CHAT_FINAL:
        _end(turn, TurnStatus.DONE, str(event.payload.get("text") or ""), "")
    else:
        _end(turn, TurnStatus.FAILED, turn.text, str(event.payload.get("error") or "The chat failed."))
    return True


def _end(turn: Turn, status: TurnStatus, text: str, error: str) -> None:
    turn.status, turn.text, turn.error = status, text, error
    turn.updates.put_nowait(("final", text) if status is TurnStatus.DONE else ("failed", error))
    turn.done.set()


# Only these gateway methods may be called on a worker's behalf (channel, session, schedule actions);
# nothing that changes a gateway's configuration travels this way.
REMOTE_METHODS = frozenset(
    {
        *SESSION_METHODS,
        *APPROVAL_METHODS,  # the approvals inbox answers exec and plugin approvals
        "channels.stop",
        "channels.start",
        "web.login.start",
        "web.login.wait",
        "channels.pairing.list",
        "channels.pairing.approve",
        "channels.pairing.dismiss",
        "skills.status",  # read-only: the Skills tab's list
        "cron.list",
        "cron.add",
        "cron.update",
        "cron.remove",
        "cron.run",
        "cron.runs",
    }
)
# Control-plane operations other than gateway calls (they need the controller's host), by name.
ControlOps = Mapping[str, Callable[..., Awaitable[Any]]]


class ControlOpError(Exception):
    """A control-plane operation asked for from another process failed or got no answer."""


async def call_control_op(bus: EventBus, op: str, args: dict[str, Any], *, timeout: float = 30.0) -> Any:
    """Run the control plane's operation `op` in the controller's process and return its answer."""
    request_id = uuid.uuid4().hex
    with bus.subscribe(
        [Kind.CONTROL_RESULT], where=lambda e: e.payload.get("request_id") == request_id
    ) as results:
        bus.publish(Kind.CONTROL_REQUEST, {"request_id": request_id, "op": op, "args": args})
        try:
            result = await results.get(timeout=timeout + ACCEPT_TIMEOUT_S)
        except TimeoutError:
            raise ControlOpError("The control plane did not answer; try again in a moment.") from None
    if "answer" in result.payload:
        return result.payload["answer"]
    raise ControlOpError(str(result.payload.get("error") or f"{op} failed"))


class RemoteGatewayClient:
    """A `GatewayCaller` whose calls run in the controller's process, on its link to
    `gateway_id` (only `REMOTE_METHODS`)."""

    def __init__(self, bus: EventBus, gateway_id: int) -> None:
        self.bus = bus
        self.gateway_id = gateway_id

    @property
    def is_connected(self) -> bool:
        return True  # the controller answers UNAVAILABLE when its link is down

    async def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        timeout: float = 30.0,
        connect_wait: float | None = None,
    ) -> Any:
        request_id = uuid.uuid4().hex
        with self.bus.subscribe(
            [Kind.GATEWAY_CALL_RESULT], where=lambda e: e.payload.get("request_id") == request_id
        ) as results:
            self.bus.publish(
                Kind.GATEWAY_CALL,
                {"request_id": request_id, "method": method, "params": params or {}, "timeout": timeout},
                gateway_id=self.gateway_id,
            )
            try:
                result = await results.get(timeout=timeout + ACCEPT_TIMEOUT_S)
            except TimeoutError:
                raise GatewayTimeout(f"{method}: the control plane did not answer") from None
        payload = result.payload
        if "answer" in payload:
            return payload["answer"]
        if payload.get("code") == "TIMEOUT":
            raise GatewayTimeout(str(payload.get("message") or method))
        raise GatewayError(str(payload.get("code") or "UNAVAILABLE"), str(payload.get("message") or method))


class RemoteRequests:
    """In the control plane's process: chats and channel-action gateway calls asked for by web
    workers without the control plane."""

    def __init__(
        self,
        bus: EventBus,
        chats: ChatRouter,
        links: GatewayLinks,
        tasks: TaskSet,
        ops: ControlOps | None = None,
    ) -> None:
        self.bus = bus
        self.chats = chats
        self.links = links
        self.tasks = tasks
        self.ops = dict(ops or {})

    async def serve(self) -> None:
        with self.bus.subscribe([Kind.CHAT_REQUEST, Kind.GATEWAY_CALL, Kind.CONTROL_REQUEST]) as requests:
            async for request in requests:
                if request.kind == Kind.CHAT_REQUEST:
                    self.tasks.spawn(self._answer_chat(request), "remote-chat")
                elif request.kind == Kind.CONTROL_REQUEST:
                    self.tasks.spawn(self._answer_op(request), "remote-control-op")
                else:
                    self.tasks.spawn(self._answer_gateway_call(request), "remote-gateway-call")

    async def _answer_op(self, request: FleetEvent) -> None:
        p = request.payload
        reply: dict[str, Any] = {"request_id": p.get("request_id")}
        op = self.ops.get(str(p.get("op") or ""))
        if op is None:
            reply["error"] = f"{p.get('op')} cannot be asked for from another process"
        else:
            try:
                reply["answer"] = await op(**dict(p.get("args") or {}))
            except Exception as exc:  # the asking process shows the reason
                reply["error"] = str(exc) or type(exc).__name__
        self.bus.publish(Kind.CONTROL_RESULT, reply)

    async def _answer_gateway_call(self, request: FleetEvent) -> None:
        p = request.payload
        reply: dict[str, Any] = {"request_id": p.get("request_id")}
        method = str(p.get("method") or "")
        link = self.links.connected(request.gateway_id or 0)
        if method not in REMOTE_METHODS:
            reply |= {"code": "FORBIDDEN", "message": f"{method} cannot be called from another process"}
        elif link is None:
            reply |= {"code": "UNAVAILABLE", "message": "the gateway is not connected"}
        else:
            try:
                reply["answer"] = await link.client.call(
                    method, dict(p.get("params") or {}), timeout=float(p.get("timeout") or 30)
                )
            except GatewayError as exc:
                reply |= {"code": exc.code, "message": exc.message}
        self.bus.publish(Kind.GATEWAY_CALL_RESULT, reply, gateway_id=request.gateway_id)

    async def _answer_chat(self, request: FleetEvent) -> None:
        p = request.payload
        bot_id = request.bot_id or 0
        act_before = p.get("act_before")
        # The asker's own transport drops what it holds past this deadline; here, another host's
        # clock may differ, so only a request late by more than the signature window is dropped.
        if isinstance(act_before, int | float) and time.time() > act_before + CLOCK_SKEW_S:
            log.warning("dropped a chat request for bot %s: its asker had given up (late delivery)", bot_id)
            return
        try:
            turn = await self.chats.send(
                bot_id,
                str(p.get("text") or ""),
                user_id=int(p.get("user_id") or 0),
                session_key=p.get("session_key") or None,
                timeout_s=float(p["timeout_s"]) if p.get("timeout_s") else None,
            )
        except ChatError as exc:
            self.bus.publish(
                Kind.CHAT_REJECTED, {"request_id": p.get("request_id"), "error": str(exc)}, bot_id=bot_id
            )
            return
        self.bus.publish(
            Kind.CHAT_ACCEPTED,
            {
                "request_id": p.get("request_id"),
                "turn_id": turn.turn_id,
                "gateway_id": turn.gateway_id,
                "session_key": turn.session_key,
            },
            bot_id=bot_id,
        )
