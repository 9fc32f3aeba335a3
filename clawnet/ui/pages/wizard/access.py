"""Step 3, access: per chosen channel, who may message the bot directly (with an allowlist),
whether it joins groups (any, only the listed ones, none), whether it needs a mention there, and
per listed group (ids in the channel's own format) its own mention setting."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet.bots.routing_rules import GROUP_ID_PLACEHOLDERS
from clawnet.bots.validation import GROUP_WORD, allow_entry_problem, group_id_problem
from clawnet.enums import ChannelType
from clawnet.ui.components.forms import native_select
from clawnet.ui.pages.wizard.spec import (
    ALLOW_ENTRY_MAX_CHARS,
    ALLOW_MAX_ENTRIES,
    ALLOW_PLACEHOLDERS,
    CHANNEL_INFO,
    LAUNCH_STEP,
    LIST_FIELDS,
    MENTIONS,
    POLICY_FIELDS,
)
from clawnet.ui.pages.wizard.state import WizardState
from clawnet.ui.pages.wizard.widgets import error_of
from clawnet.ui.typed import event


def entry_problem(list_name: str, ctype: str, entry: str) -> str | None:
    """What is wrong with an allowlist entry (people for "allow", group ids for "group")."""
    if list_name == "allow":
        return allow_entry_problem(ChannelType(ctype), entry)
    return group_id_problem(ChannelType(ctype), entry)


class WizardAccess(WizardState):
    def _editable(self, ctype: str) -> bool:
        return ctype in CHANNEL_INFO and self.step < LAUNCH_STEP

    @event
    def set_policy(self, kind: str, ctype: str, value: str) -> None:
        """One of a channel's choices: `kind` is "dm", "group" or "mention"."""
        spec, ctype, value = POLICY_FIELDS.get(str(kind)), str(ctype), str(value)
        if spec is None or not self._editable(ctype) or value not in {v for v, _ in spec[1]}:
            return
        form = self._current()
        self._update(**{spec[0]: {**getattr(form, spec[0]), ctype: value}})
        error_field = "mention_policy" if kind == "mention" else spec[0]
        self._clear_errors(f"channels.{ctype}.{error_field}")
        self._refresh_warnings()

    def _set_list(self, list_name: str, ctype: str, entries: list[str]) -> None:
        form_field, error_field = LIST_FIELDS[list_name]
        self._update(**{form_field: {**getattr(self._current(), form_field), ctype: entries}})
        self._clear_errors(f"channels.{ctype}.{error_field}")

    @event
    def add_chip(self, list_name: str, ctype: str, form: dict[str, Any]) -> None:
        """Add the entry typed into a channel's allowlist ("allow") or group allowlist ("group")."""
        list_name, ctype = str(list_name), str(ctype)
        entry = str(form.get("entry", "") if isinstance(form, dict) else "").strip()
        if list_name not in LIST_FIELDS or not self._editable(ctype) or not entry:
            return
        key = f"{list_name}.{ctype}"
        problem = (
            f"Use at most {ALLOW_ENTRY_MAX_CHARS} characters."
            if len(entry) > ALLOW_ENTRY_MAX_CHARS
            else entry_problem(list_name, ctype, entry)
        )
        current = list(getattr(self._current(), LIST_FIELDS[list_name][0]).get(ctype, []))
        if problem is None and len(current) >= ALLOW_MAX_ENTRIES and entry not in current:
            problem = f"At most {ALLOW_MAX_ENTRIES} entries."
        self.chip_errors = {**self.chip_errors, key: problem or ""}
        if problem is None and entry not in current:
            self._set_list(list_name, ctype, [*current, entry])

    @event
    def remove_chip(self, list_name: str, ctype: str, value: str) -> None:
        list_name, ctype = str(list_name), str(ctype)
        if list_name in LIST_FIELDS and self._editable(ctype):
            current = getattr(self._current(), LIST_FIELDS[list_name][0]).get(ctype, [])
            self._set_list(list_name, ctype, [v for v in current if v != value])
            if list_name == "group":
                self._set_group_mentions(
                    ctype, {g: m for g, m in self._group_mentions(ctype).items() if g != value}
                )

    def _group_mentions(self, ctype: str) -> dict[str, str]:
        return dict(self._current().group_mention.get(ctype, {}))

    def _set_group_mentions(self, ctype: str, mentions: dict[str, str]) -> None:
        self._update(group_mention={**self._current().group_mention, ctype: mentions})
        self._clear_errors(f"channels.{ctype}.group_mentions")

    @event
    def set_group_mention(self, ctype: str, group: str, value: str) -> None:
        """Whether the bot needs a mention in one listed group ("mention" or "always")."""
        ctype, group, value = str(ctype), str(group), str(value)
        listed = self._current().group_allow.get(ctype, [])
        if self._editable(ctype) and group in listed and value in {v for v, _ in MENTIONS}:
            self._set_group_mentions(ctype, {**self._group_mentions(ctype), group: value})


