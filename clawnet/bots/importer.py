"""Importing an existing `openclaw.json`: its agents, channels and bindings become bots.

All or nothing: every problem is collected first (and reported together); rows are written only
if there is none, in the caller's transaction. What OpenClaw accepts is accepted: the implicit
single agent, `agents.defaults` inherited, built-in providers (their keys asked for in the
preview), model fallbacks, session settings, per-group mention settings, tool policies,
identities, channel accounts and bindings; persona files come from uploads. Every key ClawNet
does not carry over is listed (`ImportResult.unsupported`) before anything is written. Agents
keep their ids when those are free; OpenClaw's reserved `main` gets one derived from its name.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import json5
from sqlmodel import Session, select

from clawnet.bots import import_map as im
from clawnet.bots.forms import BindingInput, BotInput, ChannelInput
from clawnet.bots.import_files import WorkspaceUploads
from clawnet.bots.import_schedules import add_schedules, plan_schedules
from clawnet.bots.store import apply_input, replace_bindings, replace_channels
from clawnet.bots.validation import (
    AGENT_ID_RE,
    RESERVED_AGENT_IDS,
    agent_id_problem,
    available_agent_id,
    group_id_problem,
    validate_bot_input,
)
from clawnet.bots.views import ImportedBot, ImportResult, ProviderNeed
from clawnet.controlplane.channel_groups import GROUPS_KEY, default_mention, groups_of
from clawnet.controlplane.openclaw_config import CHANNEL_CREDENTIAL_FIELDS
from clawnet.enums import ChannelType, DesiredStatus, GroupPolicy, ProviderKind
from clawnet.models import Bot, BotSkill, ModelProvider
from clawnet.security.permissions import Action, Principal, can
from clawnet.security.secret_fields import PROVIDER_API_KEY
from clawnet.settings import Settings

KIND_LABELS = {
    ProviderKind.ANTHROPIC: "Anthropic",
    ProviderKind.OPENAI: "OpenAI",
    ProviderKind.OPENAI_COMPATIBLE: "OpenAI-compatible",
    ProviderKind.LOCAL_ECHO: "Local echo",
}


def _channel_accounts(section: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A channel section's accounts, each over the section's own settings (which OpenClaw uses
    as every account's defaults); top-level credentials form the "default" account."""
    top = {k: v for k, v in section.items() if k not in ("accounts", "defaultAccount", "enabled")}
    accounts = {str(k): {**top, **dict(v or {})} for k, v in (section.get("accounts") or {}).items()}
    if (
        any(k in top for k in ("botToken", "token", "appToken", "account", "dmPolicy", "allowFrom"))
        or not accounts
    ):
        accounts["default"] = {**top, **accounts.get("default", {})}
    return accounts


def _is_specific(match: dict[str, Any]) -> bool:
    """Whether a binding matches less than a whole account (a conversation, server, team, roles)."""
    return bool(match.get("peer") or match.get("guildId") or match.get("teamId") or match.get("roles"))


def _routing_rule(
    binding: dict[str, Any], agent_id: str, account_owner: dict[tuple[str, str], str], *, priority: int
) -> BindingInput | None:
    """A binding of the file as a routing rule of its agent's bot, or None when it only routes
    a channel account to its owner (ClawNet writes those itself). Account ids become the agent
    ids of the bots owning those accounts (ClawNet names each account after its bot); the rule
    keeps its place in the file's order through its priority."""
    match = binding.get("match") or {}
    channel = str(match.get("channel", ""))
    raw_account = str(match.get("accountId") or "default")
    peer = match.get("peer") or {}
    roles = [str(r) for r in match.get("roles") or []]
    specific = _is_specific(match)
    owner = account_owner.get((channel, raw_account))
    if not specific and (raw_account != "*" and owner in (agent_id, None)):
        return None
    account = "*" if raw_account == "*" else ("" if owner in (agent_id, None) else owner)
    return BindingInput(
        channel=channel,
        peer_kind=str(peer.get("kind", "")),
        peer_id=str(peer.get("id", "")),
        guild_id=str(match.get("guildId", "")),
        team_id=str(match.get("teamId", "")),
        roles=roles,
        account_id=account or "",
        priority=priority,
    )


