"""Settings: your profile, model providers, importing an openclaw.json, exporting configs, remote gateways."""

from __future__ import annotations

from typing import Any

import reflex as rx
from sqlmodel import select

from clawnet import media, routes, runtime
from clawnet.bots import providers as provider_service
from clawnet.bots import queries
from clawnet.bots.providers import KIND_LABELS, ProviderError, ProviderInput
from clawnet.bots.service import BotInputError, NotFound
from clawnet.db import session_scope
from clawnet.models import Gateway
from clawnet.security.permissions import Action, PermissionDenied, can, require
from clawnet.security.sanitize import bio_source
from clawnet.settings import get_settings
from clawnet.social import profiles
from clawnet.social.service import SocialError
from clawnet.ui.components.forms import data_table, field_error, native_select, text_area_field, text_field
from clawnet.ui.components.layout import page_frame
from clawnet.ui.components.post import avatar
from clawnet.ui.components.status import status_badge
from clawnet.ui.session import SessionState, current_principal

KINDS = [(k.value, label) for k, label in KIND_LABELS.items()]


class SettingsState(rx.State):
    providers: list[dict[str, str]] = []
    can_manage_providers: bool = False
    can_import: bool = False
    can_manage_gateways: bool = False
    sees_fleet: bool = False
    # Provider form (editing = provider id, 0 for a new one)
    editing: int = -1
    form_kind: str = "openai"
    form_name: str = ""
    form_display: str = ""
    form_base_url: str = ""
    form_models: str = ""
    form_has_key: bool = False
    provider_errors: dict[str, str] = {}
    # Import / export
    import_result: list[dict[str, str]] = []
    import_errors: list[str] = []
    import_done: str = ""
    _import_text: str = ""
    export_text: str = ""
    # Your profile
    my_handle: str = ""
    my_name: str = ""
    my_bio: str = ""
    my_avatar: str = ""
    profile_error: str = ""
    # Remote gateways
    gateways: list[dict[str, str]] = []
    gateway_errors: dict[str, str] = {}

    @rx.event
    async def on_load(self):
        principal = await current_principal(self)
        if principal is None:
            return
        self.editing = -1
        self.import_result, self.import_errors, self.import_done, self.export_text = [], [], "", ""
        with session_scope() as session:
            self.sees_fleet = can(session, principal, Action.VIEW_FLEET)
            self.can_manage_providers = can(session, principal, Action.MANAGE_PROVIDERS)
            self.can_import = can(session, principal, Action.IMPORT_CONFIG)
            self.can_manage_gateways = can(session, principal, Action.MANAGE_GATEWAYS)
            self.providers = provider_service.list_providers(session, principal) if self.sees_fleet else []
            me = profiles.person_profile_of(session, principal.user_id)
            if me is not None:
                self.my_handle, self.my_name, self.my_avatar = me.handle, me.display_name, me.avatar_path
                self.my_bio = bio_source(me.bio_html)
            self.profile_error = ""
            self._load_gateways(session, principal)

    def _load_gateways(self, session: Any, principal: Any) -> None:
        if not self.can_manage_gateways:
            self.gateways = []
            return
        require(session, principal, Action.MANAGE_GATEWAYS)
        rows = session.exec(select(Gateway)).all()
        self.gateways = [queries.gateway_card(g, None, 0) for g in rows]

    # --- your profile ------------------------------------------------------------------------

    @rx.event
    async def save_profile(self, form: dict[str, Any]):
        principal = await current_principal(self)
        try:
            runtime.social().update_profile(
                principal,
                display_name=str(form.get("display_name", "")),
                bio=str(form.get("bio", "")),
                avatar_path=self.my_avatar,
            )
        except (SocialError, PermissionDenied) as exc:
            self.profile_error = str(exc)
            return None
        self.profile_error = ""
        self.my_name, self.my_bio = str(form.get("display_name", "")).strip(), str(form.get("bio", ""))
        return rx.toast.success("Profile saved.")

    @rx.event
    async def upload_avatar(self, files: list[rx.UploadFile]):
        principal = await current_principal(self)
        if principal is None or not files:
            return
        try:
            relative, _mime, _size = media.save_image(
                get_settings(), await files[0].read(), "avatars", max_bytes=2 * 2**20
            )
        except media.MediaError as exc:
            self.profile_error = str(exc)
            return
        self.my_avatar, self.profile_error = relative, ""

    @rx.event
    def remove_avatar(self) -> None:
        self.my_avatar = ""

    @rx.var
    def my_avatar_url(self) -> str:
        return media.url(self.my_avatar)

    # --- providers -------------------------------------------------------------------------

    @rx.event
    def edit_provider(self, provider_id: str) -> None:
        self.provider_errors = {}
        if provider_id == "new":
            self.editing = 0
            self.form_kind, self.form_name, self.form_display, self.form_base_url = "openai", "", "", ""
            self.form_models, self.form_has_key = "", False
            return
        for p in self.providers:
            if p["id"] == provider_id:
                self.editing = int(p["id"])
                self.form_kind, self.form_name, self.form_display = p["kind"], p["name"], p["display_name"]
                self.form_base_url, self.form_models, self.form_has_key = (
                    p["base_url"],
                    p["models"],
                    p["has_key"] == "yes",
                )

    @rx.event
    def cancel_provider(self) -> None:
        self.editing = -1

    @rx.event
    def set_form_kind(self, kind: str) -> None:
        self.form_kind = kind

    @rx.event
    async def save_provider(self, form: dict[str, Any]):
        principal = await current_principal(self)
        inp = ProviderInput(
            kind=str(form.get("kind", self.form_kind)),
            name=str(form.get("name", "")),
            display_name=str(form.get("display_name", "")),
            base_url=str(form.get("base_url", "")),
            api_key=str(form.get("api_key", "")),
            models_text=str(form.get("models", "")),
        )
        try:
            with session_scope() as session:
                provider_service.save_provider(session, principal, inp, self.editing or None)
        except ProviderError as exc:
            self.provider_errors = exc.errors
            return None
        except PermissionDenied as exc:
            return rx.toast.error(str(exc))
        self.editing = -1
        self.provider_errors = {}
        with session_scope() as session:
            self.providers = provider_service.list_providers(session, principal)
        return rx.toast.success("Provider saved. Its key is stored encrypted and will not be shown again.")

    @rx.event
    async def delete_provider(self, provider_id: str):
        principal = await current_principal(self)
        try:
            with session_scope() as session:
                provider_service.delete_provider(session, principal, int(provider_id))
        except ProviderError as exc:
            return rx.toast.error(str(exc))
        except (PermissionDenied, ValueError) as exc:
            return rx.toast.error(str(exc) or "Not allowed.")
        with session_scope() as session:
            self.providers = provider_service.list_providers(session, principal)
        return rx.toast.success("Provider removed.")

    # --- import / export -------------------------------------------------------------------

    @rx.event
    async def preview_import(self, form: dict[str, Any]):
        principal = await current_principal(self)
        self._import_text = str(form.get("config", ""))
        self.import_done = ""
        try:
            result = runtime.service().import_config(principal, self._import_text, dry_run=True)
        except PermissionDenied as exc:
            return rx.toast.error(str(exc))
        self.import_errors = result.errors
        self.import_result = [
            {
                "name": b.name,
                "agent_id": b.agent_id,
                "channels": ", ".join(b.channels) or "none",
                "model": b.model,
            }
            for b in result.bots
        ]
        return None

    @rx.event
    async def confirm_import(self):
        principal = await current_principal(self)
        try:
            result = runtime.service().import_config(principal, self._import_text)
        except PermissionDenied as exc:
            return rx.toast.error(str(exc))
        if result.errors:
            self.import_errors = result.errors
            return rx.toast.error("Nothing was imported: fix the problems listed.")
        self.import_done = f"Imported {len(result.bot_ids)} bots. They are starting now."
        self.import_result, self._import_text = [], ""
        return rx.toast.success(self.import_done)

    @rx.event
    async def export_fleet(self):
        principal = await current_principal(self)
        try:
            self.export_text = runtime.service().export_config(principal)
        except PermissionDenied as exc:
            return rx.toast.error(str(exc))
        return None

    # --- gateways --------------------------------------------------------------------------

    @rx.event(background=True)
    async def adopt_gateway(self, form: dict[str, Any]):
        async with self:
            principal = await current_principal(self)
            self.gateway_errors = {}
        try:
            await runtime.service().adopt_remote_gateway(
                principal,
                str(form.get("name", "")),
                str(form.get("url", "")).strip(),
                str(form.get("token", "")),
            )
        except BotInputError as exc:
            async with self:
                self.gateway_errors = exc.errors
            return None
        except PermissionDenied as exc:
            return rx.toast.error(str(exc))
        async with self:
            with session_scope() as session:
                self._load_gateways(session, principal)
        return rx.toast.success("Gateway adopted. Choose it for a bot in the wizard's advanced step.")

    @rx.event
    async def rotate_token(self, gateway_id: str):
        principal = await current_principal(self)
        try:
            runtime.service().rotate_gateway_token(principal, int(gateway_id))
        except (PermissionDenied, NotFound, ValueError) as exc:
            return rx.toast.error(str(exc) or "Not allowed.")
        return rx.toast.success("New token generated; the gateway takes it without restarting.")