def group_chip(ctype: str, group: Any) -> rx.Component:
    """A listed group, with whether the bot needs a mention there."""
    form = WizardState.form
    default = form.mention.get(ctype, "mention")
    return rx.hstack(
        rx.badge(group, variant="surface", data_testid=f"wizard-group-{ctype}-chip"),
        native_select(
            "Answer in " + group,
            MENTIONS,
            testid=f"wizard-group-{ctype}-mention",
            value=form.group_mention.get(ctype, {}).to(dict[str, str]).get(group, default),
            on_change=lambda v: WizardAccess.set_group_mention(ctype, group, v),
            show_label=False,
        ),
        rx.icon_button(
            rx.icon("x", size=12),
            size="1",
            variant="ghost",
            type="button",
            on_click=WizardAccess.remove_chip("group", ctype, group),
            aria_label="Remove " + group,
            data_testid=f"wizard-group-{ctype}-remove",
        ),
        spacing="2",
        align="center",
    )


def chips(list_name: str, ctype: str) -> rx.Component:
    """The entries of a list: people as removable chips; groups each with its mention setting."""
    form_field = LIST_FIELDS[list_name][0]
    testid = f"wizard-{list_name}-{ctype}"
    entries = getattr(WizardState.form, form_field).get(ctype, []).to(list[str])
    if list_name == "group":
        return rx.vstack(
            rx.foreach(entries, lambda v: group_chip(ctype, v)), spacing="1", data_testid=testid + "-chips"
        )
    return rx.hstack(
        rx.foreach(
            entries,
            lambda v: rx.badge(
                v,
                rx.icon_button(
                    rx.icon("x", size=12),
                    size="1",
                    variant="ghost",
                    type="button",
                    on_click=WizardAccess.remove_chip(list_name, ctype, v),
                    aria_label="Remove " + v,
                    data_testid=testid + "-remove",
                ),
                variant="surface",
                data_testid=testid + "-chip",
            ),
        ),
        spacing="2",
        wrap="wrap",
        data_testid=testid + "-chips",
    )


def chip_list(list_name: str, ctype: str, label: str, placeholder: str) -> rx.Component:
    error_field = LIST_FIELDS[list_name][1]
    testid = f"wizard-{list_name}-{ctype}"
    # "wizard-group-<type>" is the group policy's select: the group allowlist's input is "-input".
    input_id = testid if list_name == "allow" else testid + "-input"
    return rx.vstack(
        rx.el.label(label, html_for=input_id, style={"fontWeight": "500", "fontSize": "var(--font-size-2)"}),
        chips(list_name, ctype),
        rx.form(
            rx.hstack(
                rx.input(name="entry", placeholder=placeholder, id=input_id, data_testid=input_id),
                rx.button("Add", type="submit", size="1", variant="soft", data_testid=testid + "-add"),
                spacing="2",
            ),
            on_submit=lambda form: WizardAccess.add_chip(list_name, ctype, form),
            reset_on_submit=True,
        ),
        rx.cond(
            WizardState.chip_errors.get(f"{list_name}.{ctype}", "") != "",
            rx.text(
                WizardState.chip_errors.get(f"{list_name}.{ctype}", ""),
                color_scheme="red",
                size="1",
                role="alert",
                data_testid=testid + "-error",
            ),
        ),
        error_of(f"channels.{ctype}.{error_field}", testid + "-field"),
        spacing="1",
        width="100%",
    )


def policy_select(label: str, kind: str, ctype: str) -> rx.Component:
    form_field, options = POLICY_FIELDS[kind]
    testid = f"wizard-{kind}-{ctype}"
    return rx.vstack(
        native_select(
            label,
            options,
            testid=testid,
            value=getattr(WizardState.form, form_field).get(ctype, ""),
            on_change=lambda v: WizardAccess.set_policy(kind, ctype, v),
        ),
        error_of(f"channels.{ctype}.{'mention_policy' if kind == 'mention' else form_field}", testid),
        spacing="1",
        width="100%",
    )


def access_section(ctype: str) -> rx.Component:
    form = WizardState.form
    word = GROUP_WORD.get(ChannelType(ctype), "group")
    return rx.card(
        rx.vstack(
            rx.heading(CHANNEL_INFO[ctype][0], size="3"),
            policy_select("Direct messages", "dm", ctype),
            rx.cond(
                form.dm_policy.get(ctype, "") == "allowlist",
                chip_list("allow", ctype, "Who may message the bot", ALLOW_PLACEHOLDERS[ctype]),
            ),
            policy_select("Groups", "group", ctype),
            policy_select("In groups, answer", "mention", ctype),
            rx.cond(
                form.group_policy.get(ctype, "") == "allowlist",
                chip_list("group", ctype, f"Which {word}s", GROUP_ID_PLACEHOLDERS[ChannelType(ctype)]),
            ),
            rx.cond(
                form.group_policy.get(ctype, "") == "open",
                chip_list(
                    "group",
                    ctype,
                    f"{word.capitalize()}s with their own setting (optional)",
                    GROUP_ID_PLACEHOLDERS[ChannelType(ctype)],
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        data_testid=f"wizard-access-{ctype}",
    )


def step_access() -> rx.Component:
    return rx.vstack(
        rx.cond(
            WizardState.form.channels.length() == 0,
            rx.callout("No channels chosen: only the dashboard chat can reach this bot.", icon="info"),
        ),
        *[rx.cond(WizardState.form.channels.contains(c), access_section(c)) for c in CHANNEL_INFO],
        spacing="4",
        width="100%",
    )
