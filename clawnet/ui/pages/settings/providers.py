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
TYPED_FIELDS = frozenset({"display_name", "base_url", "api_key", "models"})
TYPED_MAX_CHARS = 20000


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
    check: Field[str] = field("")  # the form's "Test connection" result
    check_ok: Field[bool] = field(False)
    testing: Field[bool] = field(False)
    row_checks: Field[dict[str, str]] = field(default_factory=dict)  # provider id -> a saved one's test
    row_checks_ok: Field[dict[str, bool]] = field(default_factory=dict)
    _typed: dict[str, str] = {}  # the form's fields as typed (the key stays on the server)

    async def _reload(self) -> None:
        try:
            self.providers = await runtime.bots().providers(await current_principal(self))
        except UserError:
            self.providers = []

    @event
    async def load(self) -> None:
        self.editing, self.errors = CLOSED, {}
        await self._reload()

    def _clear_check(self) -> None:
        self._typed, self.check, self.check_ok = {}, "", False

    @event
    def new_provider(self) -> None:
        self.editing, self.errors = NEW, {}
        self._clear_check()
        self.form_kind, self.form_name, self.form_display = ProviderKind.OPENAI.value, "", ""
        self.form_base_url, self.form_models, self.form_has_key = "", "", False

    @event
    def edit_provider(self, provider_id: int) -> None:
        """Open the form on a provider this page loaded from the service (nothing else)."""
        row = next((p for p in self.providers if str(p.id) == str(provider_id)), None)
        if row is None:
            return
        self.editing, self.errors = row.id, {}
        self._clear_check()
        self.form_kind, self.form_name, self.form_display = row.kind, row.name, row.display_name
        self.form_base_url, self.form_models, self.form_has_key = row.base_url, row.models, row.has_key

    @event
    def cancel_provider(self) -> None:
        self.editing, self.errors = CLOSED, {}

    @event
    def set_form_kind(self, kind: str) -> None:
        self.form_kind = str(kind)
        self.check = ""

    @event
    def remember(self, name: str, value: str) -> None:
        """A field of the open form as typed (for Test connection before saving)."""
        if self.editing != CLOSED and str(name) in TYPED_FIELDS:
            self._typed = {**self._typed, str(name): str(value)[:TYPED_MAX_CHARS]}
            self.check = ""

    def _form_input(self) -> ProviderInput:
        typed = self._typed
        return ProviderInput(
            kind=self.form_kind,
            name=self.form_name,
            display_name=typed.get("display_name", self.form_display),
            base_url=typed.get("base_url", self.form_base_url),
            api_key=typed.get("api_key", ""),
            models_text=typed.get("models", self.form_models),
        )

    @event(background=True)
    async def test_form(self) -> None:
        """Try the key typed (or the stored one) against the base URL typed, before saving."""
        async with self:
            if self.editing == CLOSED or self.testing:
                return
            self.testing, self.check = True, ""
            principal = await current_principal(self)
            inp, provider_id = self._form_input(), self.editing or None
        try:
            result = await runtime.bots().test_provider(principal, inp, provider_id)
            message, ok = result.message, result.ok
        except UserError as exc:
            message, ok = str(exc), False
        async with self:
            self.testing, self.check, self.check_ok = False, message, ok

    @event(background=True)
    async def test_saved(self, provider_id: int) -> None:
        """Try a saved provider's stored key."""
        async with self:
            row = next((p for p in self.providers if str(p.id) == str(provider_id)), None)
            if row is None:
                return
            principal = await current_principal(self)
            self.row_checks = {**self.row_checks, str(row.id): "Testing…"}
            self.row_checks_ok = {**self.row_checks_ok, str(row.id): True}
        inp = ProviderInput(row.kind, row.name, row.display_name, row.base_url, "", row.models)
        try:
            result = await runtime.bots().test_provider(principal, inp, row.id)
            message, ok = result.message, result.ok
        except UserError as exc:
            message, ok = str(exc), False
        async with self:
            self.row_checks = {**self.row_checks, str(row.id): message}
            self.row_checks_ok = {**self.row_checks_ok, str(row.id): ok}

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


def provider_test() -> rx.Component:
    s = ProvidersState
    return rx.hstack(
        rx.button(
            "Test connection",
            type="button",
            size="1",
            variant="soft",
            loading=s.testing,
            on_click=s.test_form,
            data_testid="provider-test",
        ),
        rx.cond(
            s.check != "",
            rx.text(
                s.check,
                size="2",
                color_scheme=rx.cond(s.check_ok, "green", "red"),
                role="status",
                data_testid="provider-check",
            ),
        ),
        spacing="3",
        align="center",
    )


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
                    on_blur=lambda v: ProvidersState.remember("display_name", v),
                ),
                text_field(
                    "Base URL (OpenAI-compatible only)",
                    name="base_url",
                    testid="provider-base-url",
                    error=errors.get("base_url", ""),
                    default_value=ProvidersState.form_base_url,
                    placeholder="https://api.example.com/v1",
                    on_blur=lambda v: ProvidersState.remember("base_url", v),
                ),
                text_field(
                    "API key",
                    name="api_key",
                    testid="provider-api-key",
                    error=errors.get("api_key", ""),
                    type="password",
                    auto_complete="off",
                    placeholder=rx.cond(ProvidersState.form_has_key, "•••••• stored — type to replace", ""),
                    on_blur=lambda v: ProvidersState.remember("api_key", v),
                ),
                text_area_field(
                    "Models, one per line: id | description",
                    name="models",
                    testid="provider-models",
                    error=errors.get("models", ""),
                    default_value=ProvidersState.form_models,
                    rows="4",
                    placeholder="gpt-5-mini | fast and cheap",
                    on_blur=lambda v: ProvidersState.remember("models", v),
                ),
                provider_test(),
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
                        "Test",
                        size="1",
                        variant="soft",
                        on_click=ProvidersState.test_saved(p.id),
                        aria_label="Test the connection of " + p.display_name,
                        data_testid="provider-test-" + p.name,
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


def provider_row_check(p: Any) -> rx.Component:
    key = p.id.to_string()
    return rx.cond(
        ProvidersState.row_checks.get(key, "") != "",
        rx.callout(
            p.display_name + ": " + ProvidersState.row_checks.get(key, ""),
            size="1",
            color_scheme=rx.cond(ProvidersState.row_checks_ok.get(key, False), "green", "red"),
            role="status",
            data_testid="provider-row-check-" + p.name,
        ),
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
        rx.foreach(ProvidersState.providers, provider_row_check),
        rx.cond(
            SettingsState.can_manage_providers & (ProvidersState.editing == CLOSED),
            rx.button("Add a provider", on_click=ProvidersState.new_provider, data_testid="provider-add"),
        ),
        rx.cond(ProvidersState.editing != CLOSED, provider_form()),
        spacing="3",
        width="100%",
    )