def provider_form() -> rx.Component:
    errors = SettingsState.provider_errors
    return rx.card(
        rx.form(
            rx.vstack(
                native_select(
                    "Type",
                    KINDS,
                    testid="provider-kind",
                    name="kind",
                    value=SettingsState.form_kind,
                    on_change=SettingsState.set_form_kind,
                ),
                rx.el.label("Short name (used in model ids)", html_for="provider-name"),
                rx.input(
                    id="provider-name",
                    name="name",
                    default_value=SettingsState.form_name,
                    data_testid="provider-name",
                ),
                field_error(errors.get("name", ""), "provider-name"),
                rx.el.label("Display name", html_for="provider-display"),
                rx.input(
                    id="provider-display",
                    name="display_name",
                    default_value=SettingsState.form_display,
                    data_testid="provider-display",
                ),
                field_error(errors.get("display_name", ""), "provider-display"),
                rx.el.label("Base URL (OpenAI-compatible only)", html_for="provider-base-url"),
                rx.input(
                    id="provider-base-url",
                    name="base_url",
                    default_value=SettingsState.form_base_url,
                    placeholder="https://api.example.com/v1",
                    data_testid="provider-base-url",
                ),
                field_error(errors.get("base_url", ""), "provider-base-url"),
                rx.el.label("API key", html_for="provider-api-key"),
                rx.input(
                    id="provider-api-key",
                    name="api_key",
                    type="password",
                    auto_complete="off",
                    data_testid="provider-api-key",
                    placeholder=rx.cond(SettingsState.form_has_key, "•••••• stored — type to replace", ""),
                ),
                field_error(errors.get("api_key", ""), "provider-api-key"),
                rx.el.label("Models, one per line: id | description", html_for="provider-models"),
                rx.text_area(
                    id="provider-models",
                    name="models",
                    default_value=SettingsState.form_models,
                    rows="4",
                    data_testid="provider-models",
                    placeholder="gpt-5-mini | fast and cheap",
                ),
                field_error(errors.get("models", ""), "provider-models"),
                rx.hstack(
                    rx.button(
                        "Cancel",
                        type="button",
                        variant="soft",
                        color_scheme="gray",
                        on_click=SettingsState.cancel_provider,
                    ),
                    rx.button("Save provider", type="submit", data_testid="provider-save"),
                    spacing="3",
                ),
                spacing="2",
                width="100%",
            ),
            on_submit=SettingsState.save_provider,
            reset_on_submit=False,
        ),
        width="100%",
        data_testid="provider-form",
    )


