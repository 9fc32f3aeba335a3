"""The Routing tab's groups section: per channel, whether the bot joins groups (any, only the
listed ones, none), whether it needs a mention there, and per listed group its own mention
setting. Group ids are checked in the channel's own format as they are added; OpenClaw checks
the whole before it is saved."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import reflex as rx

from clawnet import runtime
from clawnet.bots.routing_rules import GROUP_ID_PLACEHOLDERS, ChannelGroups, GroupRow
from clawnet.bots.validation import CHANNEL_NAMES, GROUP_ID_FORMATS, GROUP_WORD, group_id_problem
from clawnet.enums import ChannelType, GroupPolicy
from clawnet.errors import UserError
from clawnet.events import FleetEvent, Kind
from clawnet.security.permissions import Principal
from clawnet.ui.components.forms import field_error, native_select
from clawnet.ui.pages.bot_detail.state import BotDetailState, part
from clawnet.ui.session import current_principal, error_toast
from clawnet.ui.typed import Field, event, field

GROUP_POLICIES = [
    ("disabled", "Not in groups"),
    ("allowlist", "Only the groups listed below"),
    ("open", "Any group it is added to"),
]
MENTIONS = [("mention", "Only when mentioned"), ("always", "Every message")]
POLICY_VALUES = frozenset(v for v, _ in GROUP_POLICIES)
MENTION_VALUES = frozenset(v for v, _ in MENTIONS)
GROUP_ID_MAX_CHARS = 120
MAX_GROUPS = 200


@part("routing")
class BotGroupsState(BotDetailState):
    channels: Field[list[ChannelGroups]] = field(default_factory=list)
    errors: Field[dict[str, str]] = field(default_factory=dict)  # "<ctype>" or "<ctype>.add" -> message
    statuses: Field[dict[str, str]] = field(default_factory=dict)  # ctype -> what the last save said
    changed: Field[list[str]] = field(default_factory=list)  # channels with unsaved changes
    saving_channel: Field[str] = field("")

    @rx.var
    def by_type(self) -> dict[str, ChannelGroups]:
        return {c.type: c for c in self.channels}

    @rx.var
    def present(self) -> list[str]:
        return [c.type for c in self.channels]

    async def _load_part(self, actor: Principal | None) -> None:
        view = await runtime.bots().routing(actor, self.current_bot)
        self.channels = view.groups
        self.errors, self.statuses, self.changed = {}, {}, []

    async def _follow_part(self, batch: list[FleetEvent], actor: Principal | None) -> None:
        if not self.changed and not self.saving_channel and any(e.kind == Kind.FLEET_CHANGED for e in batch):
            statuses = dict(self.statuses)
            await self._load_part(actor)
            self.statuses = statuses

    def _edit(self, ctype: str, **changes: Any) -> None:
        if not self.header.can_configure:
            return
        self.channels = [replace(c, **changes) if c.type == ctype else c for c in self.channels]
        if ctype not in self.changed:
            self.changed = [*self.changed, ctype]
        self.statuses = {k: v for k, v in self.statuses.items() if k != ctype}

    def _channel(self, ctype: str) -> ChannelGroups | None:
        return next((c for c in self.channels if c.type == str(ctype)), None)

    @event
    def set_policy(self, ctype: str, value: str) -> None:
        if self._channel(ctype) is not None and str(value) in POLICY_VALUES:
            self._edit(str(ctype), policy=str(value))

    @event
    def set_mention(self, ctype: str, value: str) -> None:
        """The mention setting of the channel's other groups."""
        if self._channel(ctype) is not None and str(value) in MENTION_VALUES:
            self._edit(str(ctype), mention=str(value))

    @event
    def set_group_mention(self, ctype: str, group: str, value: str) -> None:
        channel = self._channel(ctype)
        if channel is not None and str(value) in MENTION_VALUES:
            groups = [replace(g, mention=str(value)) if g.id == str(group) else g for g in channel.groups]
            self._edit(channel.type, groups=groups)

    @event
    def remove_group(self, ctype: str, group: str) -> None:
        channel = self._channel(ctype)
        if channel is not None:
            self._edit(channel.type, groups=[g for g in channel.groups if g.id != str(group)])

    @event
    def add_group(self, ctype: str, form: dict[str, Any]) -> None:
        channel = self._channel(ctype)
        if channel is None or not self.header.can_configure:
            return
        entry = str(form.get("id", "") if isinstance(form, dict) else "").strip()
        mention = str(form.get("mention", "") if isinstance(form, dict) else "")
        key = f"{channel.type}.add"
        if not entry:
            self.errors = {**self.errors, key: f"Type the {channel.word} id first."}
            return
        problem = (
            f"Use at most {GROUP_ID_MAX_CHARS} characters."
            if len(entry) > GROUP_ID_MAX_CHARS
            else group_id_problem(ChannelType(channel.type), entry)
        )
        if problem is None and any(g.id == entry for g in channel.groups):
            problem = f"{entry} is already listed."
        if problem is None and len(channel.groups) >= MAX_GROUPS:
            problem = f"At most {MAX_GROUPS} {channel.word}s."
        self.errors = {k: v for k, v in self.errors.items() if k not in (key, channel.type)}
        if problem:
            self.errors = {**self.errors, key: problem}
            return
        self._edit(
            channel.type,
            groups=[
                *channel.groups,
                GroupRow(entry, mention if mention in MENTION_VALUES else channel.mention),
            ],
        )

    @event
    async def discard(self, ctype: str) -> Any:
        try:
            view = await runtime.bots().routing(await current_principal(self), self.current_bot)
        except UserError as exc:
            return error_toast(exc)
        stored = next((c for c in view.groups if c.type == str(ctype)), None)
        if stored is not None:
            self.channels = [stored if c.type == stored.type else c for c in self.channels]
            self.changed = [c for c in self.changed if c != stored.type]
            self.errors = {k: v for k, v in self.errors.items() if not k.startswith(stored.type)}
        return None

    @event(background=True)
    async def save(self, ctype: str) -> None:
        """Ask OpenClaw about the channel's group settings, and save them if it accepts them."""
        async with self:
            channel = self._channel(ctype)
            if channel is None or self.saving_channel:
                return
            actor = await current_principal(self)
            bot_id = self.current_bot
            self.saving_channel = channel.type
            self.statuses = {**self.statuses, channel.type: "Asking OpenClaw…"}
            self.errors = {k: v for k, v in self.errors.items() if k != channel.type}
        try:
            message = await runtime.bots().save_groups(
                actor,
                bot_id,
                channel.type,
                policy=channel.policy,
                mention=channel.mention,
                groups=list(channel.groups),
            )
        except UserError as exc:
            problem = " ".join(exc.field_errors.values()) or exc.message
            async with self:
                self.saving_channel = ""
                self.statuses = {k: v for k, v in self.statuses.items() if k != channel.type}
                self.errors = {**self.errors, channel.type: problem}
            return
        async with self:
            self.saving_channel = ""
            self.changed = [c for c in self.changed if c != channel.type]
            self.statuses = {**self.statuses, channel.type: message}


