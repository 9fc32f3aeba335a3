"""Settings, "Import an openclaw.json" and "Export": an existing OpenClaw config becomes bots
(previewed first, then all or nothing), and every visible bot's config comes out with its
secrets removed."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import runtime
from clawnet.bots.views import ImportedBot, ImportResult, ProviderNeed
from clawnet.enums import GatewayKind
from clawnet.errors import UserError
from clawnet.ui.pages.settings.gateways import GatewaysState
from clawnet.ui.pages.settings.state import SettingsState
from clawnet.ui.session import current_principal, error_toast
from clawnet.ui.typed import Field, event, field

MAX_IMPORT_CHARS = 1_000_000
MAX_UPLOADS = 20
MAX_UPLOAD_BYTES = 8 * 1024 * 1024
KEY_FIELD = "key-"  # the preview's key field of provider <name> is named key-<name>


class ImportExportState(rx.State):
    preview: Field[list[ImportedBot]] = field(default_factory=list)
    needs: Field[list[ProviderNeed]] = field(default_factory=list)  # no key in it, ever
    unsupported: Field[list[str]] = field(default_factory=list)
    cron_jobs: Field[list[str]] = field(default_factory=list)
    import_errors: Field[list[str]] = field(default_factory=list)
    import_done: Field[str] = field("")
    export_text: Field[str] = field("")
    attached: Field[list[str]] = field(default_factory=list)  # names of the files added
    source: Field[str] = field("")  # what the preview shows: "the pasted file" or a gateway
    # What was previewed: confirming imports this pasted text (not something the browser sends
    # again); for a gateway, its config is read again when confirming (it may have changed).
    _import_text: str = ""
    _gateway_id: int = 0
    _uploads: list[tuple[str, bytes]] = []

    def _clear_preview(self) -> None:
        self.preview, self.needs, self.unsupported, self.cron_jobs = [], [], [], []
        self.import_errors, self.import_done, self._import_text, self._gateway_id = [], "", "", 0

    def _show(self, result: ImportResult) -> None:
        self.import_errors, self.preview, self.needs = result.errors, result.bots, result.needs
        self.unsupported, self.cron_jobs = result.unsupported, result.cron_jobs

    @event
    def load(self) -> None:
        self._clear_preview()
        self.export_text, self.source, self.attached, self._uploads = "", "", [], []

    @event
    async def attach_files(self, files: list[rx.UploadFile]) -> Any:
        """Persona files (SOUL.md, IDENTITY.md, AGENTS.md, ...) or a zip of the workspace, kept
        on the server until the import (the service checks who may import)."""
        if await current_principal(self) is None:
            return rx.toast.error("Sign in first.")
        uploads, total = [], 0
        for upload in files[:MAX_UPLOADS]:
            data = await upload.read()
            total += len(data)
            if total > MAX_UPLOAD_BYTES:
                return rx.toast.error("The files added are too big (8 MB at most in all).")
            uploads.append((str(upload.name or "file"), data))
        self._uploads = uploads
        self.attached = [name for name, _ in uploads]
        self._clear_preview()
        return None

    @event
    def clear_files(self) -> None:
        self._uploads, self.attached = [], []
        self._clear_preview()

    @event
    async def preview_import(self, form: dict[str, Any]) -> Any:
        text = str(form.get("config", ""))
        self._clear_preview()
        if not text.strip():
            self.import_errors = ["Paste an openclaw.json (or openclaw.json5) first."]
            return None
        if len(text) > MAX_IMPORT_CHARS:
            self.import_errors = ["This file is too big to be an OpenClaw config (1 MB at most)."]
            return None
        try:
            result = await runtime.bots().import_config(
                await current_principal(self), text, dry_run=True, uploads=self._uploads
            )
        except UserError as exc:
            return error_toast(exc)
        self._show(result)
        self.source = "the pasted file"
        self._import_text = "" if result.errors else text
        return None

    @event
    async def preview_gateway(self, gateway_id: int) -> Any:
        """Adopt: the agents of a hand-managed gateway, read over its protocol, as a preview."""
        self._clear_preview()
        try:
            result = await runtime.bots().import_from_gateway(await current_principal(self), int(gateway_id))
        except UserError as exc:
            return error_toast(exc)
        except (TypeError, ValueError):
            return rx.toast.error("No such gateway.")
        self._show(result)
        self.source = "the gateway's own configuration"
        self._gateway_id = 0 if result.errors else int(gateway_id)
        return None

    @event
    async def confirm_import(self, form: dict[str, Any]) -> Any:
        """Imports what was previewed, with the provider keys typed in the preview's form."""
        if not (self._import_text or self._gateway_id) or self.import_errors:
            return rx.toast.error("Preview the import first.")
        keys = {
            name[len(KEY_FIELD) :]: str(value)
            for name, value in form.items()
            if name.startswith(KEY_FIELD) and str(value).strip()
        }
        principal = await current_principal(self)
        try:
            if self._gateway_id:
                result = await runtime.bots().import_from_gateway(
                    principal, self._gateway_id, dry_run=False, provider_keys=keys
                )
            else:
                result = await runtime.bots().import_config(
                    principal, self._import_text, provider_keys=keys, uploads=self._uploads
                )
        except UserError as exc:
            return error_toast(exc)
        if result.errors:
            self.import_errors = result.errors
            return rx.toast.error("Nothing was imported: fix the problems listed.")
        count = len(result.bot_ids)
        self._clear_preview()
        self.import_done = f"Imported {count} bot{'' if count == 1 else 's'}. They are starting now."
        self._uploads, self.attached = [], []
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
        rx.table.cell(
            rx.code(bot.agent_id),
            rx.cond(
                (bot.source_id != "") & (bot.source_id != bot.agent_id),
                rx.text("was " + bot.source_id + " (reserved in ClawNet)", size="1", color_scheme="gray"),
            ),
        ),
        rx.table.cell(rx.cond(bot.channels.length() > 0, bot.channels.join(", "), "none")),
        rx.table.cell(
            bot.model,
            rx.cond(
                bot.fallbacks.length() > 0,
                rx.text("then " + bot.fallbacks.join(", "), size="1", color_scheme="gray"),
            ),
        ),
        rx.table.cell(rx.cond(bot.files.length() > 0, bot.files.join(", "), "generated")),
        data_testid="import-preview-row",
    )


