"""What a person submits to create or change a bot.

`BotInput` is everything a bot is made of (what the service saves, what an import produces).
`BotForm` is the setup wizard's form: the part of a bot the wizard shows, with its defaults
written once, and no secret in it (channel credentials travel beside it, server-side only).
Editing goes through `apply_form_changes`: only what the person changed in the form reaches the
bot; everything the form does not show (routing bindings, denied tools, a disabled channel...)
stays as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from clawnet.controlplane.openclaw_config import CHANNEL_CREDENTIAL_FIELDS
from clawnet.enums import ChannelType, DmPolicy, GroupPolicy, MentionPolicy, Placement
from clawnet.security.sanitize import clean_text

CHANNEL_TYPES = tuple(c.value for c in ChannelType)


@dataclass
class ChannelInput:
    type: str
    credentials: dict[str, str] = field(default_factory=dict)  # empty values: keep the stored ones
    dm_policy: str = DmPolicy.PAIRING.value
    allow_from: list[str] = field(default_factory=list)
    group_policy: str = GroupPolicy.DISABLED.value
    group_allow_from: list[str] = field(default_factory=list)
    mention_policy: str = MentionPolicy.MENTION.value
    enabled: bool = True
    group_mentions: dict[str, str] = field(default_factory=dict)  # listed group id -> mention policy


@dataclass
class BindingInput:
    """A routing rule: messages on `channel` matching every field given go to the bot.
    `account_id` "" is the bot's own account on that channel, "*" any account."""

    channel: str
    peer_kind: str = ""
    peer_id: str = ""
    guild_id: str = ""
    team_id: str = ""
    priority: int = 0
    account_id: str = ""
    roles: list[str] = field(default_factory=list)


@dataclass
class BotInput:
    name: str
    provider_id: int | None
    model_id: str
    agent_id: str = ""  # derived from the name when empty
    persona: str = ""
    emoji: str = ""
    avatar_path: str = ""
    placement: str = Placement.POOLED.value
    session_scope: str = "per-sender"
    dm_scope: str = "per-channel-peer"
    reset_mode: str = "idle"
    reset_at_hour: int = 4
    reset_idle_minutes: int = 120
    tools_profile: str = "messaging"
    tools_allow: list[str] = field(default_factory=list)
    tools_deny: list[str] = field(default_factory=list)
    exec_approval: bool = False  # the exec tool asks a person (the approvals inbox) first
    channels: list[ChannelInput] = field(default_factory=list)
    bindings: list[BindingInput] = field(default_factory=list)
    start: bool = True
    # Host the bot on an adopted remote gateway; None: this machine (an update with None moves a
    # bot that runs on a remote gateway back here).
    remote_gateway_id: int | None = None

    def __post_init__(self) -> None:
        self.name, self.persona, self.emoji = (
            clean_text(self.name),
            clean_text(self.persona),
            clean_text(self.emoji),
        )