def _group_policy(ctype: ChannelType, account: dict[str, Any], group_ids: list[str]) -> str:
    """ClawNet's group policy for an account: OpenClaw lets in the groups its `groups` keys name
    (`"*"`: any), under a policy that defaults to the allowlist."""
    policy = str(account.get("groupPolicy") or "")
    section = account.get(GROUPS_KEY[ctype]) or {}
    wildcard = isinstance(section, Mapping) and "*" in section
    if policy == GroupPolicy.DISABLED.value:
        return policy
    if policy == GroupPolicy.OPEN.value or wildcard:
        return GroupPolicy.OPEN.value if (wildcard or not group_ids) else GroupPolicy.ALLOWLIST.value
    return GroupPolicy.ALLOWLIST.value if group_ids else GroupPolicy.DISABLED.value


def _join_surrogates(value: Any) -> Any:
    """Strings as JSON means them: json5 leaves an escaped emoji ("\\ud83e\\udd16") as two halves."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, dict):
        return {_join_surrogates(k): _join_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_join_surrogates(v) for v in value]
    return value


def _discord_application_id(token: str) -> str:
    """The bot's user id, which a Discord bot token starts with (base64), or ""."""
    head = token.split(".", 1)[0]
    try:
        decoded = base64.b64decode(head + "=" * (-len(head) % 4), validate=False).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return ""
    return decoded if decoded.isdigit() else ""


def _channel_input(
    ctype: ChannelType, path: str, account: dict[str, Any], env: Mapping[str, str], lost: list[str]
) -> tuple[ChannelInput, list[str]]:
    """One channel account as a bot's channel, and the problems with its secrets."""
    problems: list[str] = []
    transport = account.get("transport")
    if isinstance(transport, dict):  # Signal's {kind, url}: kept as two fields
        account = {**account, "transport": transport.get("kind"), "url": transport.get("url")}
    creds: dict[str, str] = {}
    for key in CHANNEL_CREDENTIAL_FIELDS[ctype]:
        raw = str(account.get(key) or "")
        value = str(im.resolve_env(raw, env))
        if raw and (not value or value in im.REDACTED_MARKERS):
            problems.append(f"{path}.{key}: the file does not hold this secret ({raw}); put it in the file.")
        elif value:
            creds[key] = value
    app_id = _discord_application_id(creds.get("token", "")) if ctype is ChannelType.DISCORD else ""
    if app_id and not creds.get("applicationId"):
        creds["applicationId"] = app_id  # OpenClaw asks Discord; the token says it too
    group_ids, group_mentions = groups_of(ctype, account)
    kept = [g for g in group_ids if group_id_problem(ctype, g) is None]
    for gid in group_ids:
        if gid not in kept:
            lost.append(f"{path}.{GROUPS_KEY[ctype]}.{gid}")
    senders = [str(a) for a in account.get("groupAllowFrom") or [] if str(a) != "*"]
    if (
        senders
        and ctype in (ChannelType.TELEGRAM, ChannelType.WHATSAPP)
        and not all(s.startswith("-") for s in senders)
    ):
        lost.append(f"{path}.groupAllowFrom")  # ClawNet lets every member of a listed group talk
    channel = ChannelInput(
        type=ctype.value,
        credentials=creds,
        dm_policy=str(account.get("dmPolicy") or "pairing"),
        allow_from=[str(a) for a in account.get("allowFrom") or [] if str(a) != "*"],
        group_policy=_group_policy(ctype, account, kept),
        group_allow_from=kept,
        mention_policy=default_mention(ctype, account),
        group_mentions={g: m for g, m in group_mentions.items() if g in kept},
        enabled=account.get("enabled") is not False,
    )
    return channel, problems


def _clawnet_ids(
    session: Session, settings: Settings, agents: list[im.FileAgent], names: dict[str, str]
) -> dict[str, str]:
    """Each file agent id -> the bot's agent id: the same, or (for OpenClaw's reserved ids such as
    `main`) one derived from the agent's name."""
    out: dict[str, str] = {}
    for agent in agents:
        new = agent.agent_id
        if agent.agent_id in RESERVED_AGENT_IDS:
            new = available_agent_id(session, settings, names[agent.agent_id])
            while new in out.values() or new in RESERVED_AGENT_IDS:
                new = available_agent_id(session, settings, f"{names[agent.agent_id]} {len(out) + 2}")
        out[agent.agent_id] = new
    return out