def group_item(ctype: str, group: Any) -> rx.Component:
    s = BotGroupsState
    can = BotDetailState.header.can_configure
    return rx.hstack(
        rx.code(group.id, data_testid="groups-item-id"),
        native_select(
            "Answer in " + group.id,
            MENTIONS,
            testid="groups-item-mention",
            value=group.mention,
            on_change=lambda v: s.set_group_mention(ctype, group.id, v),
            show_label=False,
            disabled=~can,
        ),
        rx.cond(
            can,
            rx.icon_button(
                rx.icon("x", size=14),
                size="1",
                variant="ghost",
                on_click=s.remove_group(ctype, group.id),
                aria_label="Remove " + group.id,
                data_testid="groups-item-remove",
            ),
        ),
        spacing="3",
        align="center",
        data_testid="groups-item-" + ctype,
    )


def add_form(ctype: str) -> rx.Component:
    s = BotGroupsState
    word = GROUP_WORD.get(ChannelType(ctype), "group")
    return rx.form(
        rx.hstack(
            rx.input(
                name="id",
                placeholder=GROUP_ID_PLACEHOLDERS[ChannelType(ctype)],
                aria_label=f"New {word} id",
                data_testid="groups-add-id-" + ctype,
                width="22em",
            ),
            native_select(
                f"Answer in the new {word}",
                MENTIONS,
                testid="groups-add-mention-" + ctype,
                name="mention",
                show_label=False,
            ),
            rx.button("Add", type="submit", size="2", variant="soft", data_testid="groups-add-" + ctype),
            spacing="2",
            align="center",
        ),
        on_submit=lambda form: s.add_group(ctype, form),
        reset_on_submit=True,
    )


