"""A channel account's group settings in OpenClaw's terms (pure; used by `openclaw_config`).

ClawNet says three things about groups, the same way for every channel: the group policy
(`disabled`: no groups; `open`: any group the bot is in; `allowlist`: only the listed groups),
the groups listed (ids in the channel's own format) and, per listed group, whether the bot needs
a mention there (the channel's mention policy for every other group). Each channel spells this
differently (checked against `openclaw config schema` and the channel docs of 2026.9.6):

- Telegram and WhatsApp: `groups` keys are the groups let in (`"*"`: all) with their
  `requireMention`; `groupPolicy` with `groupAllowFrom` says which *senders* may talk in them, so
  "any member of a listed group" is `groupPolicy: "allowlist"` with `groupAllowFrom: ["*"]`
  (negative Telegram chat ids in `groupAllowFrom` would be ignored: they are not senders).
- Signal: the listed groups go into `groupAllowFrom` as `group:<id>`; `groups` keys carry
  `requireMention`.
- Discord: `guilds.<guild id | "*">.requireMention`; under `allowlist` only the guilds named.
- Slack: `channels.<channel id>.requireMention`; the account's `requireMention` is the default.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from clawnet.enums import ChannelType, GroupPolicy, MentionPolicy

GROUPS_KEY = {
    ChannelType.TELEGRAM: "groups",
    ChannelType.WHATSAPP: "groups",
    ChannelType.SIGNAL: "groups",
    ChannelType.DISCORD: "guilds",
    ChannelType.SLACK: "channels",
}
SIGNAL_GROUP_PREFIX = "group:"


def _unique(ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(i.strip() for i in ids if i.strip() and i.strip() != "*"))


def group_settings(
    channel: ChannelType,
    policy: str,
    group_ids: Iterable[str],
    mention: MentionPolicy,
    group_mentions: Mapping[str, str],
) -> dict[str, Any]:
    """The keys a channel account gets for its groups (`groupPolicy` and the channel's own)."""
    default = mention == MentionPolicy.MENTION
    ids = _unique(group_ids)
    per_group = {
        gid: {"requireMention": group_mentions.get(gid, mention.value) == MentionPolicy.MENTION}
        for gid in ids
    }
    wildcard = {"*": {"requireMention": default}}
    out: dict[str, Any] = {"groupPolicy": policy}
    if channel is ChannelType.SLACK:
        out["requireMention"] = default
        if policy != GroupPolicy.DISABLED and per_group:
            out["channels"] = per_group
        return out
    key = GROUPS_KEY[channel]
    if policy == GroupPolicy.ALLOWLIST:
        out[key] = per_group
        if channel in (ChannelType.TELEGRAM, ChannelType.WHATSAPP):
            out["groupAllowFrom"] = ["*"]  # any member of a listed group
        elif channel is ChannelType.SIGNAL:
            out["groupAllowFrom"] = [SIGNAL_GROUP_PREFIX + gid for gid in ids]
    elif policy == GroupPolicy.OPEN:
        out[key] = {**wildcard, **per_group}
    else:
        out[key] = wildcard
    return out


def groups_of(channel: ChannelType, account: Mapping[str, Any]) -> tuple[list[str], dict[str, str]]:
    """The listed groups and their mention settings in an OpenClaw channel account (the reverse
    of `group_settings`, for imports). Legacy ClawNet configs listed Telegram groups (negative
    ids) and Signal groups in `groupAllowFrom`: those count as listed groups too."""
    section = account.get(GROUPS_KEY[channel]) or {}
    ids: list[str] = []
    mentions: dict[str, str] = {}
    if isinstance(section, Mapping):
        for gid, entry in section.items():
            gid = str(gid).strip()
            if not gid or gid == "*":
                continue
            ids.append(gid)
            if isinstance(entry, Mapping) and isinstance(entry.get("requireMention"), bool):
                mentions[gid] = (
                    MentionPolicy.MENTION if entry["requireMention"] else MentionPolicy.ALWAYS
                ).value
    for raw in account.get("groupAllowFrom") or []:
        entry = str(raw).strip()
        if channel is ChannelType.SIGNAL and entry.startswith(SIGNAL_GROUP_PREFIX):
            ids.append(entry[len(SIGNAL_GROUP_PREFIX) :])
        elif channel is ChannelType.TELEGRAM and entry.startswith("-") and entry[1:].isdigit():
            ids.append(entry)
    return _unique(ids), mentions


def default_mention(channel: ChannelType, account: Mapping[str, Any]) -> str:
    """The mention policy an OpenClaw channel account gives groups not listed (for imports)."""
    if channel is ChannelType.SLACK:
        flag = account.get("requireMention")
    else:
        wildcard = (account.get(GROUPS_KEY[channel]) or {}).get("*")
        flag = wildcard.get("requireMention") if isinstance(wildcard, Mapping) else None
    return (MentionPolicy.ALWAYS if flag is False else MentionPolicy.MENTION).value
