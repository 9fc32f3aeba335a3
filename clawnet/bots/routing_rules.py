"""Routing rules and groups in the words the bot page uses (pure: no database).

OpenClaw picks one agent for each message by the most specific matching binding; its order,
verified in `dist/resolve-route-*.mjs` (`resolveAgentRoute`) of 2026.9.6:

1. the exact conversation (`peer` kind + id),
2. the parent conversation (a thread inherits its parent's peer rule),
3. every conversation of a kind (`peer.id: "*"`),
4. a Discord server with member roles (`guildId` + `roles`),
5. a Discord server (`guildId`),
6. a Slack workspace (`teamId`),
7. a channel account (`accountId`),
8. any account of the channel (`accountId: "*"`).
Within one tier the first rule in the config wins; every field a rule gives must match.
"""

from __future__ import annotations

from dataclasses import dataclass

from clawnet.bots.forms import BindingInput
from clawnet.bots.validation import CHANNEL_NAMES, GROUP_ID_FORMATS, GROUP_WORD
from clawnet.enums import ChannelType

TIERS: tuple[tuple[str, str], ...] = (
    ("Exact conversation", "A direct chat, group or channel, by its id."),
    ("Parent conversation", "A thread with no rule of its own follows its parent conversation's rule."),
    ("Every conversation of a kind", "Every direct chat (or group, or channel): the id is *."),
    ("Discord server and roles", "Members of a Discord server who have all the given roles."),
    ("Discord server", "Everything in a Discord server."),
    ("Slack workspace", "Everything in a Slack workspace."),
    ("Channel account", "Everything one bot account receives."),
    ("Any account", "Everything on the channel, whichever bot account receives it."),
)
PEER_KINDS: list[tuple[str, str]] = [
    ("", "Any conversation"),
    ("direct", "Direct chat"),
    ("group", "Group"),
    ("channel", "Channel"),
]
PEER_WORDS = {"direct": "direct chat", "group": "group", "channel": "channel"}
GROUP_ID_PLACEHOLDERS = {
    ChannelType.TELEGRAM: "-1001234567890",
    ChannelType.DISCORD: "123456789012345678",
    ChannelType.SLACK: "C0123ABCD",
    ChannelType.WHATSAPP: "120363012345678901@g.us",
    ChannelType.SIGNAL: "EjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJCrze8=",
}


def tier_of(rule: BindingInput) -> int:
    """The rule's place in OpenClaw's order (1 = most specific; 2 is never a rule's own)."""
    if rule.peer_kind and rule.peer_id.strip() == "*":
        return 3
    if rule.peer_kind:
        return 1
    if rule.guild_id.strip() and [r for r in rule.roles if r.strip()]:
        return 4
    if rule.guild_id.strip():
        return 5
    if rule.team_id.strip():
        return 6
    return 8 if rule.account_id.strip() == "*" else 7


def channel_name(channel: str) -> str:
    try:
        return CHANNEL_NAMES[ChannelType(channel)]
    except ValueError:
        return channel


@dataclass(frozen=True)
class AccountChoice:
    """Where a rule listens: a channel and one bot account on it ("" this bot's, "*" any)."""

    value: str  # "<channel>|<account>"
    label: str
    channel: str
    account: str


@dataclass(frozen=True)
class RuleRow:
    """One routing rule as the bot page lists it (in OpenClaw's order)."""

    index: int  # its place in the bot's list of rules (what edits refer to)
    tier: int
    tier_label: str
    channel: str
    where: str  # the AccountChoice value
    where_label: str
    peer_kind: str
    peer_id: str
    guild_id: str
    roles: str  # comma-separated
    team_id: str
    summary: str
    note: str
    error: str


@dataclass(frozen=True)
class GroupRow:
    id: str
    mention: str  # MentionPolicy value


@dataclass(frozen=True)
class ChannelGroups:
    """One channel's groups as the bot page edits them."""

    type: str
    title: str
    word: str  # "group", "server" (Discord) or "channel" (Slack)
    policy: str
    mention: str
    groups: list[GroupRow]
    placeholder: str
    hint: str


@dataclass(frozen=True)
class RoutingView:
    rules: list[BindingInput]
    where: list[AccountChoice]
    groups: list[ChannelGroups]
    can_configure: bool
    incoming: list[str]  # other bots' rules that take messages from this bot's accounts


def channel_groups(
    ctype: ChannelType, policy: str, mention: str, ids: list[str], mentions: dict[str, str]
) -> ChannelGroups:
    return ChannelGroups(
        type=ctype.value,
        title=CHANNEL_NAMES[ctype],
        word=GROUP_WORD.get(ctype, "group"),
        policy=policy,
        mention=mention,
        groups=[GroupRow(gid, mentions.get(gid, mention)) for gid in ids],
        placeholder=GROUP_ID_PLACEHOLDERS[ctype],
        hint=GROUP_ID_FORMATS[ctype][1],
    )


def where_of(rule: BindingInput) -> str:
    return f"{rule.channel}|{rule.account_id.strip()}"


def summary_of(rule: BindingInput, where_label: str) -> str:
    """The rule in a sentence: what it matches, and where."""
    parts = []
    peer_id = rule.peer_id.strip()
    if rule.peer_kind:
        word = PEER_WORDS.get(rule.peer_kind, rule.peer_kind)
        parts.append(f"every {word}" if peer_id == "*" else f"{word} {peer_id}")
    if rule.guild_id.strip():
        roles = ", ".join(r.strip() for r in rule.roles if r.strip())
        parts.append(f"server {rule.guild_id.strip()}" + (f" with roles {roles}" if roles else ""))
    if rule.team_id.strip():
        parts.append(f"workspace {rule.team_id.strip()}")
    what = " in ".join(parts) if parts else "everything"
    return f"{what[:1].upper()}{what[1:]}, on {where_label}"


def rule_rows(
    rules: list[BindingInput], choices: list[AccountChoice], errors: dict[str, str], notes: dict[int, str]
) -> list[RuleRow]:
    """The rules in OpenClaw's order (tier, then the order they are applied in)."""
    labels = {c.value: c.label for c in choices}
    rows = []
    for i, rule in enumerate(rules):
        where = where_of(rule)
        label = labels.get(where) or f"{channel_name(rule.channel)} account {rule.account_id or '?'}"
        tier = tier_of(rule)
        problems = [m for k, m in errors.items() if k == f"bindings.{i}" or k.startswith(f"bindings.{i}.")]
        rows.append(
            RuleRow(
                index=i,
                tier=tier,
                tier_label=TIERS[tier - 1][0],
                channel=rule.channel,
                where=where,
                where_label=label,
                peer_kind=rule.peer_kind,
                peer_id=rule.peer_id,
                guild_id=rule.guild_id,
                roles=", ".join(rule.roles),
                team_id=rule.team_id,
                summary=summary_of(rule, label),
                note=notes.get(i, ""),
                error=" ".join(problems),
            )
        )
    rows.sort(key=lambda r: (r.tier, -rules[r.index].priority, r.index))
    return rows