def provider_row(p: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.text(p["display_name"], weight="medium"), rx.text(p["name"], size="1", color_scheme="gray")
        ),
        rx.table.cell(p["kind_label"]),
        rx.table.cell(p["model_ids"]),
        rx.table.cell(rx.cond(p["has_key"] == "yes", rx.badge("stored", color_scheme="green"), rx.text("—"))),
        rx.table.cell(
            rx.cond(
                SettingsState.can_manage_providers,
                rx.hstack(
                    rx.button(
                        "Edit",
                        size="1",
                        variant="soft",
                        on_click=SettingsState.edit_provider(p["id"]),
                        data_testid="provider-edit-" + p["name"],
                    ),
                    rx.button(
                        "Remove",
                        size="1",
                        variant="soft",
                        color_scheme="red",
                        on_click=SettingsState.delete_provider(p["id"]),
                        data_testid="provider-remove-" + p["name"],
                    ),
                    spacing="2",
                ),
            )
        ),
        data_testid="provider-row-" + p["name"],
    )


def gateway_row(g: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(g["name"]),
        rx.table.cell(g["kind"]),
        rx.table.cell(status_badge(g["status"])),
        rx.table.cell(rx.cond(g["kind"] == "remote", g["url"], "port " + g["port"])),
        rx.table.cell(g["restarts"]),
        rx.table.cell(
            rx.cond(
                g["kind"] == "local",
                rx.button(
                    "New token",
                    size="1",
                    variant="soft",
                    on_click=SettingsState.rotate_token(g["id"]),
                    data_testid="gateway-rotate-" + g["id"],
                ),
            )
        ),
        data_testid="settings-gateway-" + g["id"],
    )