def channel_card(ctype: str) -> rx.Component:
    """One channel's groups (`ctype` is known when the page is built: Reflex cannot give a
    form's submit handler the item of a `foreach`)."""
    s = BotGroupsState
    can = BotDetailState.header.can_configure
    channel: Any = s.by_type[ctype]
    word = GROUP_WORD.get(ChannelType(ctype), "group")
    listed = rx.vstack(
        rx.text(
            rx.cond(
                channel.policy == GroupPolicy.ALLOWLIST.value,
                f"The only {word}s it answers in:",
                f"{word.capitalize()}s with their own setting (optional):",
            ),
            size="2",
            weight="medium",
        ),
        rx.cond(
            channel.groups.length() == 0,
            rx.text("None listed.", size="2", color_scheme="gray", data_testid="groups-none-" + ctype),
        ),
        rx.foreach(channel.groups.to(list[GroupRow]), lambda g: group_item(ctype, g)),
        rx.cond(can, add_form(ctype)),
        rx.text(GROUP_ID_FORMATS[ChannelType(ctype)][1], size="1", color_scheme="gray"),
        field_error(s.errors.get(ctype + ".add", ""), "groups-add-" + ctype),
        spacing="2",
        width="100%",
    )
    actions = rx.hstack(
        rx.button(
            "Save groups",
            on_click=s.save(ctype),
            loading=s.saving_channel == ctype,
            disabled=~s.changed.contains(ctype),
            data_testid="groups-save-" + ctype,
        ),
        rx.button(
            "Discard changes",
            variant="soft",
            color_scheme="gray",
            on_click=s.discard(ctype),
            disabled=~s.changed.contains(ctype),
            data_testid="groups-discard-" + ctype,
        ),
        spacing="3",
    )
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(CHANNEL_NAMES[ChannelType(ctype)], size="3"),
                rx.cond(
                    s.changed.contains(ctype),
                    rx.badge("Unsaved changes", color_scheme="amber", data_testid="groups-dirty-" + ctype),
                ),
                spacing="3",
                align="center",
            ),
            rx.hstack(
                native_select(
                    "Groups",
                    GROUP_POLICIES,
                    testid="groups-policy-" + ctype,
                    value=channel.policy,
                    on_change=lambda v: s.set_policy(ctype, v),
                    disabled=~can,
                ),
                native_select(
                    f"In other {word}s, answer",
                    MENTIONS,
                    testid="groups-mention-" + ctype,
                    value=channel.mention,
                    on_change=lambda v: s.set_mention(ctype, v),
                    disabled=~can,
                ),
                spacing="4",
                wrap="wrap",
            ),
            rx.cond(channel.policy != GroupPolicy.DISABLED.value, listed),
            rx.cond(can, actions),
            field_error(s.errors.get(ctype, ""), "groups-" + ctype),
            rx.cond(
                s.statuses.get(ctype, "") != "",
                rx.text(
                    s.statuses.get(ctype, ""), size="2", role="status", data_testid="groups-status-" + ctype
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        data_testid="groups-" + ctype,
    )


def groups_section() -> rx.Component:
    s = BotGroupsState
    return rx.vstack(
        rx.heading("Groups", size="4"),
        rx.text(
            "Whether the bot answers in groups (Discord servers, Slack channels), in which ones, "
            "and whether it needs a mention there.",
            size="2",
            color_scheme="gray",
        ),
        rx.cond(
            s.channels.length() == 0,
            rx.text("The bot has no channels.", color_scheme="gray", data_testid="groups-empty"),
        ),
        *[rx.cond(s.present.contains(c.value), channel_card(c.value)) for c in ChannelType],
        spacing="3",
        width="100%",
    )