def _providers(
    session: Session,
    needs: list[im.NeededProvider],
    keys: Mapping[str, str],
    *,
    require_keys: bool,
    may_manage: bool,
) -> tuple[dict[str, ModelProvider], list[str], list[ProviderNeed], list[str]]:
    """ClawNet providers for what the file needs: existing ones reused by name, the others created
    (keys from the person first, then the file). Returns them, the new names, what the preview
    asks for, and the problems. Adding a provider, or models to one, is an admin's (`may_manage`)."""
    existing = {p.name: p for p in session.exec(select(ModelProvider)).all()}
    found: dict[str, ModelProvider] = {}
    new: list[str] = []
    asks: list[ProviderNeed] = []
    errors: list[str] = []
    for need in needs:
        row = existing.get(need.name)
        if row is not None:
            listed = {str(m.get("id")) for m in row.models}
            missing = [m for m in need.models if row.models and m not in listed]
            if missing and not may_manage:
                errors.append(
                    f"Model provider '{need.name}' has no model {', '.join(missing)}; only admins "
                    "can add models to a provider (Settings → Model providers)."
                )
            elif missing:  # the provider is there; the file uses more of its models
                row.models = [*row.models, *({"id": m, "name": m} for m in missing)]
                session.add(row)
                new.append(f"{need.name} (adds {', '.join(missing)})")
            found[need.name] = row
            continue
        if not may_manage:
            errors.append(
                f"Model provider '{need.name}' is not in ClawNet yet; only admins can add model "
                "providers (Settings → Model providers)."
            )
            continue
        key = (keys.get(need.name) or "").strip() or need.api_key
        label = KIND_LABELS[need.kind]
        if need.defined_in_file and need.base_url:
            label = f"{label} API at {need.base_url}"
        asks.append(
            ProviderNeed(
                need.name,
                label,
                list(need.models),
                need.key_hint or "in the file",
                has_key=bool(key),
                from_file=bool(need.api_key),
            )
        )
        if not key and require_keys:
            errors.append(f"Enter the API key of model provider '{need.name}' ({need.key_hint}).")
        entries = {str(m.get("id")): m for m in need.entry.get("models") or [] if isinstance(m, Mapping)}
        row = ModelProvider(
            name=need.name,
            display_name=KIND_LABELS[need.kind] if not need.defined_in_file else need.name,
            kind=need.kind.value,
            base_url=need.base_url,
            api_key_enc=PROVIDER_API_KEY.seal(key) if key else None,
            models=[
                {
                    "id": m,
                    "name": str(entries.get(m, {}).get("name") or m),
                    **(
                        {"context_window": entries[m]["contextWindow"]}
                        if entries.get(m, {}).get("contextWindow")
                        else {}
                    ),
                    **(
                        {"max_tokens": entries[m]["maxTokens"]} if entries.get(m, {}).get("maxTokens") else {}
                    ),
                }
                for m in need.models
            ],
        )
        session.add(row)
        session.flush()
        found[need.name] = row
        new.append(need.name)
    return found, new, asks, errors


