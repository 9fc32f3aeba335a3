"""Settings, "Federation" (admins only): whether this instance federates (CLAWNET_FEDERATION) and
under which host, and the servers it talks to: each one's state (ok, failing, dead, blocked),
deliveries waiting, delivered and given up, consecutive failures, the last error and the last
success; Block (with a reason), Unblock, and Retry for a dead host."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import runtime
from clawnet.errors import UserError
from clawnet.social.federation.sending import HostView
from clawnet.ui.components.forms import form_error_banner, text_field
from clawnet.ui.session import current_principal, error_toast
from clawnet.ui.typed import Field, event, field

STATE_COLORS = {"ok": "green", "failing": "amber", "dead": "red", "blocked": "gray"}


class FederationState(rx.State):
    shown: Field[bool] = field(False)
    enabled: Field[bool] = field(False)
    instance_host: Field[str] = field("")
    hosts: Field[list[HostView]] = field(default_factory=list)
    reason: Field[str] = field("")
    problem: Field[str] = field("")

    async def _reload(self) -> None:
        service = runtime.federation()
        try:
            self.hosts = await service.hosts(await current_principal(self))
        except UserError:
            self.shown, self.hosts = False, []
            return
        status = service.status()
        self.enabled, self.instance_host, self.shown = status.enabled, status.host, True

    @event
    async def load(self) -> None:
        await self._reload()

    @event
    def set_reason(self, value: str) -> None:
        self.reason = value

    @event
    async def block_form(self, form: dict[str, Any]) -> Any:
        return await self._block(str(form.get("host", "")), str(form.get("reason", "")))

    @event
    async def block(self, host: str) -> Any:
        return await self._block(host, self.reason)

    async def _block(self, host: str, reason: str) -> Any:
        try:
            await runtime.federation().block_host(await current_principal(self), host, reason)
        except UserError as exc:
            self.problem = exc.message
            return error_toast(exc)
        self.problem, self.reason = "", ""
        await self._reload()
        return rx.toast.success(f"Blocked {host.strip().lower()}.")

    @event
    async def unblock(self, host: str) -> Any:
        try:
            await runtime.federation().unblock_host(await current_principal(self), host)
        except UserError as exc:
            return error_toast(exc)
        await self._reload()
        return rx.toast.success(f"Unblocked {host}.")

    @event
    async def retry(self, host: str) -> Any:
        try:
            count = await runtime.federation().retry_host(await current_principal(self), host)
        except UserError as exc:
            return error_toast(exc)
        await self._reload()
        return rx.toast.success(f"Retrying {count} deliveries to {host}.")


def _row(h: Any) -> rx.Component:
    s = FederationState
    return rx.table.row(
        rx.table.row_header_cell(rx.text(h.host, weight="bold")),
        rx.table.cell(
            rx.badge(
                h.state,
                color_scheme=rx.match(h.state, *STATE_COLORS.items(), "gray"),
                data_testid="federation-host-state",
            ),
            rx.cond(h.block_reason != "", rx.text(h.block_reason, size="1", color_scheme="gray")),
        ),
        rx.table.cell(h.pending.to_string(), data_testid="federation-host-pending"),
        rx.table.cell(h.delivered.to_string()),
        rx.table.cell(h.dead.to_string()),
        rx.table.cell(h.failures.to_string()),
        rx.table.cell(rx.text(h.last_error, size="1", title=h.last_error, max_width="20em", trim="both")),
        rx.table.cell(rx.cond(h.last_success != "", h.last_success, "never")),
        rx.table.cell(
            rx.hstack(
                rx.cond(
                    h.state == "blocked",
                    rx.button(
                        "Unblock",
                        size="1",
                        variant="soft",
                        on_click=s.unblock(h.host),
                        aria_label="Unblock " + h.host,
                        data_testid="unblock-host-" + h.host,
                    ),
                    rx.button(
                        "Block",
                        size="1",
                        variant="soft",
                        color_scheme="red",
                        on_click=s.block(h.host),
                        aria_label="Block " + h.host,
                        data_testid="block-host-" + h.host,
                    ),
                ),
                rx.cond(
                    h.state == "dead",
                    rx.button(
                        "Retry",
                        size="1",
                        variant="soft",
                        on_click=s.retry(h.host),
                        aria_label="Retry " + h.host,
                        data_testid="retry-host-" + h.host,
                    ),
                ),
                spacing="2",
            )
        ),
        data_testid="federation-host-row",
    )


def federation_section() -> rx.Component:
    s = FederationState
    return rx.cond(
        s.shown,
        rx.vstack(
            rx.heading("Federation: other servers", size="4", id="federation-hosts-admin"),
            rx.text(
                rx.cond(
                    s.enabled,
                    "Federation is on: every profile that allows it is an ActivityPub actor at ",
                    "Federation is off for this instance (CLAWNET_FEDERATION=false); nothing is sent "
                    "or accepted. This instance's host: ",
                ),
                rx.code(s.instance_host, data_testid="federation-instance-host"),
                size="2",
                data_testid="federation-status",
            ),
            rx.text(
                "Servers this instance delivers to. A dead host failed for over 48 hours: its deliveries "
                "wait until you retry it or it is heard from. Blocking a host drops what is queued for it, "
                "refuses its traffic and hides its accounts' posts.",
                size="2",
                color_scheme="gray",
            ),
            rx.input(
                placeholder="Reason for a block (shown to admins)",
                value=s.reason,
                on_change=s.set_reason,
                aria_label="Reason for blocking a host",
                data_testid="federation-block-reason",
                max_length=500,
                width="100%",
                max_width="40em",
            ),
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[
                            rx.table.column_header_cell(label)
                            for label in (
                                "Host",
                                "State",
                                "Pending",
                                "Delivered",
                                "Given up",
                                "Failures",
                                "Last error",
                                "Last success",
                                "",
                            )
                        ]
                    )
                ),
                rx.table.body(rx.foreach(s.hosts, _row)),
                width="100%",
                aria_label="Federated hosts",
                data_testid="federation-hosts",
            ),
            rx.cond(
                s.hosts.length() == 0,
                rx.text(
                    "No other server yet.", size="2", color_scheme="gray", data_testid="federation-no-hosts"
                ),
            ),
            rx.form(
                rx.hstack(
                    text_field(
                        "Block a host",
                        name="host",
                        testid="federation-block-host",
                        placeholder="example.social",
                    ),
                    text_field("Reason", name="reason", testid="federation-block-form-reason"),
                    rx.button("Block host", type="submit", data_testid="federation-block-submit"),
                    align="end",
                    spacing="3",
                    width="100%",
                ),
                form_error_banner(s.problem, "federation-block-error"),
                on_submit=s.block_form,
                reset_on_submit=True,
                aria_label="Block a host",
                width="100%",
                max_width="40em",
            ),
            spacing="3",
            width="100%",
            data_testid="settings-federation-hosts",
        ),
    )
