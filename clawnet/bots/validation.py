"""Every check a bot's input must pass (`forms.BotInput`), and the agent id rules.

Errors are keyed by field (`name`, `agent_id`, `channels.telegram.botToken`, ...) with a message
that says what is wrong and how to fix it, so the wizard can show each next to its field.
"""

from __future__ import annotations

import re
import unicodedata

from sqlmodel import Session, col, select

from clawnet.bots.forms import BindingInput, BotInput
from clawnet.bots.placement import remote_problem
from clawnet.bots.store import binding_input
from clawnet.controlplane.openclaw_config import CHANNEL_CREDENTIAL_FIELDS, SIGNAL_TRANSPORTS
from clawnet.controlplane.paths import bot_paths
from clawnet.controlplane.spares import WARMUP_AGENT_IDS
from clawnet.enums import (
    ChannelType,
    DmPolicy,
    GroupPolicy,
    MentionPolicy,
    PeerKind,
    Placement,
)
from clawnet.models import AgentTombstone, Binding, Bot, BotChannel, ModelProvider
from clawnet.settings import Settings

AGENT_ID_RE = re.compile(r"^[a-z0-9_][a-z0-9_-]{0,63}$")
# OpenClaw's own names, and the hidden agents of ClawNet's warm spares.
RESERVED_AGENT_IDS = frozenset({"main", "default", "system", "clawnet", "openclaw", *WARMUP_AGENT_IDS})
SESSION_SCOPES = ("per-sender", "global")
DM_SCOPES = ("main", "per-peer", "per-channel-peer", "per-account-channel-peer")
RESET_MODES = ("none", "daily", "idle")
TOOL_PROFILES = ("minimal", "messaging", "coding", "full")
RISKY_TOOLS = frozenset({"exec", "write", "edit", "apply_patch", "browser", "process"})

