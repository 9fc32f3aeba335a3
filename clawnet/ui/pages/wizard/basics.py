"""Step 1, basics: name, bot id, model, persona, emoji and avatar."""

from __future__ import annotations

import reflex as rx

from clawnet import routes, runtime
from clawnet.bots.editing import AVATAR_MAX_BYTES
from clawnet.errors import UserError
from clawnet.ui.components.forms import field_error, native_select
from clawnet.ui.pages.wizard.spec import AGENT_ID_MAX_CHARS, LAUNCH_STEP, NAME_MAX_CHARS, PERSONA_EXAMPLES
from clawnet.ui.pages.wizard.state import WizardState
from clawnet.ui.pages.wizard.widgets import error_of, labelled
from clawnet.ui.session import current_principal
from clawnet.ui.typed import event

AVATAR_TYPES = {
    "image/png": [".png"],
    "image/jpeg": [".jpg", ".jpeg"],
    "image/gif": [".gif"],
    "image/webp": [".webp"],
}


class WizardBasics(WizardState):
    @event
    async def set_name(self, value: str) -> None:
        """The name; a new bot's id follows it until the person types an id of their own."""
        if self.step >= LAUNCH_STEP:
            return
        name = str(value).strip()[:NAME_MAX_CHARS]
        form = self._current()
        if name and not form.agent_id_touched and not self.edit_bot_id and name != form.name:
            try:
                agent_id = await runtime.bots().suggest_agent_id(await current_principal(self), name)
            except UserError:
                agent_id = form.agent_id
            self._update(name=name, agent_id=agent_id)
            self._clear_errors("name", "agent_id")
        else:
            self._update(name=name)
            self._clear_errors("name")

    @event
    def set_agent_id(self, value: str) -> None:
        if self.edit_bot_id or self.step >= LAUNCH_STEP:
            return  # the id is the bot's identity in its gateway: it never changes
        self._update(agent_id=str(value).strip().lower()[:AGENT_ID_MAX_CHARS], agent_id_touched=True)
        self._clear_errors("agent_id")

    @event
    def use_example(self, name: str) -> None:
        example = PERSONA_EXAMPLES.get(str(name))
        if example is not None and self.step < LAUNCH_STEP:
            self._update(persona=example)
            self.form_rev += 1  # the persona box shows the example

    @event
    async def upload_avatar(self, files: list[rx.UploadFile]) -> None:
        if not files:
            return
        data = await files[0].read(AVATAR_MAX_BYTES + 1)
        try:
            path = await runtime.bots().save_avatar(await current_principal(self), data)
        except UserError as exc:
            self.errors = {**self.errors, "avatar": str(exc)}
            return
        self._update(avatar_path=path)
        self.errors = {k: v for k, v in self.errors.items() if k != "avatar"}


def model_picker() -> rx.Component:
    return rx.vstack(
        labelled(
            "Model",
            native_select(
                "Model",
                WizardState.models,
                testid="wizard-model",
                value=WizardState.form.model,
                show_label=False,
                on_change=lambda v: WizardState.set_field("model", v),
            ),
            "wizard-model",
            "",
            "model_id",
        ),
        rx.foreach(
            WizardState.models,
            lambda m: rx.cond(
                m.value == WizardState.form.model,
                rx.text(m.description, size="1", color_scheme="gray", data_testid="wizard-model-description"),
            ),
        ),
        error_of("provider_id", "wizard-provider"),
        spacing="1",
        width="100%",
    )


def avatar_upload() -> rx.Component:
    return rx.vstack(
        rx.text("Avatar", weight="medium", size="2"),
        rx.upload(
            rx.button("Upload image", size="1", variant="soft", type="button"),
            id="wizard-avatar",
            accept=AVATAR_TYPES,
            max_files=1,
            on_drop=WizardBasics.upload_avatar(rx.upload_files(upload_id="wizard-avatar")),
            data_testid="wizard-avatar",
            border="none",
            padding="0",
        ),
        rx.cond(
            WizardState.form.avatar_path != "",
            rx.image(
                src=routes.media(WizardState.form.avatar_path),
                width="48px",
                height="48px",
                border_radius="50%",
                alt="Avatar preview",
                data_testid="wizard-avatar-preview",
            ),
        ),
        field_error(WizardState.errors.get("avatar", ""), "wizard-avatar"),
        spacing="1",
    )


def step_basics() -> rx.Component:
    return rx.vstack(
        labelled(
            "Name",
            rx.input(
                id="wizard-name",
                default_value=WizardState.form.name,
                max_length=NAME_MAX_CHARS,
                on_blur=WizardBasics.set_name,
                data_testid="wizard-name",
                placeholder="Support Bot",
            ),
            "wizard-name",
            "Shown to people who talk to the bot.",
            "name",
        ),
        labelled(
            "Bot id",
            rx.input(
                id="wizard-agent-id",
                value=WizardState.form.agent_id,
                max_length=AGENT_ID_MAX_CHARS,
                on_change=WizardBasics.set_agent_id,
                disabled=WizardState.edit_bot_id != 0,
                data_testid="wizard-agent-id",
            ),
            "wizard-agent-id",
            "Made from the name; lower-case letters, digits and dashes. It cannot change later.",
            "agent_id",
        ),
        model_picker(),
        labelled(
            "Persona",
            rx.text_area(
                id="wizard-persona",
                default_value=WizardState.form.persona,
                rows="6",
                on_blur=lambda v: WizardState.set_field("persona", v),
                data_testid="wizard-persona",
                placeholder="Who is this bot, and how should it talk?",
            ),
            "wizard-persona",
            "",
            "persona",
        ),
        rx.hstack(
            rx.text("Examples:", size="1"),
            *[
                rx.button(
                    name,
                    size="1",
                    variant="soft",
                    on_click=WizardBasics.use_example(name),
                    data_testid=f"wizard-example-{name.lower()}",
                )
                for name in PERSONA_EXAMPLES
            ],
            spacing="2",
            align="center",
        ),
        rx.hstack(
            labelled(
                "Emoji",
                rx.input(
                    id="wizard-emoji",
                    default_value=WizardState.form.emoji,
                    max_length=16,
                    width="5em",
                    on_blur=lambda v: WizardState.set_field("emoji", v),
                    data_testid="wizard-emoji",
                ),
                "wizard-emoji",
                "",
                "emoji",
            ),
            avatar_upload(),
            spacing="6",
            align="start",
        ),
        spacing="4",
        width="100%",
    )