def profile_section() -> rx.Component:
    return rx.vstack(
        rx.heading("Your profile", size="4", id="profile"),
        rx.form(
            rx.vstack(
                rx.hstack(
                    avatar(SettingsState.my_avatar_url, SettingsState.my_name, "4em"),
                    rx.upload(
                        rx.button("Choose an avatar", variant="soft", size="2", type="button"),
                        id="profile-avatar-upload",
                        max_files=1,
                        accept={
                            "image/png": [".png"],
                            "image/jpeg": [".jpg", ".jpeg"],
                            "image/gif": [".gif"],
                            "image/webp": [".webp"],
                        },
                        on_drop=SettingsState.upload_avatar(
                            rx.upload_files(upload_id="profile-avatar-upload")
                        ),
                        border="none",
                        padding="0",
                        data_testid="profile-avatar-upload",
                    ),
                    rx.cond(
                        SettingsState.my_avatar != "",
                        rx.button(
                            "Remove",
                            variant="ghost",
                            size="2",
                            type="button",
                            on_click=SettingsState.remove_avatar,
                            data_testid="profile-avatar-remove",
                        ),
                    ),
                    align="center",
                    spacing="3",
                ),
                text_field(
                    "Display name",
                    name="display_name",
                    testid="profile-display-name",
                    default_value=SettingsState.my_name,
                    key=SettingsState.my_name,
                ),
                text_area_field(
                    "Bio",
                    name="bio",
                    testid="profile-bio-text",
                    hint="Plain text, up to 1,000 characters; links become clickable.",
                    default_value=SettingsState.my_bio,
                    key=SettingsState.my_bio,
                    rows="3",
                ),
                rx.cond(
                    SettingsState.profile_error != "",
                    rx.text(
                        SettingsState.profile_error,
                        color_scheme="red",
                        size="2",
                        role="alert",
                        data_testid="profile-error",
                    ),
                ),
                rx.hstack(
                    rx.button("Save profile", type="submit", data_testid="profile-save"),
                    rx.link(
                        "View my profile",
                        href="/u/" + SettingsState.my_handle,
                        data_testid="profile-view",
                    ),
                    align="center",
                    spacing="4",
                ),
                spacing="3",
                width="100%",
                max_width="36em",
            ),
            on_submit=SettingsState.save_profile,
            reset_on_submit=False,
            width="100%",
        ),
        spacing="3",
        width="100%",
        data_testid="settings-profile",
    )


