"""Operating a gateway's sessions: create, rename, reset, compact, delete, abort, and a reply
into a channel conversation as the operator. Typed wrappers over OpenClaw's own session methods
(`docs/gateway/protocol/rpc-session-control.md`), on the same caller and error matching as
`gateway_api`; nothing else in ClawNet spells these method names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clawnet.controlplane.gateway_api import GatewayApi, GatewayCaller, channel_and_peer, is_missing
from clawnet.controlplane.protocol import GatewayError

LABEL_MAX = 512  # OpenClaw's SESSION_LABEL_MAX_LENGTH

# Every method used here: a web worker may ask the control plane to call them for it.
SESSION_METHODS = frozenset(
    {"sessions.create", "sessions.patch", "sessions.reset", "sessions.compact", "sessions.delete"}
    | {"sessions.abort", "send"}
)


@dataclass(frozen=True)
class CreatedSession:
    key: str
    session_id: str


@dataclass(frozen=True)
class Compaction:
    compacted: bool
    reason: str  # OpenClaw's words when nothing was compacted ("" otherwise)


@dataclass(frozen=True)
class Delivery:
    """An operator reply handed to a channel (`send`)."""

    message_id: str
    channel: str


@dataclass(frozen=True)
class ReplyTarget:
    """Where a reply into a channel conversation goes, read from its session key."""

    channel: str
    to: str


def reply_target(key: str) -> ReplyTarget | None:
    """`agent:<id>:<channel>:<direct|group|channel>:<peer>[...]` -> the channel and the chat to
    send to; None for sessions no channel carries (dashboard, cron, ClawNet's own)."""
    channel, peer = channel_and_peer(key)
    if not channel or not peer:
        return None
    parts = peer.split(":")
    if len(parts) >= 2 and parts[0] in ("direct", "dm", "group", "channel") and parts[1]:
        # Topics and threads (`...:topic:<n>`) are answered in their chat.
        return ReplyTarget(channel, parts[1])
    return None


def label_taken(exc: GatewayError) -> bool:
    """OpenClaw refused a label another session of the agent already has."""
    text = exc.message.lower()
    return "label" in text and ("already" in text or "in use" in text or "taken" in text)


def session_changed(exc: GatewayError) -> bool:
    """The session was reset or replaced since it was read (`expectedSessionId` guard)."""
    details = exc.details if isinstance(exc.details, dict) else {}
    return details.get("reason") == "session-changed" or "session-changed" in exc.message


class GatewaySessions:
    """The session-operating methods of one gateway."""

    def __init__(self, api: GatewayApi | GatewayCaller) -> None:
        self.caller: GatewayCaller = api.caller if isinstance(api, GatewayApi) else api

    async def create(self, agent_id: str, *, label: str = "") -> CreatedSession:
        params: dict[str, Any] = {"agentId": agent_id}
        if label:
            params["label"] = label[:LABEL_MAX]
        answer = await self.caller.call("sessions.create", params, timeout=30) or {}
        entry = answer.get("entry")
        entry_id = entry.get("sessionId") if isinstance(entry, dict) else ""
        return CreatedSession(str(answer.get("key") or ""), str(answer.get("sessionId") or entry_id or ""))

    async def rename(self, agent_id: str, key: str, label: str) -> None:
        """Give the session a label (an empty one clears it)."""
        await self.caller.call(
            "sessions.patch",
            {"key": key, "agentId": agent_id, "label": label[:LABEL_MAX] if label else None},
            timeout=30,
        )

    async def reset(self, agent_id: str, key: str) -> str:
        """Start the session over (OpenClaw keeps the old transcript as a previous generation).
        Returns the new session id when OpenClaw says it."""
        answer = await self.caller.call(
            "sessions.reset", {"key": key, "agentId": agent_id, "reason": "reset"}, timeout=60
        )
        entry = answer.get("entry") if isinstance(answer, dict) else None
        return str(entry.get("sessionId") or "") if isinstance(entry, dict) else ""

    async def compact(self, agent_id: str, key: str) -> Compaction:
        answer = await self.caller.call("sessions.compact", {"key": key, "agentId": agent_id}, timeout=120)
        answer = answer if isinstance(answer, dict) else {}
        compacted = bool(answer.get("compacted", answer.get("ok", False)))
        return Compaction(compacted, "" if compacted else str(answer.get("reason") or ""))

    async def delete(self, agent_id: str, key: str) -> bool:
        """Remove the session and its transcript; False when the gateway no longer had it."""
        try:
            answer = await self.caller.call(
                "sessions.delete", {"key": key, "agentId": agent_id, "deleteTranscript": True}, timeout=60
            )
        except GatewayError as exc:
            if is_missing(exc):
                return False
            raise
        return bool((answer or {}).get("deleted", True))

    async def abort(self, agent_id: str, key: str) -> bool:
        """Stop the session's running turn (and what is queued behind it); whether one ran."""
        answer = await self.caller.call(
            "sessions.abort", {"key": key, "agentId": agent_id, "clearQueued": True}, timeout=30
        )
        answer = answer if isinstance(answer, dict) else {}
        return answer.get("status") == "aborted" or bool(answer.get("abortedRunId"))

    async def send_to_channel(
        self, agent_id: str, key: str, target: ReplyTarget, text: str, idempotency_key: str
    ) -> Delivery:
        """Deliver `text` into the conversation through the bot's channel account, mirrored into
        the session's transcript."""
        answer = await self.caller.call(
            "send",
            {
                "to": target.to,
                "message": text,
                "channel": target.channel,
                "accountId": agent_id,
                "agentId": agent_id,
                "sessionKey": key,
                "idempotencyKey": idempotency_key,
            },
            timeout=60,
        )
        answer = answer if isinstance(answer, dict) else {}
        return Delivery(str(answer.get("messageId") or ""), str(answer.get("channel") or target.channel))