@dataclass
class BotForm:
    """The wizard's form. Per-channel settings are keyed by channel type."""

    name: str = ""
    agent_id: str = ""
    agent_id_touched: bool = False
    persona: str = ""
    emoji: str = "🤖"
    avatar_path: str = ""
    model: str = ""  # "<provider id>|<model id>", the model picker's value
    channels: list[str] = field(default_factory=list)
    dm_policy: dict[str, str] = field(default_factory=dict)
    allow: dict[str, list[str]] = field(default_factory=dict)
    group_policy: dict[str, str] = field(default_factory=dict)
    group_allow: dict[str, list[str]] = field(default_factory=dict)
    mention: dict[str, str] = field(default_factory=dict)
    group_mention: dict[str, dict[str, str]] = field(default_factory=dict)  # per channel, per group
    session_scope: str = "per-sender"
    dm_scope: str = "per-channel-peer"
    reset_mode: str = "idle"
    reset_at_hour: str = "4"
    reset_idle_minutes: str = "120"
    tools_profile: str = "messaging"
    tools_allow: list[str] = field(default_factory=list)
    exec_approval: bool = False
    placement: str = Placement.POOLED.value

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> BotForm:
        """A form from stored data (a draft), ignoring what it does not know."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def to_data(self) -> dict[str, Any]:
        return {f.name: _copy(getattr(self, f.name)) for f in fields(self)}

    def with_channel(self, ctype: str, chosen: bool) -> BotForm:
        """The form with channel `ctype` added (with the default policies) or removed."""
        if ctype not in CHANNEL_TYPES:
            return self
        channels = [c for c in self.channels if c != ctype] + ([ctype] if chosen else [])
        form = replace(self, channels=[c for c in CHANNEL_TYPES if c in channels])
        if chosen:
            form.dm_policy = {**self.dm_policy}
            form.dm_policy.setdefault(ctype, DmPolicy.PAIRING.value)
            form.group_policy = {**self.group_policy}
            form.group_policy.setdefault(ctype, GroupPolicy.DISABLED.value)
            form.mention = {**self.mention}
            form.mention.setdefault(ctype, MentionPolicy.MENTION.value)
        return form

    @property
    def provider_id(self) -> int | None:
        provider, _, _ = self.model.partition("|")
        return int(provider) if provider.isdigit() else None

    @property
    def model_id(self) -> str:
        return self.model.partition("|")[2]

    @property
    def remote_gateway_id(self) -> int | None:
        """The remote gateway chosen as placement (`remote:<id>`), or None for this machine."""
        kind, _, gateway = self.placement.partition(":")
        return int(gateway) if kind == "remote" and gateway.isdigit() else None

    def channel_input(self, ctype: str, credentials: dict[str, str]) -> ChannelInput:
        return ChannelInput(
            type=ctype,
            credentials=credentials,
            dm_policy=self.dm_policy.get(ctype, DmPolicy.PAIRING.value),
            allow_from=list(self.allow.get(ctype, [])),
            group_policy=self.group_policy.get(ctype, GroupPolicy.DISABLED.value),
            group_allow_from=list(self.group_allow.get(ctype, [])),
            mention_policy=self.mention.get(ctype, MentionPolicy.MENTION.value),
            group_mentions=dict(self.group_mention.get(ctype, {})),
        )

    def to_input(self, creds: dict[str, str]) -> BotInput:
        """A whole new bot from the form; `creds` maps "<channel>.<field>" to a typed secret."""
        return BotInput(
            name=self.name,
            provider_id=self.provider_id,
            model_id=self.model_id,
            agent_id=self.agent_id,
            persona=self.persona,
            emoji=self.emoji,
            avatar_path=self.avatar_path,
            placement=Placement.POOLED.value if self.remote_gateway_id is not None else self.placement,
            remote_gateway_id=self.remote_gateway_id,
            session_scope=self.session_scope,
            dm_scope=self.dm_scope,
            reset_mode=self.reset_mode,
            reset_at_hour=_int(self.reset_at_hour, -1),
            reset_idle_minutes=_int(self.reset_idle_minutes, 0),
            tools_profile=self.tools_profile,
            tools_allow=list(self.tools_allow),
            exec_approval=bool(self.exec_approval),
            channels=[self.channel_input(c, channel_creds(creds, c)) for c in self.channels],
        )


def form_of(inp: BotInput) -> BotForm:
    """The wizard's view of a saved bot (credentials are never part of it)."""
    return BotForm(
        name=inp.name,
        agent_id=inp.agent_id,
        agent_id_touched=True,
        persona=inp.persona,
        emoji=inp.emoji,
        avatar_path=inp.avatar_path,
        model=f"{inp.provider_id}|{inp.model_id}" if inp.provider_id is not None else "",
        channels=[c.type for c in inp.channels],
        dm_policy={c.type: c.dm_policy for c in inp.channels},
        allow={c.type: list(c.allow_from) for c in inp.channels},
        group_policy={c.type: c.group_policy for c in inp.channels},
        group_allow={c.type: list(c.group_allow_from) for c in inp.channels},
        mention={c.type: c.mention_policy for c in inp.channels},
        group_mention={c.type: dict(c.group_mentions) for c in inp.channels},
        session_scope=inp.session_scope,
        dm_scope=inp.dm_scope,
        reset_mode=inp.reset_mode,
        reset_at_hour=str(inp.reset_at_hour),
        reset_idle_minutes=str(inp.reset_idle_minutes),
        tools_profile=inp.tools_profile,
        tools_allow=list(inp.tools_allow),
        exec_approval=inp.exec_approval,
        placement=f"remote:{inp.remote_gateway_id}" if inp.remote_gateway_id is not None else inp.placement,
    )