def import_openclaw_config(
    session: Session,
    settings: Settings,
    actor: Principal,
    raw: str | Mapping[str, Any],
    *,
    provider_keys: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    uploads: WorkspaceUploads | None = None,
    require_keys: bool = True,
    remote_gateway_id: int | None = None,
    secrets_readable: bool = True,
) -> ImportResult:
    """Bots from an OpenClaw config (text, or a config read from a gateway). Rows are added to
    `session` (the caller commits or rolls back); `ImportResult.errors` empty means it all fits.
    `secrets_readable=False` (a gateway's own config, redacted): channels whose secrets are
    redacted are listed as not carried over instead of refused."""
    if isinstance(raw, Mapping):
        config: Any = dict(raw)
    else:
        try:
            config = _join_surrogates(json5.loads(raw))
        except ValueError as exc:
            return ImportResult([], [], [f"The file is not valid JSON5: {exc}"], [])
    if not isinstance(config, dict):
        return ImportResult([], [], ["The file must hold a JSON5 object (an OpenClaw config)."], [])
    errors: list[str] = []
    variables = im.file_env(config, env or {})
    unsupported = im.unsupported_paths(config)
    agents, implicit = im.file_agents(config)
    known = set(session.exec(select(ModelProvider.name)).all())
    needs, problems = im.needed_providers(config, agents, variables, known)
    errors.extend(problems)
    providers, new_providers, asks, key_errors = _providers(
        session,
        needs,
        provider_keys or {},
        require_keys=require_keys,
        may_manage=can(session, actor, Action.MANAGE_PROVIDERS),
    )
    errors.extend(key_errors)

    names = {
        a.agent_id: str(
            a.entry.get("name") or (a.entry.get("identity") or {}).get("name") or a.agent_id.capitalize()
        )[:80]
        for a in agents
    }
    ids = _clawnet_ids(session, settings, agents, names)
    bindings = [b for b in config.get("bindings") or [] if isinstance(b, dict)]
    bindings = [{**b, "agentId": ids.get(str(b.get("agentId")), str(b.get("agentId")))} for b in bindings]
    entries = {ids[a.agent_id]: a for a in agents if a.model.primary}
    for agent in agents:
        if not agent.model.primary and len(agents) > 1:  # OpenClaw would pick a model itself
            unsupported.append(
                f"{agent.path} (no model: give it one, or agents.defaults.model, to import it)"
            )
    if not entries:
        errors.append("No agent has a model (agents.defaults.model.primary): name one to import it.")

    # Channels: each account belongs to the agent a binding routes it to.
    owned: dict[str, list[tuple[ChannelType, str, dict[str, Any]]]] = {agent: [] for agent in entries}
    account_owner: dict[tuple[str, str], str] = {}  # (channel, account id in the file) -> agent
    for ctype_name, section in (config.get("channels") or {}).items():
        try:
            ctype = ChannelType(ctype_name)
        except ValueError:
            continue  # listed as unsupported
        if not isinstance(section, dict) or section.get("enabled") is False:
            continue
        for account_id, account in _channel_accounts(section).items():
            path = f"channels.{ctype_name}" + (f".accounts.{account_id}" if section.get("accounts") else "")
            on_account = [
                b
                for b in bindings
                if (b.get("match") or {}).get("channel") == ctype_name
                and (b.get("match") or {}).get("accountId", "default") in (account_id, "*")
            ]
            # The account's owner gets all of it; a rule for one conversation on it does not own it.
            whole = [b for b in on_account if not _is_specific(b.get("match") or {})]
            targets = {str(b.get("agentId")) for b in (whole or on_account)} & set(entries)
            if not targets and len(entries) == 1:
                targets = set(entries)
            if len(targets) != 1:
                unsupported.append(f"{path} (routed to {len(targets)} agents; a bot owns one account)")
                continue
            owner = targets.pop()
            if any(t == ctype for t, _, _ in owned[owner]):
                unsupported.append(f"{path} (a second {ctype_name} account of one agent)")
                continue
            owned[owner].append((ctype, account_id, account))
            account_owner[(ctype.value, account_id)] = owner

    session_section = config.get("session") or {}
    reset = session_section.get("reset") or {}
    files = uploads.persona_for(agents, implicit) if uploads else {}
    results: list[ImportedBot] = []
    inputs: list[tuple[BotInput, im.FileAgent]] = []
    for agent_id, agent in entries.items():
        entry, model = agent.entry, agent.model
        provider_name, _, model_id = model.primary.partition("/")
        found = providers.get(provider_name)
        if found is None and not any(provider_name in p for p in problems):
            errors.append(f"{agent.path}.model: no model provider '{provider_name}'.")
        identity = entry.get("identity") or {}
        channels = []
        for ctype, account_id, account in owned.get(agent_id, []):
            path = f"channels.{ctype.value}.accounts.{account_id}"
            channel, secret_problems = _channel_input(ctype, path, account, variables, unsupported)
            if secret_problems and not secrets_readable:
                unsupported.append(f"{path} (its secrets cannot be read from the gateway)")
                continue
            errors.extend(secret_problems)
            channels.append(channel)
        specific = [
            rule
            for n, b in enumerate(bindings)
            if str(b.get("agentId")) == agent_id
            and (rule := _routing_rule(b, agent_id, account_owner, priority=len(bindings) - n)) is not None
        ]
        tools = agent.tools
        inp = BotInput(
            name=names[agent.agent_id],
            provider_id=found.id if found else None,
            model_id=model_id,
            agent_id=agent_id,
            persona=(files.get(agent.agent_id) or {}).get("SOUL.md", "")[:20000],
            emoji=str(identity.get("emoji") or "")[:16],
            session_scope=str(session_section.get("scope") or "per-sender"),
            dm_scope=str(session_section.get("dmScope") or "per-channel-peer"),
            reset_mode=str(reset.get("mode") or "idle"),
            reset_at_hour=int(reset.get("atHour", 4)),
            reset_idle_minutes=int(reset.get("idleMinutes", 120)),
            tools_profile=str(tools.get("profile") or "messaging"),
            tools_allow=[str(t) for t in tools.get("alsoAllow") or []],
            tools_deny=[str(t) for t in tools.get("deny") or []],
            channels=channels,
            bindings=specific,
            remote_gateway_id=remote_gateway_id,
        )
        if AGENT_ID_RE.fullmatch(agent_id) and (
            problem := agent_id_problem(session, settings, agent_id, bot_id=None)
        ):
            errors.append(f"{agent.path}: {problem}")
        elif not AGENT_ID_RE.fullmatch(agent_id):
            errors.append(f"{agent.path}: '{agent_id}' is not an agent id OpenClaw accepts.")
        checked = validate_bot_input(
            session,
            settings,
            inp,
            owner_id=actor.user_id,
            pending_accounts=frozenset((c, agent) for (c, _), agent in account_owner.items()),
        )
        for key, message in checked.items():
            if key != "agent_id" and not (key in ("provider_id", "model_id") and found is None):
                errors.append(f"{agent.path} ({key}): {message}")
        for ref in model.fallbacks:
            if ref.partition("/")[0] not in providers and not problems:
                errors.append(f"{agent.path}.model.fallbacks: no model provider for '{ref}'.")
        inputs.append((inp, agent))
        results.append(
            ImportedBot(
                inp.name,
                agent_id,
                [c.type for c in channels],
                model.primary,
                source_id=agent.agent_id,
                fallbacks=list(model.fallbacks),
                files=sorted((files.get(agent.agent_id) or {}).keys()),
            )
        )

    names_list = [inp.name for inp, _ in inputs]
    for name in {n for n in names_list if names_list.count(n) > 1}:
        errors.append(f"Two agents are both named '{name}'.")
    extra = uploads.problems(agents, implicit) if uploads else []
    errors.extend(extra)
    planned, cron, skipped_jobs = plan_schedules(
        uploads.cron_sources if uploads else [], agents, ids, set(entries)
    )
    unsupported.extend(skipped_jobs)
    if errors:
        return ImportResult(results, new_providers, errors, [], asks, unsupported, cron)

    bot_ids = []
    made: dict[str, int] = {}
    default_skills = ((config.get("agents") or {}).get("defaults") or {}).get("skills")
    for inp, agent in inputs:
        bot = Bot(
            owner_id=actor.user_id,
            name=inp.name,
            agent_id=inp.agent_id,
            desired_status=DesiredStatus.RUNNING.value,
        )
        apply_input(bot, inp)
        bot.model_fallbacks = list(agent.model.fallbacks)
        bot.identity_theme = str((agent.entry.get("identity") or {}).get("theme") or "")[:200]
        bot.tools_allow_only = [str(t) for t in agent.tools.get("allow") or []]
        bot.persona_files = dict(files.get(agent.agent_id) or {})
        session.add(bot)
        session.flush()
        assert bot.id is not None
        for skill in dict.fromkeys(im.skill_list(agent.entry.get("skills", default_skills))):
            session.add(BotSkill(bot_id=bot.id, skill=skill, enabled=True))
        replace_channels(session, bot, inp.channels)
        replace_bindings(session, bot, inp.bindings)
        bot_ids.append(bot.id)
        made[bot.agent_id] = bot.id
    add_schedules(session, made, planned, actor.user_id)
    return ImportResult(results, new_providers, [], bot_ids, asks, unsupported, cron)
