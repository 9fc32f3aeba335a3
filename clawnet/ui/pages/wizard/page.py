"""The wizard's page (`/bots/new`; `?edit=<id>` edits a bot, `?draft=<id>` resumes a draft):
the steps, the unfinished drafts, and the buttons that move between steps."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import routes
from clawnet.ui.components.layout import page_frame
from clawnet.ui.pages.wizard.access import step_access
from clawnet.ui.pages.wizard.advanced import step_advanced
from clawnet.ui.pages.wizard.basics import step_basics
from clawnet.ui.pages.wizard.channels import step_channels
from clawnet.ui.pages.wizard.review import WizardLaunch, step_launch, step_review
from clawnet.ui.pages.wizard.spec import LAUNCH_STEP, REVIEW_STEP, STEPS
from clawnet.ui.pages.wizard.state import WizardState
from clawnet.ui.session import SessionState


def stepper() -> rx.Component:
    return rx.hstack(
        *[
            rx.button(
                f"{i}. {name}",
                size="1",
                variant=rx.cond(WizardState.step == i, "solid", "soft"),
                on_click=WizardState.go(i),
                disabled=WizardState.step == LAUNCH_STEP,
                data_testid=f"wizard-step-{i}",
                aria_current=rx.cond(WizardState.step == i, "step", "false"),
            )
            for i, name in enumerate(STEPS, start=1)
        ],
        spacing="2",
        wrap="wrap",
        role="navigation",
        aria_label="Wizard steps",
    )


def draft_row(draft: Any) -> rx.Component:
    draft_id = draft.id.to_string()
    return rx.hstack(
        rx.link(
            draft.name + " (step " + draft.step.to_string() + ", saved " + draft.saved + ")",
            href=routes.resume_draft(draft.id),
            data_testid="wizard-draft-" + draft_id,
        ),
        rx.button(
            "Discard",
            size="1",
            variant="ghost",
            on_click=WizardState.discard_draft(draft.id),
            aria_label="Discard the draft " + draft.name,
            data_testid="wizard-draft-discard-" + draft_id,
        ),
        spacing="2",
    )


def drafts_box() -> rx.Component:
    return rx.cond(
        (WizardState.drafts.length() > 0)
        & (WizardState.draft_id == 0)
        & (WizardState.edit_bot_id == 0)
        & (WizardState.step == 1),
        rx.callout(
            rx.vstack(
                rx.text("You have unfinished bots:"),
                rx.foreach(WizardState.drafts, draft_row),
                spacing="1",
            ),
            icon="file_pen",
            data_testid="wizard-drafts",
        ),
    )


def step_buttons() -> rx.Component:
    return rx.hstack(
        rx.button(
            "Back",
            variant="soft",
            on_click=WizardState.step_by(-1),
            disabled=WizardState.step == 1,
            data_testid="wizard-back",
        ),
        rx.spacer(),
        rx.cond(
            WizardState.edit_bot_id == 0,
            rx.button(
                "Save draft", variant="soft", on_click=WizardState.save_draft, data_testid="wizard-save-draft"
            ),
        ),
        rx.cond(
            WizardState.step < REVIEW_STEP,
            rx.button("Next", on_click=WizardState.step_by(1), data_testid="wizard-next"),
            rx.button(
                rx.cond(WizardState.edit_bot_id != 0, "Apply changes", "Create bot"),
                color_scheme="green",
                on_click=WizardLaunch.launch,
                data_testid="wizard-launch",
            ),
        ),
        width="100%",
    )


def wizard_body() -> rx.Component:
    return rx.fragment(
        drafts_box(),
        stepper(),
        rx.card(
            rx.match(
                WizardState.step,
                (1, step_basics()),
                (2, step_channels()),
                (3, step_access()),
                (4, step_advanced()),
                (REVIEW_STEP, step_review()),
                step_launch(),
            ),
            # Inputs show what was loaded (a bot, a draft, an example persona) when it changes.
            key=WizardState.form_rev.to_string(),
            width="100%",
            data_testid="wizard-step-body",
        ),
        rx.cond(WizardState.step < LAUNCH_STEP, step_buttons()),
    )


@rx.page(
    route=routes.NEW_BOT,
    title="New bot · ClawNet",
    on_load=[SessionState.require_fleet, WizardState.on_load],
)
def wizard_page() -> rx.Component:
    return page_frame(
        rx.cond(WizardState.edit_bot_id != 0, "Edit bot", "New bot"),
        rx.cond(
            WizardState.load_error != "",
            rx.callout(
                WizardState.load_error,
                icon="circle_x",
                color_scheme="red",
                role="alert",
                data_testid="wizard-load-error",
            ),
            wizard_body(),
        ),
        testid="wizard-page",
    )