@rx.page(
    route=routes.SETTINGS,
    title="Settings · ClawNet",
    on_load=[SessionState.require_sign_in, SettingsState.on_load],
)
def settings_page() -> rx.Component:
    return page_frame(
        "Settings",
        profile_section(),
        rx.cond(
            SettingsState.sees_fleet,
            rx.vstack(
                rx.heading("Model providers", size="4", id="providers"),
                data_table(
                    ("Provider", "Type", "Models", "API key", ""),
                    SettingsState.providers,
                    provider_row,
                    "providers-table",
                ),
                rx.cond(
                    SettingsState.can_manage_providers & (SettingsState.editing < 0),
                    rx.button(
                        "Add a provider",
                        on_click=SettingsState.edit_provider("new"),
                        data_testid="provider-add",
                    ),
                ),
                rx.cond(SettingsState.editing >= 0, provider_form()),
                spacing="3",
                width="100%",
            ),
        ),
        rx.cond(
            SettingsState.can_import,
            rx.vstack(
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
                            data_testid="import-text",
                            width="100%",
                            font_family="var(--code-font-family)",
                        ),
                        rx.button(
                            "Preview import", type="submit", variant="soft", data_testid="import-preview"
                        ),
                        width="100%",
                    ),
                    on_submit=SettingsState.preview_import,
                    reset_on_submit=False,
                    width="100%",
                ),
                rx.foreach(
                    SettingsState.import_errors,
                    lambda e: rx.callout(
                        e, color_scheme="red", size="1", role="alert", data_testid="import-error"
                    ),
                ),
                rx.cond(
                    SettingsState.import_result.length() > 0,
                    rx.vstack(
                        rx.table.root(
                            rx.table.header(
                                rx.table.row(
                                    *[
                                        rx.table.column_header_cell(h)
                                        for h in ("Bot", "Id", "Channels", "Model")
                                    ]
                                )
                            ),
                            rx.table.body(
                                rx.foreach(
                                    SettingsState.import_result,
                                    lambda b: rx.table.row(
                                        rx.table.cell(b["name"]),
                                        rx.table.cell(b["agent_id"]),
                                        rx.table.cell(b["channels"]),
                                        rx.table.cell(b["model"]),
                                        data_testid="import-preview-row",
                                    ),
                                )
                            ),
                            width="100%",
                        ),
                        rx.button(
                            "Import these bots",
                            color_scheme="green",
                            on_click=SettingsState.confirm_import,
                            disabled=SettingsState.import_errors.length() > 0,
                            data_testid="import-confirm",
                        ),
                        width="100%",
                    ),
                ),
                rx.cond(
                    SettingsState.import_done != "",
                    rx.callout(SettingsState.import_done, color_scheme="green", data_testid="import-done"),
                ),
                spacing="3",
                width="100%",
            ),
        ),
        rx.cond(
            SettingsState.sees_fleet,
            rx.vstack(
                rx.heading("Export", size="4"),
                rx.button(
                    "Export every bot I can see (secrets removed)",
                    variant="soft",
                    on_click=SettingsState.export_fleet,
                    data_testid="export-fleet",
                ),
                rx.cond(
                    SettingsState.export_text != "",
                    rx.vstack(
                        rx.code_block(
                            SettingsState.export_text,
                            language="json",
                            width="100%",
                            data_testid="export-text",
                        ),
                        rx.button(
                            "Download",
                            size="1",
                            on_click=rx.download(data=SettingsState.export_text, filename="openclaw.json5"),
                        ),
                        width="100%",
                    ),
                ),
                spacing="3",
                width="100%",
            ),
        ),
        rx.cond(
            SettingsState.can_manage_gateways,
            rx.vstack(
                rx.heading("Gateways", size="4"),
                data_table(
                    ("Gateway", "Kind", "Status", "Where", "Restarts", ""),
                    SettingsState.gateways,
                    gateway_row,
                    "settings-gateways-table",
                ),
                rx.text(
                    "Adopt a gateway running on another host (its own supervisor keeps it running):", size="2"
                ),
                rx.form(
                    rx.hstack(
                        rx.input(
                            name="name",
                            placeholder="Name",
                            aria_label="Gateway name",
                            data_testid="remote-name",
                        ),
                        rx.input(
                            name="url",
                            placeholder="wss://gateway.example.com",
                            aria_label="Gateway URL",
                            data_testid="remote-url",
                        ),
                        rx.input(
                            name="token",
                            type="password",
                            placeholder="Gateway token",
                            aria_label="Gateway token",
                            data_testid="remote-token",
                            auto_complete="off",
                        ),
                        rx.button("Adopt", type="submit", data_testid="remote-adopt"),
                        spacing="2",
                        wrap="wrap",
                    ),
                    on_submit=SettingsState.adopt_gateway,
                ),
                rx.foreach(
                    SettingsState.gateway_errors,
                    lambda item: rx.text(
                        item[1], color_scheme="red", size="1", role="alert", data_testid="remote-error"
                    ),
                ),
                spacing="3",
                width="100%",
            ),
        ),
        testid="settings-page",
    )
