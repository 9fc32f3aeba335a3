"""How the services reach the control plane, wherever it runs.

`LocalControl` is used in the process that runs the controller; `RemoteControl` everywhere else
(other web workers, or every worker when the control plane is `clawnet controller`): kicks go
through the database flag and the bus, chats and the few allowed gateway calls travel over the
event transport (Redis) to the controller. Services cannot tell the two apart.
"""

from __future__ import annotations

from typing import Protocol

from clawnet.controlplane.chat import ChatError, Turn
from clawnet.controlplane.controller import FleetController
from clawnet.controlplane.gateway_api import GatewayApi
from clawnet.controlplane.kicks import write_kick
from clawnet.controlplane.remote import ControlOpError, RemoteChats, RemoteGatewayClient, call_control_op
from clawnet.events import EventBus, Kind


class Control(Protocol):
    @property
    def runs_here(self) -> bool:
        """Whether the control plane runs in this process."""
        ...

    def kick(self) -> None:
        """Reconcile soon: the desired state changed."""
        ...

    async def chat(
        self,
        bot_id: int,
        text: str,
        *,
        user_id: int | None,
        session_key: str | None = None,
        timeout_s: float | None = None,
        purpose: str = "chat",
    ) -> Turn: ...

    def gateway(self, gateway_id: int) -> GatewayApi | None:
        """The gateway's API if it can be reached from here now, else None."""
        ...

    async def restart_gateway(self, gateway_id: int) -> None: ...

    async def forget_paired_sender(
        self, gateway_id: int | None, channel: str, account_id: str, sender: str
    ) -> str:
        """Remove an approved sender from OpenClaw's pairing stores; what is left to say, or ""."""
        ...


class LocalControl:
    def __init__(self, controller: FleetController) -> None:
        self.controller = controller

    @property
    def runs_here(self) -> bool:
        return True

    def kick(self) -> None:
        self.controller.kick()

    async def chat(
        self,
        bot_id: int,
        text: str,
        *,
        user_id: int | None,
        session_key: str | None = None,
        timeout_s: float | None = None,
        purpose: str = "chat",
    ) -> Turn:
        return await self.controller.chats.send(
            bot_id, text, user_id=user_id, session_key=session_key, timeout_s=timeout_s, purpose=purpose
        )

    def gateway(self, gateway_id: int) -> GatewayApi | None:
        link = self.controller.links.connected(gateway_id)
        return link.api if link is not None else None

    async def restart_gateway(self, gateway_id: int) -> None:
        await self.controller.restart_gateway(gateway_id)

    async def forget_paired_sender(
        self, gateway_id: int | None, channel: str, account_id: str, sender: str
    ) -> str:
        return await self.controller.access.forget_paired_sender(gateway_id, channel, account_id, sender)


class RemoteControl:
    def __init__(self, bus: EventBus, database_url: str) -> None:
        self.bus = bus
        self.database_url = database_url
        self._chats: RemoteChats | None = None

    @property
    def runs_here(self) -> bool:
        return False

    @property
    def _transport(self) -> bool:
        return self.bus.has_transport

    def kick(self) -> None:
        self.bus.publish(Kind.FLEET_KICK)
        write_kick(self.database_url)  # reaches the controller even without Redis

    async def chat(
        self,
        bot_id: int,
        text: str,
        *,
        user_id: int | None,
        session_key: str | None = None,
        timeout_s: float | None = None,
        purpose: str = "chat",
    ) -> Turn:
        if not self._transport:
            raise ChatError("The control plane is not running in this process.")
        if self._chats is None:
            self._chats = RemoteChats(self.bus)
        return await self._chats.send(
            bot_id, text, user_id=user_id or 0, session_key=session_key, timeout_s=timeout_s
        )

    def gateway(self, gateway_id: int) -> GatewayApi | None:
        return GatewayApi(RemoteGatewayClient(self.bus, gateway_id)) if self._transport else None

    async def restart_gateway(self, gateway_id: int) -> None:
        self.kick()  # the controller restarts what the database says should run

    async def forget_paired_sender(
        self, gateway_id: int | None, channel: str, account_id: str, sender: str
    ) -> str:
        if not self._transport:
            raise ControlOpError("The control plane is not running in this process.")
        args = {"gateway_id": gateway_id, "channel": channel, "account_id": account_id, "sender": sender}
        return str(await call_control_op(self.bus, "forget_paired_sender", args) or "")
