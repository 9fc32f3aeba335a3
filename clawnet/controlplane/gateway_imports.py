"""Reading a running gateway's setup for an import ("adopt"): its config over the protocol (secrets
redacted by OpenClaw) and each agent's persona files. Reuses `gateway_api`'s caller protocol."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from clawnet.controlplane.gateway_api import GatewayApi, GatewayCaller, is_missing
from clawnet.controlplane.protocol import GatewayConnection, GatewayError

PERSONA_FILE_NAMES = ("AGENTS.md", "SOUL.md", "IDENTITY.md", "USER.md", "TOOLS.md")


@dataclass(frozen=True)
class GatewaySetup:
    config: dict[str, Any]
    files: dict[str, dict[str, str]] = field(default_factory=dict)  # agent id -> name -> text


def _agent_ids(config: dict[str, Any]) -> list[str]:
    agents = config.get("agents") or {}
    ids = [str(k) for k in (agents.get("entries") or {})]
    ids += [str(a["id"]) for a in agents.get("list") or [] if isinstance(a, dict) and a.get("id")]
    return ids or ["main"]


async def read_setup(caller: GatewayCaller) -> GatewaySetup:
    """The gateway's config and the persona files of each of its agents."""
    config = await GatewayApi(caller).config()
    files: dict[str, dict[str, str]] = {}
    for agent_id in _agent_ids(config):
        for name in PERSONA_FILE_NAMES:
            try:
                answer = await caller.call(
                    "agents.files.get", {"agentId": agent_id, "name": name}, timeout=30
                )
            except GatewayError as exc:
                if is_missing(exc) or "unsupported file" in exc.message.lower():
                    continue  # not there, or not one this OpenClaw keeps
                raise
            content = answer.get("content") if isinstance(answer, dict) else None
            if content is None and isinstance(answer, dict) and isinstance(answer.get("file"), dict):
                content = answer["file"].get("content")
            if isinstance(content, str) and content.strip():
                files.setdefault(agent_id, {})[name] = content
    return GatewaySetup(config, files)


class _Connection:
    """A one-off `GatewayConnection` as a `GatewayCaller`."""

    def __init__(self, conn: GatewayConnection) -> None:
        self._conn = conn

    @property
    def is_connected(self) -> bool:
        return self._conn.is_open

    async def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        timeout: float = 30.0,
        connect_wait: float | None = None,
    ) -> Any:
        return await self._conn.call(method, params, timeout=timeout)


async def read_setup_at(url: str, token: str, *, timeout: float = 20) -> GatewaySetup:
    """`read_setup` over a connection of its own (a gateway ClawNet does not link to yet)."""
    conn = await GatewayConnection.open(url, token, timeout=timeout)
    try:
        return await read_setup(_Connection(conn))
    finally:
        await conn.close()