def need_field(need: Any) -> rx.Component:
    """One provider the file needs: its key field (empty when the file holds the key)."""
    testid = "import-key-" + need.name
    label = "API key for " + need.name + " (" + need.kind + ")"
    return rx.vstack(
        rx.text(
            rx.text.strong(need.name),
            " · " + need.kind + " · models " + need.models.join(", "),
            size="2",
        ),
        rx.cond(
            need.from_file,
            rx.text("The file holds its key; type another to replace it.", size="1", color_scheme="gray"),
            rx.text("OpenClaw reads its key from " + need.key_hint + ": paste it here.", size="1"),
        ),
        rx.input(
            name=KEY_FIELD + need.name,
            type="password",
            auto_complete="off",
            placeholder=rx.cond(need.from_file, "(from the file)", "API key"),
            required=~need.from_file,
            aria_label=label,
            data_testid=testid,
            width="100%",
        ),
        spacing="1",
        width="100%",
        data_testid="import-need-" + need.name,
    )


def _listing(title: str, items: Any, testid: str, item_testid: str) -> rx.Component:
    return rx.cond(
        items.length() > 0,
        rx.vstack(
            rx.text(title, size="2", weight="bold"),
            rx.el.ul(
                rx.foreach(items, lambda i: rx.el.li(rx.code(i), data_testid=item_testid)),
                style={"paddingLeft": "1.2em", "margin": 0},
            ),
            spacing="1",
            width="100%",
            data_testid=testid,
        ),
    )