TELEGRAM_TOKEN_RE = re.compile(r"^\d{5,12}:[A-Za-z0-9_-]{30,60}$")
E164_RE = re.compile(r"^\+[1-9]\d{6,14}$")
DIGITS_RE = re.compile(r"^\d{5,25}$")
TELEGRAM_ALLOW_RE = re.compile(r"^(-?\d{3,20}|@[A-Za-z0-9_]{5,32})$")
SLACK_ID_RE = re.compile(r"^[UWCGT][A-Z0-9]{6,20}$")
# Group and conversation ids, in each channel's own format.
TELEGRAM_USER_RE = re.compile(r"^\d{3,20}$")
TELEGRAM_GROUP_RE = re.compile(r"^-\d{5,20}$")
SNOWFLAKE_RE = re.compile(r"^\d{17,20}$")
SLACK_USER_RE = re.compile(r"^[UW][A-Z0-9]{6,20}$")
SLACK_CHANNEL_RE = re.compile(r"^[CG][A-Z0-9]{6,20}$")
SLACK_TEAM_RE = re.compile(r"^[TE][A-Z0-9]{6,20}$")
WHATSAPP_GROUP_RE = re.compile(r"^\d{5,25}(-\d{5,15})?@g\.us$")
SIGNAL_GROUP_RE = re.compile(r"^[A-Za-z0-9+/]{22,86}={0,2}$")
SIGNAL_UUID_RE = re.compile(
    r"^uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)

CHANNEL_NAMES = {
    ChannelType.TELEGRAM: "Telegram",
    ChannelType.DISCORD: "Discord",
    ChannelType.SLACK: "Slack",
    ChannelType.WHATSAPP: "WhatsApp",
    ChannelType.SIGNAL: "Signal",
}
GROUP_ID_FORMATS: dict[ChannelType, tuple[re.Pattern[str], str]] = {
    ChannelType.TELEGRAM: (
        TELEGRAM_GROUP_RE,
        "Telegram group ids are negative numbers, like -1001234567890 (add @getidsbot to the group to see it).",
    ),
    ChannelType.DISCORD: (
        SNOWFLAKE_RE,
        "A Discord server id is 17 to 20 digits (Developer Mode on, then right-click the server → Copy Server ID).",
    ),
    ChannelType.SLACK: (
        SLACK_CHANNEL_RE,
        "A Slack channel id starts with C (G for an older private channel), like C0123ABCD "
        "(open the channel's details: the id is at the bottom).",
    ),
    ChannelType.WHATSAPP: (
        WHATSAPP_GROUP_RE,
        "A WhatsApp group id ends in @g.us, like 120363012345678901@g.us.",
    ),
    ChannelType.SIGNAL: (
        SIGNAL_GROUP_RE,
        "A Signal group id is the base64 id `signal-cli listGroups` shows, like "
        "EjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJCrze8=.",
    ),
}
GROUP_WORD = {ChannelType.DISCORD: "server", ChannelType.SLACK: "channel"}
# An http(s) address without credentials (OpenClaw's schema refuses user@host), path allowed.
SIGNAL_URL_RE = re.compile(r"^https?://[^/?#@\s]+(/[^\s]*)?$", re.IGNORECASE)


def slugify(name: str) -> str:
    """A valid OpenClaw agent id from a display name ("Support Bot #2" -> "support-bot-2")."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:60]
    return slug or "bot"


def agent_id_problem(
    session: Session, settings: Settings, agent_id: str, *, bot_id: int | None
) -> str | None:
    if not AGENT_ID_RE.fullmatch(agent_id):
        return "Use 1-64 lower-case letters, digits, '-' or '_' (not starting with '-')."
    if agent_id in RESERVED_AGENT_IDS:
        return f"'{agent_id}' is reserved; choose another."
    other = session.exec(select(Bot.id).where(Bot.agent_id == agent_id)).first()
    if other is not None and other != bot_id:
        return f"Another bot already uses the id '{agent_id}'."
    if (
        bot_id is None
        and session.exec(
            select(AgentTombstone.id).where(
                AgentTombstone.agent_id == agent_id, col(AgentTombstone.bot_deleted).is_(True)
            )
        ).first()
        is not None
    ):
        return f"'{agent_id}' belonged to a deleted bot; choose another."
    if bot_id is None and bot_paths(settings, agent_id).root.exists():
        return f"A deleted bot's data still uses the id '{agent_id}'; choose another."
    return None


def available_agent_id(session: Session, settings: Settings, name: str) -> str:
    base = slugify(name)
    candidate, n = base, 1
    while agent_id_problem(session, settings, candidate, bot_id=None) is not None:
        n += 1
        candidate = f"{base[:60]}-{n}"
    return candidate


def allow_entry_problem(channel: ChannelType, entry: str) -> str | None:
    if entry == "*":
        return None
    if channel is ChannelType.TELEGRAM and not TELEGRAM_ALLOW_RE.fullmatch(entry):
        return f"'{entry}' is not a Telegram user id (digits) or @username."
    if channel in (ChannelType.WHATSAPP, ChannelType.SIGNAL) and not E164_RE.fullmatch(entry):
        return f"'{entry}' is not a phone number in international format, like +15555550123."
    if channel is ChannelType.DISCORD and not DIGITS_RE.fullmatch(entry):
        return f"'{entry}' is not a Discord user id (digits; turn on Developer Mode to copy it)."
    if channel is ChannelType.SLACK and not SLACK_ID_RE.fullmatch(entry):
        return f"'{entry}' is not a Slack member id, like U0123ABCD."
    return None


def group_id_problem(channel: ChannelType, entry: str) -> str | None:
    """What is wrong with a group id (a Discord server, a Slack channel) for `channel`."""
    text = entry.strip()
    if channel is ChannelType.SIGNAL:
        text = text.removeprefix("group:")
    pattern, help_text = GROUP_ID_FORMATS[channel]
    if pattern.fullmatch(text):
        return None
    word = GROUP_WORD.get(channel, "group")
    return f"'{entry}' is not a {CHANNEL_NAMES[channel]} {word} id. {help_text}"


def peer_id_problem(channel: ChannelType, kind: str, peer_id: str) -> str | None:
    """What is wrong with a conversation id of a routing rule (`*`: every one of that kind)."""
    name = CHANNEL_NAMES[channel]
    if peer_id == "*":
        return None
    if kind == PeerKind.DIRECT.value:
        ok = {
            ChannelType.TELEGRAM: bool(TELEGRAM_USER_RE.fullmatch(peer_id)),
            ChannelType.DISCORD: bool(SNOWFLAKE_RE.fullmatch(peer_id)),
            ChannelType.SLACK: bool(SLACK_USER_RE.fullmatch(peer_id)),
            ChannelType.WHATSAPP: bool(E164_RE.fullmatch(peer_id)),
            ChannelType.SIGNAL: bool(E164_RE.fullmatch(peer_id) or SIGNAL_UUID_RE.fullmatch(peer_id)),
        }[channel]
        if not ok:
            return f"'{peer_id}' is not a {name} person: {PERSON_FORMATS[channel]}"
        return None
    if kind == PeerKind.CHANNEL.value and channel in (ChannelType.WHATSAPP, ChannelType.SIGNAL):
        return f"{name} has no channels: choose a direct chat or a group."
    if channel is ChannelType.DISCORD:
        if not SNOWFLAKE_RE.fullmatch(peer_id):
            return f"'{peer_id}' is not a Discord {kind} id: 17 to 20 digits (Developer Mode, then Copy Channel ID)."
        return None
    if channel is ChannelType.TELEGRAM and kind == PeerKind.CHANNEL.value:
        if not TELEGRAM_GROUP_RE.fullmatch(peer_id):
            return f"'{peer_id}' is not a Telegram channel id: a negative number, like -1001234567890."
        return None
    return group_id_problem(channel, peer_id)


def binding_problems(
    session: Session,
    inp: BotInput,
    *,
    own_channels: set[str],
    pending_accounts: frozenset[tuple[str, str]] = frozenset(),
    saved: list[BindingInput] | None = None,
) -> dict[str, str]:
    """What is wrong with each routing rule of `inp`, keyed `bindings.<n>[.<field>]`. A rule
    already saved may name the account of a bot deleted since: it does nothing, but does not
    stop the bot from being edited."""
    errors: dict[str, str] = {}
    seen: set[tuple[object, ...]] = set()
    for i, b in enumerate(inp.bindings):
        prefix = f"bindings.{i}"
        try:
            channel = ChannelType(b.channel)
        except ValueError:
            errors[f"{prefix}.channel"] = f"Unknown channel '{b.channel}'."
            continue
        name = CHANNEL_NAMES[channel]
        account = b.account_id.strip()
        if account in ("", inp.agent_id):
            if channel.value not in own_channels:
                errors[f"{prefix}.account_id"] = (
                    f"This bot has no {name} account of its own: choose another bot's {name} account "
                    f"or any account, or add {name} to the bot."
                )
        elif (
            account != "*"
            and (channel.value, account) not in pending_accounts
            and b not in (saved or [])
            and not _has_account(session, account, channel)
        ):
            errors[f"{prefix}.account_id"] = f"No bot has a {name} account called '{account}'."
        kind, peer_id = b.peer_kind.strip(), b.peer_id.strip()
        if kind and kind not in {k.value for k in PeerKind}:
            errors[f"{prefix}.peer_kind"] = "Choose a direct chat, a group or a channel."
        elif kind and not peer_id:
            errors[f"{prefix}.peer_id"] = (
                f"Give the {kind} conversation's id, or * for every {kind} conversation."
            )
        elif peer_id and not kind:
            errors[f"{prefix}.peer_kind"] = "Say whether the id is a direct chat, a group or a channel."
        elif kind and (problem := peer_id_problem(channel, kind, peer_id)):
            errors[f"{prefix}.peer_id"] = problem
        guild, team = b.guild_id.strip(), b.team_id.strip()
        roles = [r.strip() for r in b.roles if r.strip()]
        if guild and channel is not ChannelType.DISCORD:
            errors[f"{prefix}.guild_id"] = "Servers (guilds) exist only on Discord."
        elif guild and not SNOWFLAKE_RE.fullmatch(guild):
            errors[f"{prefix}.guild_id"] = (
                f"'{guild}' is not a Discord server id. {GROUP_ID_FORMATS[channel][1]}"
            )
        if roles and not guild:
            errors[f"{prefix}.roles"] = "Roles belong to a Discord server: give the server id too."
        elif bad := [r for r in roles if not SNOWFLAKE_RE.fullmatch(r)]:
            errors[f"{prefix}.roles"] = (
                f"'{bad[0]}' is not a Discord role id: 17 to 20 digits (Server Settings → Roles → Copy Role ID)."
            )
        if team and channel is not ChannelType.SLACK:
            errors[f"{prefix}.team_id"] = "Workspaces (teams) exist only on Slack."
        elif team and not SLACK_TEAM_RE.fullmatch(team):
            errors[f"{prefix}.team_id"] = (
                f"'{team}' is not a Slack workspace id: it starts with T, like T0123ABCD."
            )
        if not (kind or peer_id or guild or team or roles) and account in ("", inp.agent_id):
            errors[prefix] = (
                f"This rule matches only what the bot's own {name} account already brings it: "
                "add a conversation, a server or a workspace, or choose another account."
            )
        key = (channel, account or inp.agent_id, kind, peer_id, guild, team, tuple(sorted(roles)))
        if key in seen:
            errors[prefix] = "The same rule is listed twice."
        seen.add(key)
    return errors


def _has_account(session: Session, agent_id: str, channel: ChannelType) -> bool:
    """Whether a bot with this agent id has a `channel` account (its account id is its agent id)."""
    return (
        session.exec(
            select(BotChannel.id)
            .join(Bot, col(Bot.id) == col(BotChannel.bot_id))
            .where(Bot.agent_id == agent_id, BotChannel.type == channel.value)
        ).first()
        is not None
    )


PERSON_FORMATS = {
    ChannelType.TELEGRAM: "a Telegram user id is a positive number, like 111111111.",
    ChannelType.DISCORD: "a Discord user id is 17 to 20 digits (Developer Mode, then Copy User ID).",
    ChannelType.SLACK: "a Slack member id starts with U or W, like U0123ABCD.",
    ChannelType.WHATSAPP: "a phone number in international format, like +15555550123.",
    ChannelType.SIGNAL: "a phone number in international format, like +15555550123, or uuid:<id>.",
}


def credential_problems(channel: ChannelType, creds: dict[str, str]) -> dict[str, str]:
    errors: dict[str, str] = {}
    value = {k: (creds.get(k) or "").strip() for k in CHANNEL_CREDENTIAL_FIELDS[channel]}
    if channel is ChannelType.TELEGRAM:
        if not value["botToken"]:
            errors["botToken"] = "Paste the bot token from @BotFather."
        elif not TELEGRAM_TOKEN_RE.fullmatch(value["botToken"]):
            errors["botToken"] = (
                "That is not a Telegram bot token: it looks like 123456789:AA... (digits, a colon, then 35 letters)."
            )
    elif channel is ChannelType.DISCORD:
        if len(value["token"]) < 50:
            errors["token"] = (
                "Paste the bot token from the Discord Developer Portal (Bot → Reset Token); it is about 70 characters."  # noqa: S105
            )
        if not DIGITS_RE.fullmatch(value["applicationId"]):
            errors["applicationId"] = "The application id is the number on the General Information page."
    elif channel is ChannelType.SLACK:
        if not value["botToken"].startswith("xoxb-"):
            errors["botToken"] = "The bot token starts with xoxb- (OAuth & Permissions page)."
        if not value["appToken"].startswith("xapp-"):
            errors["appToken"] = (
                "The app-level token starts with xapp- (Basic Information → App-Level Tokens, scope connections:write)."
            )
    elif channel is ChannelType.SIGNAL:
        if not E164_RE.fullmatch(value["account"]):
            errors["account"] = "The Signal number in international format, like +15555550123."
        errors |= signal_transport_problems(value["transport"] or "managed-native", value["url"])
    return errors


def signal_transport_problems(kind: str, url: str) -> dict[str, str]:
    """How the gateway reaches signal-cli: a known kind, and for a daemon its http(s) address."""
    if kind not in SIGNAL_TRANSPORTS:
        return {"transport": "Choose how the gateway reaches signal-cli."}
    if kind != "managed-native" and not SIGNAL_URL_RE.fullmatch(url):
        return {"url": "The address signal-cli's HTTP daemon listens on, like http://127.0.0.1:8080."}
    return {}


def validate_bot_input(
    session: Session,
    settings: Settings,
    inp: BotInput,
    *,
    owner_id: int,
    bot_id: int | None = None,
    pending_accounts: frozenset[tuple[str, str]] = frozenset(),
) -> dict[str, str]:
    """Every problem with `inp`, keyed by field. Empty means valid. `pending_accounts` are
    (channel, agent id) accounts of bots created together with this one (an import)."""
    errors: dict[str, str] = {}
    name = inp.name.strip()
    if not name:
        errors["name"] = "Give the bot a name."
    elif len(name) > 80:
        errors["name"] = "Use at most 80 characters."
    else:
        clash = session.exec(select(Bot.id).where(Bot.owner_id == owner_id, Bot.name == name)).first()
        if clash is not None and clash != bot_id:
            errors["name"] = f"You already have a bot called '{name}'."
    if problem := agent_id_problem(session, settings, inp.agent_id, bot_id=bot_id):
        errors["agent_id"] = problem
    provider = session.get(ModelProvider, inp.provider_id) if inp.provider_id is not None else None
    if provider is None:
        errors["provider_id"] = "Choose a model provider (add one under Settings if the list is empty)."
    elif not inp.model_id.strip():
        errors["model_id"] = "Choose a model."
    elif provider.models and inp.model_id not in {str(m.get("id")) for m in provider.models}:
        errors["model_id"] = f"{provider.display_name} has no model '{inp.model_id}'."
    if len(inp.persona) > 20000:
        errors["persona"] = "Keep the persona under 20,000 characters."
    if len(inp.emoji) > 16:
        errors["emoji"] = "Use a single emoji."
    if inp.placement not in {p.value for p in Placement}:
        errors["placement"] = (
            "Choose where the bot runs: this machine (shared or its own gateway) or a remote gateway."
        )
    if inp.remote_gateway_id is not None and (
        problem := remote_problem(session, inp.remote_gateway_id, bot_id)
    ):
        errors["placement"] = problem
    if inp.session_scope not in SESSION_SCOPES:
        errors["session_scope"] = f"Choose one of: {', '.join(SESSION_SCOPES)}."
    if inp.dm_scope not in DM_SCOPES:
        errors["dm_scope"] = f"Choose one of: {', '.join(DM_SCOPES)}."
    if inp.reset_mode not in RESET_MODES:
        errors["reset_mode"] = f"Choose one of: {', '.join(RESET_MODES)}."
    if not 0 <= inp.reset_at_hour <= 23:
        errors["reset_at_hour"] = "An hour of the day, 0 to 23."
    if not 1 <= inp.reset_idle_minutes <= 7 * 24 * 60:
        errors["reset_idle_minutes"] = "Between 1 minute and 7 days (10080 minutes)."
    if inp.tools_profile not in TOOL_PROFILES:
        errors["tools_profile"] = f"Choose one of: {', '.join(TOOL_PROFILES)}."
    for key, tools in (("tools_allow", inp.tools_allow), ("tools_deny", inp.tools_deny)):
        bad = [t for t in tools if not re.fullmatch(r"(group:)?[a-z][a-z0-9_.-]{0,63}", t)]  # or a tool group
        if bad:
            errors[key] = f"Not a tool name: {', '.join(bad)}."
    seen: set[str] = set()
    for channel in inp.channels:
        prefix = f"channels.{channel.type}"
        try:
            ctype = ChannelType(channel.type)
        except ValueError:
            errors[prefix] = f"Unknown channel type '{channel.type}'."
            continue
        if ctype.value in seen:
            errors[prefix] = f"Only one {ctype.value} channel per bot."
            continue
        seen.add(ctype.value)
        for key, message in credential_problems(ctype, channel.credentials).items():
            errors[f"{prefix}.{key}"] = message
        if channel.dm_policy not in {p.value for p in DmPolicy}:
            errors[f"{prefix}.dm_policy"] = "Choose pairing, allowlist, open or disabled."
        elif channel.dm_policy == DmPolicy.ALLOWLIST.value and not [
            a for a in channel.allow_from if a.strip()
        ]:
            errors[f"{prefix}.allow_from"] = "An allowlist needs at least one entry: who may message the bot?"
        if channel.group_policy not in {p.value for p in GroupPolicy}:
            errors[f"{prefix}.group_policy"] = "Choose allowlist, open or disabled."
        elif channel.group_policy == GroupPolicy.ALLOWLIST.value and not [
            a for a in channel.group_allow_from if a.strip()
        ]:
            word = GROUP_WORD.get(ctype, "group")
            errors[f"{prefix}.group_allow_from"] = (
                f"Only listed {word}s, but none is listed: add at least one {word} id, or choose another policy."
            )
        if channel.mention_policy not in {p.value for p in MentionPolicy}:
            errors[f"{prefix}.mention_policy"] = "Choose whether the bot needs a mention in groups."
        for entry in channel.group_allow_from:
            if problem := group_id_problem(ctype, entry):
                errors[f"{prefix}.group_allow_from"] = problem
                break
        if any(m not in {p.value for p in MentionPolicy} for m in channel.group_mentions.values()):
            errors[f"{prefix}.group_mentions"] = "Choose, for each group, whether the bot needs a mention."
        for entry in channel.allow_from:
            if problem := allow_entry_problem(ctype, entry.strip()):
                errors[f"{prefix}.allow_from"] = problem
                break
    saved = (
        [binding_input(b) for b in session.exec(select(Binding).where(Binding.bot_id == bot_id)).all()]
        if bot_id is not None
        else []
    )
    errors.update(
        binding_problems(session, inp, own_channels=seen, pending_accounts=pending_accounts, saved=saved)
    )
    return errors


def risky_tool_warnings(inp: BotInput) -> list[str]:
    """Warnings the wizard shows for tool settings that give strangers power over the host."""
    warnings = []
    if inp.tools_profile in ("coding", "full"):
        warnings.append(
            f"The '{inp.tools_profile}' profile lets the bot run commands and write files on this "
            "machine. Anyone who can message it can ask it to."
        )
    risky = sorted(RISKY_TOOLS & set(inp.tools_allow))
    if risky:
        warnings.append(f"Allowed tools that act on this machine: {', '.join(risky)}.")
    if any(c.dm_policy == DmPolicy.OPEN.value for c in inp.channels) and inp.tools_profile != "minimal":
        warnings.append("Direct messages are open to everyone: consider the 'minimal' tool profile.")
    return warnings
