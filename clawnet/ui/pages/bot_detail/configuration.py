"""The Configuration tab: whether the gateway runs the bot's latest configuration, editing,
exporting and deleting the bot, and (for whoever manages its social side) "On the feed"."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import routes, runtime
from clawnet.errors import UserError
from clawnet.security.permissions import Principal
from clawnet.ui.pages.bot_detail.engage import engage_section
from clawnet.ui.pages.bot_detail.social import social_section
from clawnet.ui.pages.bot_detail.state import BotDetailState, part
from clawnet.ui.pages.bot_detail.widgets import stat
from clawnet.ui.session import current_principal, error_toast
from clawnet.ui.typed import Field, event, field


@part("configuration")
class BotConfigState(BotDetailState):
    export_text: Field[str] = field("")
    delete_open: Field[bool] = field(False)

    async def _load_part(self, actor: Principal | None) -> None:
        self.export_text, self.delete_open = "", False

    @event
    async def export(self) -> Any:
        try:
            self.export_text = await runtime.bots().export_config(
                await current_principal(self), self.current_bot
            )
        except UserError as exc:
            return error_toast(exc)
        return None

    @event
    def set_delete_open(self, value: bool) -> None:
        self.delete_open = bool(value)

    @event
    async def delete(self, form: dict[str, Any]) -> Any:
        try:
            await runtime.bots().delete_bot(
                await current_principal(self), self.current_bot, delete_data=form.get("delete_data") == "on"
            )
        except UserError as exc:
            return error_toast(exc)
        self.delete_open = False
        return [rx.toast.success("Bot deleted."), rx.redirect(routes.BOTS)]


def sync_status() -> rx.Component:
    h = BotDetailState.header
    return rx.vstack(
        rx.hstack(
            stat("Desired config version", h.desired_version, "config-desired-version"),
            stat("Applied version", h.applied_version, "config-applied-version"),
            rx.cond(
                h.in_sync,
                rx.badge("In sync", color_scheme="green", data_testid="config-in-sync"),
                rx.badge("Applying…", color_scheme="amber", data_testid="config-out-of-sync"),
            ),
            spacing="3",
            align="center",
            wrap="wrap",
        ),
        rx.cond(
            h.drift != "",
            rx.callout(
                "The gateway's configuration was changed outside ClawNet "
                + h.drift
                + "; ClawNet re-applied its own.",
                color_scheme="amber",
                data_testid="config-drift",
            ),
        ),
        rx.text("Placement: " + h.placement + " · Bot data: " + h.data_folder, size="2"),
        spacing="3",
        width="100%",
    )


def actions() -> rx.Component:
    h, s = BotDetailState.header, BotConfigState
    return rx.hstack(
        rx.cond(
            h.can_configure,
            rx.link(rx.button("Edit configuration", data_testid="config-edit"), href=routes.edit_bot(h.id)),
        ),
        rx.button("Export config", variant="soft", on_click=s.export, data_testid="config-export"),
        rx.cond(
            h.can_delete,
            rx.button(
                "Delete bot",
                variant="soft",
                color_scheme="red",
                on_click=s.set_delete_open(True),
                data_testid="bot-delete",
            ),
        ),
        spacing="3",
    )


def export_view() -> rx.Component:
    s = BotConfigState
    return rx.cond(
        s.export_text != "",
        rx.vstack(
            rx.code_block(s.export_text, language="json", width="100%", data_testid="config-export-text"),
            rx.button(
                "Download",
                size="1",
                variant="soft",
                on_click=rx.download(data=s.export_text, filename=BotDetailState.header.agent_id + ".json5"),
                data_testid="config-download",
            ),
            width="100%",
        ),
    )


def delete_dialog() -> rx.Component:
    s = BotConfigState
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Delete " + BotDetailState.header.name + "?"),
            rx.form(
                rx.vstack(
                    rx.text(
                        "The bot stops everywhere. Its conversations stay in its data folder unless "
                        "you tick the box."
                    ),
                    rx.el.label(
                        rx.hstack(
                            rx.checkbox(name="delete_data", data_testid="bot-delete-data"),
                            rx.text("Also delete its conversations and files"),
                            spacing="2",
                        )
                    ),
                    rx.hstack(
                        rx.button(
                            "Cancel",
                            type="button",
                            variant="soft",
                            color_scheme="gray",
                            on_click=s.set_delete_open(False),
                        ),
                        rx.button(
                            "Delete", type="submit", color_scheme="red", data_testid="bot-delete-confirm"
                        ),
                        justify="end",
                        spacing="3",
                        width="100%",
                    ),
                    spacing="4",
                ),
                on_submit=s.delete,
            ),
        ),
        open=s.delete_open,
        on_open_change=s.set_delete_open,
    )


def configuration_tab() -> rx.Component:
    return rx.vstack(
        sync_status(),
        actions(),
        export_view(),
        delete_dialog(),
        social_section(),
        engage_section(),
        spacing="4",
        width="100%",
        align="start",
    )