def preview_block() -> rx.Component:
    s = ImportExportState
    return rx.vstack(
        rx.text("Preview of " + s.source + ":", size="2"),
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *[
                        rx.table.column_header_cell(h)
                        for h in ("Bot", "Id", "Channels", "Model", "Persona files")
                    ]
                )
            ),
            rx.table.body(rx.foreach(s.preview, preview_row)),
            width="100%",
            data_testid="import-preview-table",
        ),
        _listing(
            "Not carried over (ClawNet has no place for these keys yet):",
            s.unsupported,
            "import-unsupported",
            "import-unsupported-key",
        ),
        _listing(
            "Cron jobs carried over as the bots' schedules:",
            s.cron_jobs,
            "import-cron-jobs",
            "import-cron-job",
        ),
        rx.form(
            rx.vstack(
                rx.cond(
                    s.needs.length() > 0,
                    rx.text("New model providers (keys are stored encrypted):", size="2", weight="bold"),
                ),
                rx.foreach(s.needs, need_field),
                rx.button(
                    "Import these bots",
                    type="submit",
                    color_scheme="green",
                    disabled=s.import_errors.length() > 0,
                    data_testid="import-confirm",
                ),
                spacing="2",
                width="100%",
            ),
            on_submit=s.confirm_import,
            reset_on_submit=True,
            aria_label="Confirm the import",
            width="100%",
        ),
        width="100%",
    )


def files_picker() -> rx.Component:
    return rx.hstack(
        rx.upload(
            rx.button("Add persona files or a workspace zip", variant="soft", size="2", type="button"),
            id="import-files",
            multiple=True,
            max_files=MAX_UPLOADS,
            accept={"text/markdown": [".md"], "application/zip": [".zip"]},
            on_drop=ImportExportState.attach_files(rx.upload_files(upload_id="import-files")),
            border="none",
            padding="0",
            aria_label="Add persona files (SOUL.md, IDENTITY.md, AGENTS.md) or a zip of the workspace",
            data_testid="import-files",
        ),
        rx.cond(
            ImportExportState.attached.length() > 0,
            rx.hstack(
                rx.text(ImportExportState.attached.join(", "), size="2", data_testid="import-files-attached"),
                rx.button(
                    "Remove",
                    variant="ghost",
                    size="1",
                    type="button",
                    on_click=ImportExportState.clear_files,
                    aria_label="Remove the files added",
                    data_testid="import-files-clear",
                ),
                align="center",
            ),
        ),
        align="center",
        spacing="3",
    )


def adopt_buttons() -> rx.Component:
    def one(g: Any) -> rx.Component:
        return rx.cond(
            g.kind == GatewayKind.REMOTE.value,
            rx.button(
                "Import the agents of " + g.name,
                variant="soft",
                size="1",
                type="button",
                on_click=ImportExportState.preview_gateway(g.id),
                data_testid="import-gateway-" + g.id.to_string(),
            ),
        )

    return rx.cond(
        SettingsState.can_manage_gateways,
        rx.hstack(rx.foreach(GatewaysState.gateways, one), spacing="2", wrap="wrap"),
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
                    placeholder="{ agents: { defaults: { model: ... }, entries: { ... } } }",
                    aria_label="openclaw.json to import",
                    aria_invalid=rx.cond(ImportExportState.import_errors.length() > 0, "true", "false"),
                    aria_describedby="import-errors",
                    data_testid="import-text",
                    width="100%",
                    font_family="var(--code-font-family)",
                ),
                files_picker(),
                rx.button("Preview import", type="submit", variant="soft", data_testid="import-preview"),
                width="100%",
            ),
            on_submit=ImportExportState.preview_import,
            reset_on_submit=False,
            aria_label="Import an openclaw.json",
            width="100%",
        ),
        adopt_buttons(),
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
        rx.cond(ImportExportState.preview.length() > 0, preview_block()),
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
