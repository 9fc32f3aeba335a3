"""Settings, "Model providers": the LLM endpoints bots use (everyone on the fleet sees them,
admins add, change and remove them). A stored API key is never sent back: the form shows that one
is stored, and an empty key field keeps it."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import runtime
from clawnet.bots import KIND_LABELS, ProviderInput
from clawnet.bots.views import ProviderRow
from clawnet.enums import ProviderKind
from clawnet.errors import UserError
from clawnet.ui.components.forms import data_table, field_error, native_select, text_area_field, text_field
from clawnet.ui.pages.settings.state import SettingsState
from clawnet.ui.session import current_principal, error_toast
from clawnet.ui.typed import Field, event, field

KINDS = [(k.value, label) for k, label in KIND_LABELS.items()]
NEW = 0  # `editing` for a provider being added; -1 when the form is closed
CLOSED = -1


class ProvidersState(rx.State):
    providers: Field[list[ProviderRow]] = field(default_factory=list)
    editing: Field[int] = field(CLOSED)
    form_kind: Field[str] = field(ProviderKind.OPENAI.value)
    form_name: Field[str] = field("")
    form_display: Field[str] = field("")
    form_base_url: Field[str] = field("")
    form_models: Field[str] = field("")
    form_has_key: Field[bool] = field(False)
    errors: Field[dict[str, str]] = field(default_factory=dict)

    async def _reload(self) -> None:
        try:
            self.providers = await runtime.bots().providers(await current_principal(self))
        except UserError:
            self.providers = []

    @event
    async def load(self) -> None:
        self.editing, self.errors = CLOSED, {}
        await self._reload()

    @event
    def new_provider(self) -> None:
        self.editing, self.errors = NEW, {}
        self.form_kind, self.form_name, self.form_display = ProviderKind.OPENAI.value, "", ""
        self.form_base_url, self.form_models, self.form_has_key = "", "", False

    @event
    def edit_provider(self, provider_id: int) -> None:
        """Open the form on a provider this page loaded from the service (nothing else)."""
        row = next((p for p in self.providers if str(p.id) == str(provider_id)), None)
        if row is None:
            return
        self.editing, self.errors = row.id, {}
        self.form_kind, self.form_name, self.form_display = row.kind, row.name, row.display_name
        self.form_base_url, self.form_models, self.form_has_key = row.base_url, row.models, row.has_key

    @event
    def cancel_provider(self) -> None:
        self.editing, self.errors = CLOSED, {}

    @event
    def set_form_kind(self, kind: str) -> None:
        self.form_kind = str(kind)

    @event
    async def save_provider(self, form: dict[str, Any]) -> Any:
        if self.editing == CLOSED:
            return None
        inp = ProviderInput(
            kind=str(form.get("kind", self.form_kind)),
            name=str(form.get("name", "")),
            display_name=str(form.get("display_name", "")),
            base_url=str(form.get("base_url", "")),
            api_key=str(form.get("api_key", "")),
            models_text=str(form.get("models", "")),
        )
        try:
            await runtime.bots().save_provider(await current_principal(self), inp, self.editing or None)
        except UserError as exc:
            if not exc.field_errors:
                return error_toast(exc)
            self.errors = exc.field_errors
            return None
        self.editing, self.errors = CLOSED, {}
        await self._reload()
        return rx.toast.success("Provider saved. Its key is stored encrypted and will not be shown again.")

    @event
    async def delete_provider(self, provider_id: int) -> Any:
        try:
            await runtime.bots().delete_provider(await current_principal(self), int(provider_id))
        except UserError as exc:
            return error_toast(exc)
        except (TypeError, ValueError):
            return rx.toast.error("No such provider.")
        if self.editing == int(provider_id):
            self.editing, self.errors = CLOSED, {}
        await self._reload()
        return rx.toast.success("Provider removed.")


def provider_form() -> rx.Component:
    errors = ProvidersState.errors
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading(rx.cond(ProvidersState.editing == NEW, "New provider", "Edit provider"), size="3"),
                native_select(
                    "Type",
                    KINDS,
                    testid="provider-kind",
                    name="kind",
                    value=ProvidersState.form_kind,
                    on_change=ProvidersState.set_form_kind,
                ),
                field_error(errors.get("kind", ""), "provider-kind"),
                text_field(
                    "Short name (used in model ids)",
                    name="name",
                    testid="provider-name",
                    error=errors.get("name", ""),
                    default_value=ProvidersState.form_name,
                    placeholder="acme",
                ),
                text_field(
                    "Display name",
                    name="display_name",
                    testid="provider-display",
                    error=errors.get("display_name", ""),
                    default_value=ProvidersState.form_display,
                ),
                text_field(
                    "Base URL (OpenAI-compatible only)",
                    name="base_url",
                    testid="provider-base-url",
                    error=errors.get("base_url", ""),
                    default_value=ProvidersState.form_base_url,
                    placeholder="https://api.example.com/v1",
                ),
                text_field(
                    "API key",
                    name="api_key",
                    testid="provider-api-key",
                    error=errors.get("api_key", ""),
                    type="password",
                    auto_complete="off",
                    placeholder=rx.cond(ProvidersState.form_has_key, "•••••• stored — type to replace", ""),
                ),
                text_area_field(
                    "Models, one per line: id | description",
                    name="models",
                    testid="provider-models",
                    error=errors.get("models", ""),
                    default_value=ProvidersState.form_models,
                    rows="4",
                    placeholder="gpt-5-mini | fast and cheap",
                ),
                rx.hstack(
                    rx.button(
                        "Cancel",
                        type="button",
                        variant="soft",
                        color_scheme="gray",
                        on_click=ProvidersState.cancel_provider,
                        data_testid="provider-cancel",
                    ),
                    rx.button("Save provider", type="submit", data_testid="provider-save"),
                    spacing="3",
                ),
                spacing="3",
                width="100%",
                max_width="36em",
            ),
            on_submit=ProvidersState.save_provider,
            reset_on_submit=False,
            aria_label="Model provider",
            # A new form (fresh default values) for each provider opened.
            key=ProvidersState.editing.to_string(),
        ),
        width="100%",
        data_testid="provider-form",
    )


def provider_row(p: Any) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.text(p.display_name, weight="medium"), rx.text(p.name, size="1", color_scheme="gray")
        ),
        rx.table.cell(p.kind_label),
        rx.table.cell(p.model_ids),
        rx.table.cell(rx.cond(p.has_key, rx.badge("stored", color_scheme="green"), rx.text("—"))),
        rx.table.cell(
            rx.cond(
                SettingsState.can_manage_providers,
                rx.hstack(
                    rx.button(
                        "Edit",
                        size="1",
                        variant="soft",
                        on_click=ProvidersState.edit_provider(p.id),
                        aria_label="Edit " + p.display_name,
                        data_testid="provider-edit-" + p.name,
                    ),
                    rx.button(
                        "Remove",
                        size="1",
                        variant="soft",
                        color_scheme="red",
                        on_click=ProvidersState.delete_provider(p.id),
                        aria_label="Remove " + p.display_name,
                        data_testid="provider-remove-" + p.name,
                    ),
                    spacing="2",
                ),
            )
        ),
        data_testid="provider-row-" + p.name,
    )


def providers_section() -> rx.Component:
    return rx.vstack(
        rx.heading("Model providers", size="4", id="providers"),
        data_table(
            ("Provider", "Type", "Models", "API key", ""),
            ProvidersState.providers,
            provider_row,
            "providers-table",
        ),
        rx.cond(
            SettingsState.can_manage_providers & (ProvidersState.editing == CLOSED),
            rx.button("Add a provider", on_click=ProvidersState.new_provider, data_testid="provider-add"),
        ),
        rx.cond(ProvidersState.editing != CLOSED, provider_form()),
        spacing="3",
        width="100%",
    )
