"""Protocol connections to gateways: one `GatewayLink` per gateway the control plane manages.

A link keeps its connection open (reconnecting with backoff), knows which bot each agent id on
its gateway belongs to, and hands everything the gateway says to a `LinkListener` (the
controller wires that to session sync, chats, drift checks and the status book).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from clawnet.controlplane.gateway_api import GatewayApi
from clawnet.controlplane.protocol import GatewayClient, GatewayConnection
from clawnet.controlplane.tasks import TaskSet


@dataclass(frozen=True)
class LinkTarget:
    """Where a gateway answers and who lives there."""

    gateway_id: int
    ws_url: str
    token: str
    agent_bots: dict[str, int]  # agent id -> bot id


class LinkListener(Protocol):
    def on_event(self, link: GatewayLink, name: str, payload: dict[str, Any]) -> None: ...

    async def on_connected(self, link: GatewayLink) -> None: ...

    async def on_disconnected(self, link: GatewayLink, code: int, reason: str) -> None: ...


class GatewayLink:
    """The protocol connection to one gateway, and where its events go."""

    def __init__(self, target: LinkTarget, listener: LinkListener) -> None:
        self.gateway_id = target.gateway_id
        self.url = target.ws_url
        self.agent_bots: dict[str, int] = dict(target.agent_bots)
        self.token = target.token
        self._listener = listener
        self.client = GatewayClient(
            self.url,
            lambda: self.token,
            name=f"gateway-{target.gateway_id}",
            on_event=lambda name, payload, _seq: listener.on_event(self, name, payload),
            on_connected=self._connected,
            on_disconnected=lambda code, reason: listener.on_disconnected(self, code, reason),
        )
        self.api = GatewayApi(self.client)
        self.client.start()

    async def _connected(self, _conn: GatewayConnection) -> None:
        await self._listener.on_connected(self)

    def update(self, target: LinkTarget) -> None:
        self.agent_bots = dict(target.agent_bots)
        self.token = target.token

    def bot_of(self, agent_id: str) -> int | None:
        return self.agent_bots.get(agent_id)

    @property
    def is_connected(self) -> bool:
        return self.client.is_connected

    async def close(self) -> None:
        await self.client.stop()


class GatewayLinks:
    """The links of every gateway this control plane manages, by gateway id."""

    def __init__(self, listener: LinkListener, tasks: TaskSet) -> None:
        self._listener = listener
        self._tasks = tasks
        self._links: dict[int, GatewayLink] = {}

    def get(self, gateway_id: int) -> GatewayLink | None:
        return self._links.get(gateway_id)

    def connected(self, gateway_id: int) -> GatewayLink | None:
        link = self._links.get(gateway_id)
        return link if link is not None and link.is_connected else None

    def __contains__(self, gateway_id: int) -> bool:
        return gateway_id in self._links

    def __getitem__(self, gateway_id: int) -> GatewayLink:
        return self._links[gateway_id]

    def ids(self) -> list[int]:
        return list(self._links)

    def all(self) -> list[GatewayLink]:
        return list(self._links.values())

    def items(self) -> list[tuple[int, GatewayLink]]:
        return list(self._links.items())

    def ensure(self, target: LinkTarget) -> GatewayLink:
        link = self._links.get(target.gateway_id)
        if link is not None and link.url != target.ws_url:
            self._tasks.spawn(link.close(), f"close-link-{target.gateway_id}")
            link = None
        if link is None:
            link = self._links[target.gateway_id] = GatewayLink(target, self._listener)
        else:
            link.update(target)
        return link

    async def drop(self, gateway_id: int) -> None:
        link = self._links.pop(gateway_id, None)
        if link is not None:
            await link.close()