def channel_creds(creds: dict[str, str], ctype: str) -> dict[str, str]:
    """The typed credentials of one channel, by field name (fields left empty: keep stored)."""
    try:
        names = CHANNEL_CREDENTIAL_FIELDS[ChannelType(ctype)]
    except ValueError:
        return {}
    return {name: creds.get(f"{ctype}.{name}", "") for name in names}


_SIMPLE = {
    "name": "name",
    "agent_id": "agent_id",
    "persona": "persona",
    "emoji": "emoji",
    "avatar_path": "avatar_path",
    "session_scope": "session_scope",
    "dm_scope": "dm_scope",
    "reset_mode": "reset_mode",
    "tools_profile": "tools_profile",
    "tools_allow": "tools_allow",
    "exec_approval": "exec_approval",
}
_CHANNEL_FIELDS = {
    "dm_policy": "dm_policy",
    "allow": "allow_from",
    "group_policy": "group_policy",
    "group_allow": "group_allow_from",
    "mention": "mention_policy",
    "group_mention": "group_mentions",
}


def apply_form_changes(current: BotInput, base: BotForm, form: BotForm, creds: dict[str, str]) -> BotInput:
    """`current` (the bot as stored) with exactly what changed between `base` (the form as it
    was loaded) and `form` (as submitted): nothing the person did not touch is rewritten."""
    merged = replace(
        current,
        channels=[replace(c, credentials={}) for c in current.channels],
        bindings=list(current.bindings),
        tools_allow=list(current.tools_allow),
        tools_deny=list(current.tools_deny),
    )
    for form_field, input_field in _SIMPLE.items():
        if getattr(form, form_field) != getattr(base, form_field):
            setattr(merged, input_field, _copy(getattr(form, form_field)))
    if form.model != base.model:
        merged.provider_id, merged.model_id = form.provider_id, form.model_id
    if form.placement != base.placement:  # "remote:<id>" names a remote gateway
        merged.remote_gateway_id = form.remote_gateway_id
        merged.placement = Placement.POOLED.value if form.remote_gateway_id is not None else form.placement
    if form.reset_at_hour != base.reset_at_hour:
        merged.reset_at_hour = _int(form.reset_at_hour, -1)
    if form.reset_idle_minutes != base.reset_idle_minutes:
        merged.reset_idle_minutes = _int(form.reset_idle_minutes, 0)
    by_type = {c.type: c for c in merged.channels}
    for ctype in [c for c in base.channels if c not in form.channels]:
        by_type.pop(ctype, None)
    for ctype in form.channels:
        if ctype not in base.channels or ctype not in by_type:
            by_type[ctype] = form.channel_input(ctype, {})
            continue
        channel = by_type[ctype]
        for form_field, input_field in _CHANNEL_FIELDS.items():
            new, old = getattr(form, form_field).get(ctype), getattr(base, form_field).get(ctype)
            if new != old and new is not None:
                setattr(channel, input_field, _copy(new))
    for ctype, channel in by_type.items():
        channel.credentials = {k: v for k, v in channel_creds(creds, ctype).items() if v}
    merged.channels = [by_type[c] for c in CHANNEL_TYPES if c in by_type]
    # Rules for the bot's own account on a channel it no longer has go with the channel; rules
    # on another account (another bot's, or any) stay.
    kept = set(by_type)
    merged.bindings = [b for b in merged.bindings if b.channel in kept or b.account_id.strip()]
    return merged


def _copy(value: Any) -> Any:
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value


def _int(text: str, invalid: int) -> int:
    text = str(text).strip()
    return int(text) if text.lstrip("-").isdigit() else invalid
