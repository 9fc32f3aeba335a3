"""The Routing tab's rules: which messages go to this bot (OpenClaw bindings), listed in the
order OpenClaw applies them, edited in place and saved only once OpenClaw accepts them. The
tab's groups section is in `groups`."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import reflex as rx

from clawnet import runtime
from clawnet.bots.forms import BindingInput
from clawnet.bots.routing_rules import PEER_KINDS, TIERS, AccountChoice, RuleRow
from clawnet.errors import UserError
from clawnet.events import FleetEvent, Kind
from clawnet.security.permissions import Principal
from clawnet.ui.components.forms import field_error, native_select
from clawnet.ui.pages.bot_detail.groups import groups_section
from clawnet.ui.pages.bot_detail.state import BotDetailState, part
from clawnet.ui.session import current_principal, error_toast
from clawnet.ui.typed import Field, event, field

DRAFT_FIELDS = {"where": 200, "peer_kind": 16, "peer_id": 128, "guild_id": 64, "roles": 500, "team_id": 64}
NEW = -1  # `editing` when the form adds a rule


@part("routing")
class BotRoutingState(BotDetailState):
    rows: Field[list[RuleRow]] = field(default_factory=list)
    where: Field[list[AccountChoice]] = field(default_factory=list)
    incoming: Field[list[str]] = field(default_factory=list)
    draft: Field[dict[str, str]] = field(default_factory=dict)  # the rule form's fields
    draft_errors: Field[dict[str, str]] = field(default_factory=dict)
    editing: Field[int] = field(NEW)
    dirty: Field[bool] = field(False)
    saving: Field[bool] = field(False)
    status: Field[str] = field("")
    status_ok: Field[bool] = field(False)
    _rules: list[BindingInput] = []

    async def _load_part(self, actor: Principal | None) -> None:
        view = await runtime.bots().routing(actor, self.current_bot)
        self._rules = list(view.rules)
        self.where, self.incoming = view.where, view.incoming
        self.rows = await runtime.bots().describe_rules(actor, self.current_bot, self._rules)
        self.dirty, self.status, self.status_ok, self.draft_errors = False, "", False, {}
        self._new_draft()

    async def _follow_part(self, batch: list[FleetEvent], actor: Principal | None) -> None:
        if not self.dirty and not self.saving and any(e.kind == Kind.FLEET_CHANGED for e in batch):
            status, ok = self.status, self.status_ok
            # A live refresh must not wipe a rule the person is typing (or editing) in the form.
            draft, errors, editing = self.draft, self.draft_errors, self.editing
            was = self._rules[editing] if 0 <= editing < len(self._rules) else None
            await self._load_part(actor)
            self.status, self.status_ok = status, ok
            self.draft, self.draft_errors = draft, errors
            if was is not None and editing < len(self._rules) and self._rules[editing] == was:
                self.editing = editing

    def _new_draft(self) -> None:
        self.editing = NEW
        first = self.where[0].value if self.where else ""
        self.draft = {
            "where": first,
            "peer_kind": "direct",
            "peer_id": "",
            "guild_id": "",
            "roles": "",
            "team_id": "",
        }

    def _rule_of_draft(self) -> BindingInput:
        d = self.draft
        channel, _, account = str(d.get("where", "")).partition("|")
        return BindingInput(
            channel=channel,
            account_id=account,
            peer_kind=str(d.get("peer_kind", "")),
            peer_id=str(d.get("peer_id", "")).strip(),
            guild_id=str(d.get("guild_id", "")).strip(),
            team_id=str(d.get("team_id", "")).strip(),
            roles=[r.strip() for r in str(d.get("roles", "")).replace(",", " ").split() if r.strip()],
        )

    @event
    def set_draft(self, field: str, value: str) -> None:
        name = str(field)
        if name in DRAFT_FIELDS:
            self.draft = {**self.draft, name: str(value)[: DRAFT_FIELDS[name]]}
            self.draft_errors = {k: v for k, v in self.draft_errors.items() if k not in (name, "rule")}

    @event
    async def submit_draft(self, form: dict[str, Any]) -> Any:
        """Add the rule in the form (or put it in place of the one being edited), if it is right."""
        if not self.header.can_configure or not self.found:
            return None
        if isinstance(form, dict):  # what the form holds now (typing may outrun `set_draft`)
            typed = {k: str(form[k])[:limit] for k, limit in DRAFT_FIELDS.items() if k in form}
            self.draft = {**self.draft, **typed}
        rule = self._rule_of_draft()
        rules = list(self._rules)
        index = self.editing if 0 <= self.editing < len(rules) else len(rules)
        if index < len(rules):
            rule = replace(rule, priority=rules[index].priority)
            rules[index] = rule
        else:
            rules.append(rule)
        try:
            rows = await runtime.bots().describe_rules(await current_principal(self), self.current_bot, rules)
        except UserError as exc:
            return error_toast(exc)
        problems = next((r.error for r in rows if r.index == index), "")
        if problems:
            self.draft_errors = {"rule": problems}
            return None
        self._rules, self.rows, self.dirty, self.status = rules, rows, True, ""
        self.draft_errors = {}
        self._new_draft()
        return None

    @event
    def edit_rule(self, index: int) -> None:
        """Put rule `index` in the form."""
        try:
            i = int(index)
        except (TypeError, ValueError):
            return
        if not 0 <= i < len(self._rules) or not self.header.can_configure:
            return
        rule = self._rules[i]
        self.editing = i
        self.draft_errors = {}
        self.draft = {
            "where": f"{rule.channel}|{rule.account_id}",
            "peer_kind": rule.peer_kind,
            "peer_id": rule.peer_id,
            "guild_id": rule.guild_id,
            "roles": ", ".join(rule.roles),
            "team_id": rule.team_id,
        }

    @event
    def cancel_edit(self) -> None:
        self.draft_errors = {}
        self._new_draft()

    @event
    async def remove_rule(self, index: int) -> Any:
        try:
            i = int(index)
        except (TypeError, ValueError):
            return None
        if not 0 <= i < len(self._rules) or not self.header.can_configure:
            return None
        rules = [r for n, r in enumerate(self._rules) if n != i]
        try:
            self.rows = await runtime.bots().describe_rules(
                await current_principal(self), self.current_bot, rules
            )
        except UserError as exc:
            return error_toast(exc)
        self._rules, self.dirty, self.status = rules, True, ""
        if self.editing == i:
            self._new_draft()
        elif self.editing > i:
            self.editing -= 1
        return None

    @event
    async def discard(self) -> Any:
        try:
            await self._load_part(await current_principal(self))
        except UserError as exc:
            return error_toast(exc)
        return None

    @event(background=True)
    async def save(self) -> Any:
        """Ask OpenClaw about the rules, and save them if it accepts them."""
        async with self:
            if self.saving or not self.found:
                return None
            actor = await current_principal(self)
            bot_id, rules = self.current_bot, list(self._rules)
            self.saving, self.status, self.status_ok = True, "Asking OpenClaw…", False
        bots = runtime.bots()
        try:
            message = await bots.save_rules(actor, bot_id, rules)
            rows = await bots.describe_rules(actor, bot_id, rules)
        except UserError as exc:
            async with self:
                self.saving, self.status, self.status_ok = False, exc.message, False
                if exc.field_errors:
                    try:
                        self.rows = await bots.describe_rules(actor, bot_id, rules)
                    except UserError:
                        pass
                    self.rows = [
                        replace(r, error=_errors_of(exc.field_errors, r.index) or r.error) for r in self.rows
                    ]
            return None
        async with self:
            self.saving, self.dirty, self.rows = False, False, rows
            self.status, self.status_ok = message, True
        return None


def _errors_of(errors: dict[str, str], index: int) -> str:
    return " ".join(
        m for k, m in errors.items() if k == f"bindings.{index}" or k.startswith(f"bindings.{index}.")
    )


def precedence() -> rx.Component:
    return rx.vstack(
        rx.heading("How OpenClaw picks the bot for a message", size="3"),
        rx.text(
            "The most specific rule that matches wins, in this order (within one step, the rule "
            "listed first). Every field a rule gives must match.",
            size="2",
            color_scheme="gray",
        ),
        rx.el.ol(
            *[
                rx.el.li(rx.text.strong(f"{n}. {label}"), rx.text(" — " + text, as_="span", size="2"))
                for n, (label, text) in enumerate(TIERS, start=1)
            ],
            style={"listStyle": "none", "paddingLeft": "0.5em", "fontSize": "var(--font-size-2)"},
            data_testid="routing-tiers",
        ),
        spacing="2",
        width="100%",
    )


def rule_row(row: Any) -> rx.Component:
    s = BotRoutingState
    can = BotDetailState.header.can_configure
    return rx.table.row(
        rx.table.cell(rx.badge(row.tier.to_string() + ". " + row.tier_label, variant="soft")),
        rx.table.cell(
            rx.vstack(
                rx.text(row.summary, size="2", data_testid="routing-rule-summary"),
                rx.cond(row.note != "", rx.text(row.note, size="1", color_scheme="amber")),
                rx.cond(
                    row.error != "",
                    rx.text(
                        row.error,
                        size="1",
                        color_scheme="red",
                        role="alert",
                        data_testid="routing-rule-error",
                    ),
                ),
                spacing="1",
            )
        ),
        rx.table.cell(
            rx.cond(
                can,
                rx.hstack(
                    rx.button(
                        "Edit",
                        size="1",
                        variant="soft",
                        on_click=s.edit_rule(row.index),
                        aria_label="Edit the rule: " + row.summary,
                        data_testid="routing-rule-edit",
                    ),
                    rx.button(
                        "Remove",
                        size="1",
                        variant="soft",
                        color_scheme="red",
                        on_click=s.remove_rule(row.index),
                        aria_label="Remove the rule: " + row.summary,
                        data_testid="routing-rule-remove",
                    ),
                    spacing="2",
                ),
            )
        ),
        data_testid="routing-rule",
    )


def draft_input(label: str, name: str, placeholder: str, hint: str) -> rx.Component:
    s = BotRoutingState
    testid = "routing-" + name.replace("_", "-")
    return rx.vstack(
        rx.el.label(label, html_for=testid, style={"fontWeight": "500", "fontSize": "var(--font-size-2)"}),
        rx.input(
            id=testid,
            name=name,
            value=s.draft.get(name, ""),
            on_change=lambda v: s.set_draft(name, v),
            placeholder=placeholder,
            data_testid=testid,
            width="100%",
        ),
        rx.text(hint, size="1", color_scheme="gray"),
        spacing="1",
        width="100%",
    )


def rule_form() -> rx.Component:
    s = BotRoutingState
    fields = rx.grid(
        native_select(
            "Listen on",
            s.where.to(list[dict[str, str]]),
            testid="routing-where",
            name="where",
            value=s.draft.get("where", ""),
            on_change=lambda v: s.set_draft("where", v),
        ),
        native_select(
            "Conversation",
            PEER_KINDS,
            testid="routing-peer-kind",
            name="peer_kind",
            value=s.draft.get("peer_kind", ""),
            on_change=lambda v: s.set_draft("peer_kind", v),
        ),
        draft_input("Conversation id", "peer_id", "111111111", "A user, group or channel id; * for all."),
        draft_input("Discord server id", "guild_id", "123456789012345678", "Discord only (optional)."),
        draft_input("Discord role ids", "roles", "234567890123456789", "With a server; comma-separated."),
        draft_input("Slack workspace id", "team_id", "T0123ABCD", "Slack only (optional)."),
        columns="3",
        spacing="3",
        width="100%",
    )
    buttons = rx.hstack(
        rx.button(
            rx.cond(s.editing >= 0, "Update rule", "Add rule"), type="submit", data_testid="routing-add"
        ),
        rx.cond(
            s.editing >= 0,
            rx.button(
                "Cancel",
                type="button",
                variant="soft",
                color_scheme="gray",
                on_click=s.cancel_edit,
                data_testid="routing-cancel",
            ),
        ),
        spacing="2",
    )
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading(rx.cond(s.editing >= 0, "Change the rule", "Add a rule"), size="3"),
                fields,
                field_error(s.draft_errors.get("rule", ""), "routing-draft"),
                buttons,
                spacing="3",
                width="100%",
            ),
            on_submit=s.submit_draft,
        ),
        width="100%",
        data_testid="routing-form",
    )


def rules_section() -> rx.Component:
    s = BotRoutingState
    can = BotDetailState.header.can_configure
    return rx.vstack(
        rx.hstack(
            rx.heading("Routing rules", size="4"),
            rx.cond(s.dirty, rx.badge("Unsaved changes", color_scheme="amber", data_testid="routing-dirty")),
            spacing="3",
            align="center",
        ),
        rx.text(
            "Messages this bot's own channel accounts receive come to it. Rules send it other "
            "messages too (another bot's account, a Discord server, a Slack workspace), or pin "
            "one conversation to it.",
            size="2",
            color_scheme="gray",
        ),
        rx.cond(
            s.rows.length() == 0,
            rx.text("No rules.", color_scheme="gray", data_testid="routing-empty"),
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        rx.table.column_header_cell("Step"),
                        rx.table.column_header_cell("Rule"),
                        rx.table.column_header_cell(""),
                    )
                ),
                rx.table.body(rx.foreach(s.rows, rule_row)),
                width="100%",
                data_testid="routing-rules",
            ),
        ),
        rx.cond(
            s.incoming.length() > 0,
            rx.callout(
                rx.vstack(
                    rx.text("Other bots' rules that can take some of this bot's messages:", size="2"),
                    rx.foreach(s.incoming, lambda line: rx.text("• " + line, size="2")),
                    spacing="1",
                ),
                icon="info",
                data_testid="routing-incoming",
                width="100%",
            ),
        ),
        rx.cond(
            can,
            rx.vstack(
                rule_form(),
                rx.hstack(
                    rx.button(
                        "Save rules",
                        on_click=s.save,
                        loading=s.saving,
                        disabled=~s.dirty,
                        data_testid="routing-save",
                    ),
                    rx.button(
                        "Discard changes",
                        variant="soft",
                        color_scheme="gray",
                        on_click=s.discard,
                        disabled=~s.dirty,
                        data_testid="routing-discard",
                    ),
                    rx.text(
                        "OpenClaw checks the rules before they are saved.", size="1", color_scheme="gray"
                    ),
                    spacing="3",
                    align="center",
                ),
                width="100%",
                spacing="3",
            ),
        ),
        rx.cond(
            s.status != "",
            rx.callout(
                s.status,
                color_scheme=rx.cond(s.status_ok, "green", rx.cond(s.saving, "blue", "red")),
                role="status",
                data_testid="routing-status",
                width="100%",
            ),
        ),
        spacing="3",
        width="100%",
    )


def routing_tab() -> rx.Component:
    return rx.vstack(
        rules_section(),
        rx.divider(),
        groups_section(),
        rx.divider(),
        precedence(),
        spacing="5",
        width="100%",
        align="start",
    )
