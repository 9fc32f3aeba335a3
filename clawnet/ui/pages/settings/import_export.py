"""Settings, "Import an openclaw.json" and "Export": an existing OpenClaw config becomes bots
(previewed first, then all or nothing), and every visible bot's config comes out with its
secrets removed."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import runtime
from clawnet.bots.views import ImportedBot
from clawnet.errors import UserError
from clawnet.ui.pages.settings.gateways import GatewaysState
from clawnet.ui.pages.settings.state import SettingsState
from clawnet.ui.session import current_principal, error_toast
from clawnet.ui.typed import Field, event, field

MAX_IMPORT_CHARS = 1_000_000


class ImportExportState(rx.State):
    preview: Field[list[ImportedBot]] = field(default_factory=list)
    import_errors: Field[list[str]] = field(default_factory=list)
    import_done: Field[str] = field("")
    export_text: Field[str] = field("")
    # What was previewed: confirming imports exactly this, not something sent again.
    _import_text: str = ""

    @event
    def load(self) -> None:
        self.preview, self.import_errors, self.import_done, self.export_text = [], [], "", ""
        self._import_text = ""

    @event
    async def preview_import(self, form: dict[str, Any]) -> Any:
        text = str(form.get("config", ""))
        self.import_done, self.preview, self._import_text = "", [], ""
        if not text.strip():
            self.import_errors = ["Paste an openclaw.json (or openclaw.json5) first."]
            return None
        if len(text) > MAX_IMPORT_CHARS:
            self.import_errors = ["This file is too big to be an OpenClaw config (1 MB at most)."]
            return None
        try:
            result = await runtime.bots().import_config(await current_principal(self), text, dry_run=True)
        except UserError as exc:
            self.import_errors = []
            return error_toast(exc)
        self.import_errors, self.preview = result.errors, result.bots
        self._import_text = "" if result.errors else text
        return None

    @event
    async def confirm_import(self) -> Any:
        if not self._import_text or self.import_errors:
            return rx.toast.error("Preview the import first.")
        try:
            result = await runtime.bots().import_config(await current_principal(self), self._import_text)
        except UserError as exc:
            return error_toast(exc)
        if result.errors:
            self.import_errors = result.errors
            return rx.toast.error("Nothing was imported: fix the problems listed.")
        count = len(result.bot_ids)
        self.import_done = f"Imported {count} bot{'' if count == 1 else 's'}. They are starting now."
        self.preview, self._import_text = [], ""
        # The new bots' gateways appear in the Gateways section.
        return [rx.toast.success(self.import_done), GatewaysState.load]

    @event
    async def export_fleet(self) -> Any:
        try:
            self.export_text = await runtime.bots().export_config(await current_principal(self))
        except UserError as exc:
            return error_toast(exc)
        return None


def preview_row(bot: Any) -> rx.Component:
    return rx.table.row(
        rx.table.cell(bot.name),
        rx.table.cell(rx.code(bot.agent_id)),
        rx.table.cell(rx.cond(bot.channels.length() > 0, bot.channels.join(", "), "none")),
        rx.table.cell(bot.model),
        data_testid="import-preview-row",
    )


def import_section() -> rx.Component:
    return rx.vstack(
        rx.heading("Import an openclaw.json", size="4", id="import"),
        rx.text(
            "Paste an existing OpenClaw configuration: its agents, channels and bindings become bots. "
            "Nothing is written until you confirm, and nothing at all if any problem is found.",
            size="2",
        ),
        rx.form(
            rx.vstack(
                rx.text_area(
                    name="config",
                    rows="10",
                    placeholder="{ agents: { entries: { ... } } }",
                    aria_label="openclaw.json to import",
                    aria_invalid=rx.cond(ImportExportState.import_errors.length() > 0, "true", "false"),
                    aria_describedby="import-errors",
                    data_testid="import-text",
                    width="100%",
                    font_family="var(--code-font-family)",
                ),
                rx.vstack(
                    rx.foreach(
                        ImportExportState.import_errors,
                        lambda e: rx.callout(
                            e, color_scheme="red", size="1", role="alert", data_testid="import-error"
                        ),
                    ),
                    id="import-errors",
                    spacing="1",
                    width="100%",
                ),
                rx.button("Preview import", type="submit", variant="soft", data_testid="import-preview"),
                width="100%",
            ),
            on_submit=ImportExportState.preview_import,
            reset_on_submit=False,
            aria_label="Import an openclaw.json",
            width="100%",
        ),
        rx.cond(
            ImportExportState.preview.length() > 0,
            rx.vstack(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            *[rx.table.column_header_cell(h) for h in ("Bot", "Id", "Channels", "Model")]
                        )
                    ),
                    rx.table.body(rx.foreach(ImportExportState.preview, preview_row)),
                    width="100%",
                    data_testid="import-preview-table",
                ),
                rx.button(
                    "Import these bots",
                    color_scheme="green",
                    on_click=ImportExportState.confirm_import,
                    disabled=ImportExportState.import_errors.length() > 0,
                    data_testid="import-confirm",
                ),
                width="100%",
            ),
        ),
        rx.cond(
            ImportExportState.import_done != "",
            rx.callout(
                ImportExportState.import_done, color_scheme="green", role="status", data_testid="import-done"
            ),
        ),
        spacing="3",
        width="100%",
    )


def export_section() -> rx.Component:
    return rx.vstack(
        rx.heading("Export", size="4", id="export"),
        rx.button(
            "Export every bot I can see (secrets removed)",
            variant="soft",
            on_click=ImportExportState.export_fleet,
            data_testid="export-fleet",
        ),
        rx.cond(
            ImportExportState.export_text != "",
            rx.vstack(
                rx.code_block(
                    ImportExportState.export_text, language="json", width="100%", data_testid="export-text"
                ),
                rx.button(
                    "Download",
                    size="1",
                    on_click=rx.download(data=ImportExportState.export_text, filename="openclaw.json5"),
                    data_testid="export-download",
                ),
                width="100%",
            ),
        ),
        spacing="3",
        width="100%",
    )


def import_export_sections() -> rx.Component:
    return rx.fragment(
        rx.cond(SettingsState.can_import, import_section()),
        rx.cond(SettingsState.sees_fleet, export_section()),
    )
