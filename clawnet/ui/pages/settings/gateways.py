"""Settings, "Gateways" (admins): every gateway, a new token for a local one, and adopting a
gateway that runs on another host by its URL and token. The token typed here goes to the service
and is never kept in a var the browser receives."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import runtime
from clawnet.bots.views import GatewayRow
from clawnet.enums import GatewayKind
from clawnet.errors import UserError
from clawnet.ui.components.forms import data_table, field_error
from clawnet.ui.components.status import status_badge
from clawnet.ui.session import current_principal, error_toast
from clawnet.ui.typed import Field, event, field


class GatewaysState(rx.State):
    gateways: Field[list[GatewayRow]] = field(default_factory=list)
    errors: Field[dict[str, str]] = field(default_factory=dict)
    adopting: Field[bool] = field(False)

    async def _reload(self) -> None:
        try:
            self.gateways = await runtime.bots().gateways(await current_principal(self))
        except UserError:
            self.gateways = []

    @event
    async def load(self) -> None:
        self.errors, self.adopting = {}, False
        await self._reload()

    @event(background=True)
    async def adopt_gateway(self, form: dict[str, Any]) -> Any:
        """Tries the connection first (up to 20 s), so it runs without holding the state lock."""
        async with self:
            if self.adopting:
                return None
            principal = await current_principal(self)
            self.errors, self.adopting = {}, True
        try:
            await runtime.bots().adopt_remote_gateway(
                principal,
                str(form.get("name", "")),
                str(form.get("url", "")).strip(),
                str(form.get("token", "")),
            )
        except UserError as exc:
            async with self:
                self.errors = exc.field_errors
            return None if exc.field_errors else error_toast(exc)
        finally:
            async with self:
                self.adopting = False
        async with self:
            await self._reload()
        return rx.toast.success("Gateway adopted. Choose it for a bot in the wizard's advanced step.")

    @event
    async def rotate_token(self, gateway_id: int) -> Any:
        try:
            await runtime.bots().rotate_gateway_token(await current_principal(self), int(gateway_id))
        except UserError as exc:
            return error_toast(exc)
        except (TypeError, ValueError):
            return rx.toast.error("No such gateway.")
        return rx.toast.success("New token generated; the gateway takes it without restarting.")


def gateway_row(g: Any) -> rx.Component:
    gid = g.id.to_string()
    return rx.table.row(
        rx.table.cell(g.name),
        rx.table.cell(g.kind),
        rx.table.cell(status_badge(g.status, "settings-gateway-status-" + gid)),
        rx.table.cell(rx.cond(g.kind == GatewayKind.REMOTE.value, g.url, "port " + g.port)),
        rx.table.cell(g.restarts),
        rx.table.cell(
            rx.cond(
                g.kind == GatewayKind.LOCAL.value,
                rx.button(
                    "New token",
                    size="1",
                    variant="soft",
                    on_click=GatewaysState.rotate_token(g.id),
                    aria_label="New token for " + g.name,
                    data_testid="gateway-rotate-" + gid,
                ),
            )
        ),
        data_testid="settings-gateway-" + gid,
    )


def remote_input(label: str, name: str, placeholder: str, **props: Any) -> rx.Component:
    testid = f"remote-{name}"
    error = GatewaysState.errors.get(name, "")
    return rx.vstack(
        rx.input(
            id=testid,
            name=name,
            placeholder=placeholder,
            aria_label=label,
            aria_invalid=rx.cond(error != "", "true", "false"),
            aria_describedby=f"{testid}-error",
            data_testid=testid,
            **props,
        ),
        # Each message is also inside a `remote-error` element, as before.
        rx.cond(
            error != "", rx.box(field_error(error, testid), data_testid="remote-error", max_width="20em")
        ),
        spacing="1",
    )


def gateways_section() -> rx.Component:
    return rx.vstack(
        rx.heading("Gateways", size="4", id="gateways"),
        data_table(
            ("Gateway", "Kind", "Status", "Where", "Restarts", ""),
            GatewaysState.gateways,
            gateway_row,
            "settings-gateways-table",
        ),
        rx.text("Adopt a gateway running on another host (its own supervisor keeps it running):", size="2"),
        rx.form(
            rx.hstack(
                remote_input("Gateway name", "name", "Name"),
                remote_input("Gateway URL", "url", "wss://gateway.example.com"),
                remote_input("Gateway token", "token", "Gateway token", type="password", auto_complete="off"),
                rx.button("Adopt", type="submit", loading=GatewaysState.adopting, data_testid="remote-adopt"),
                spacing="2",
                wrap="wrap",
                align="start",
            ),
            on_submit=GatewaysState.adopt_gateway,
            aria_label="Adopt a remote gateway",
        ),
        spacing="3",
        width="100%",
    )
