"""Importing an existing `openclaw.json`: its agents, channels and bindings become bots.

All or nothing: every problem is collected first (and reported together); rows are written only
if there is none, in the caller's transaction. Model providers in the file (with their keys) are
created when ClawNet has none of that name; agents keep their ids when those are free.
"""

from __future__ import annotations

from typing import Any

import json5
from sqlmodel import Session, select

from clawnet.bots.forms import BindingInput, BotInput, ChannelInput
from clawnet.bots.store import apply_input, replace_bindings, replace_channels
from clawnet.bots.validation import agent_id_problem, validate_bot_input
from clawnet.bots.views import ImportedBot, ImportResult
from clawnet.controlplane.channel_groups import default_mention, groups_of
from clawnet.controlplane.openclaw_config import CHANNEL_CREDENTIAL_FIELDS, PROVIDER_API
from clawnet.enums import ChannelType, DesiredStatus, ProviderKind
from clawnet.models import Bot, ModelProvider
from clawnet.security.permissions import Principal
from clawnet.security.secret_fields import PROVIDER_API_KEY
from clawnet.settings import Settings

_KIND_BY_API = {"anthropic-messages": ProviderKind.ANTHROPIC}


def _provider_kind(name: str, entry: dict[str, Any]) -> ProviderKind:
    if name == "openai":
        return ProviderKind.OPENAI
    return _KIND_BY_API.get(str(entry.get("api", "")), ProviderKind.OPENAI_COMPATIBLE)


def _channel_accounts(section: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A channel section's accounts; top-level settings form the "default" account."""
    accounts = {str(k): dict(v or {}) for k, v in (section.get("accounts") or {}).items()}
    top = {k: v for k, v in section.items() if k not in ("accounts", "defaultAccount", "enabled")}
    if (
        any(k in top for k in ("botToken", "token", "appToken", "account", "dmPolicy", "allowFrom"))
        or not accounts
    ):
        merged = {**top, **accounts.get("default", {})}
        if merged:
            accounts["default"] = merged
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


def import_openclaw_config(session: Session, settings: Settings, actor: Principal, raw: str) -> ImportResult:
    errors: list[str] = []
    try:
        config = json5.loads(raw)
    except ValueError as exc:
        return ImportResult([], [], [f"The file is not valid JSON5: {exc}"], [])
    if not isinstance(config, dict):
        return ImportResult([], [], ["The file must hold a JSON5 object (an OpenClaw config)."], [])

    # Providers: reuse by name, create the missing ones from the file.
    providers: dict[str, ModelProvider] = {p.name: p for p in session.exec(select(ModelProvider)).all()}
    new_providers: list[str] = []
    for name, entry in ((config.get("models") or {}).get("providers") or {}).items():
        if name in providers or not isinstance(entry, dict):
            continue
        if str(entry.get("api", "openai-completions")) not in PROVIDER_API.values():
            errors.append(f"models.providers.{name}: ClawNet does not support the '{entry.get('api')}' API.")
            continue
        key = str(entry.get("apiKey") or "")
        provider = ModelProvider(
            name=name,
            display_name=name,
            kind=_provider_kind(name, entry).value,
            base_url=str(entry.get("baseUrl") or ""),
            api_key_enc=PROVIDER_API_KEY.seal(key) if key and not key.startswith("__") else None,
            models=[
                {"id": m.get("id"), "name": m.get("name") or m.get("id")}
                for m in entry.get("models") or []
                if m.get("id")
            ],
        )
        session.add(provider)
        session.flush()
        providers[name] = provider
        new_providers.append(name)

    agents_section = config.get("agents") or {}
    entries: dict[str, dict[str, Any]] = dict(agents_section.get("entries") or {})
    for item in agents_section.get("list") or []:  # older configs list agents
        if isinstance(item, dict) and item.get("id"):
            entries[str(item["id"])] = item
    if not entries:
        errors.append("The file defines no agents (agents.entries): there is nothing to import.")
    default_model = (agents_section.get("defaults") or {}).get("model")
    bindings = [b for b in config.get("bindings") or [] if isinstance(b, dict)]

    # Channels: each account belongs to the agent a binding routes it to.
    owned: dict[str, list[tuple[str, str, dict[str, Any]]]] = {agent: [] for agent in entries}
    account_owner: dict[tuple[str, str], str] = {}  # (channel, account id in the file) -> agent
    for ctype_name, section in (config.get("channels") or {}).items():
        try:
            ctype = ChannelType(ctype_name)
        except ValueError:
            errors.append(f"channels.{ctype_name}: ClawNet does not manage this channel type.")
            continue
        for account_id, account in _channel_accounts(section or {}).items():
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
                errors.append(
                    f"channels.{ctype_name}.accounts.{account_id}: bind it to exactly one agent "
                    f"(found {len(targets)})."
                )
                continue
            owner = targets.pop()
            owned[owner].append((ctype.value, account_id, account))
            account_owner[(ctype.value, account_id)] = owner

    results: list[ImportedBot] = []
    inputs: list[tuple[BotInput, str]] = []
    for agent_id, entry in entries.items():
        model = entry.get("model") or default_model or ""
        model_ref = model.get("primary", "") if isinstance(model, dict) else str(model)
        provider_name, _, model_id = model_ref.partition("/")
        found = providers.get(provider_name)
        if found is None:
            errors.append(
                f"agents.entries.{agent_id}.model: no model provider '{provider_name}' in ClawNet or in the file."
            )
        identity = entry.get("identity") or {}
        channels = []
        for ctype_value, _account_id, account in owned.get(agent_id, []):
            transport = account.get("transport")
            if isinstance(transport, dict):  # Signal's {kind, url}: kept as two fields
                account = {**account, "transport": transport.get("kind"), "url": transport.get("url")}
            creds = {
                k: str(account[k])
                for k in CHANNEL_CREDENTIAL_FIELDS[ChannelType(ctype_value)]
                if account.get(k)
            }
            ctype = ChannelType(ctype_value)
            group_ids, group_mentions = groups_of(ctype, account)
            channels.append(
                ChannelInput(
                    type=ctype_value,
                    credentials=creds,
                    dm_policy=str(account.get("dmPolicy", "pairing")),
                    allow_from=[str(a) for a in account.get("allowFrom") or [] if str(a) != "*"],
                    group_policy=str(account.get("groupPolicy", "disabled")),
                    group_allow_from=group_ids,
                    mention_policy=default_mention(ctype, account),
                    group_mentions=group_mentions,
                )
            )
        specific = [
            rule
            for n, b in enumerate(bindings)
            if str(b.get("agentId")) == agent_id
            and (rule := _routing_rule(b, agent_id, account_owner, priority=len(bindings) - n)) is not None
        ]
        tools = entry.get("tools") or {}
        inp = BotInput(
            name=str(entry.get("name") or identity.get("name") or agent_id)[:80],
            provider_id=found.id if found else None,
            model_id=model_id,
            agent_id=agent_id,
            emoji=str(identity.get("emoji") or "")[:16],
            tools_profile=str(tools.get("profile") or "messaging"),
            tools_deny=[str(t) for t in tools.get("deny") or []],
            channels=channels,
            bindings=specific,
        )
        problem = agent_id_problem(session, settings, agent_id, bot_id=None)
        if problem:
            errors.append(f"agents.entries.{agent_id}: {problem}")
        checked = validate_bot_input(
            session,
            settings,
            inp,
            owner_id=actor.user_id,
            pending_accounts=frozenset((c, agent) for (c, _), agent in account_owner.items()),
        )
        for field, message in checked.items():
            if field != "agent_id" and not (field in ("provider_id", "model_id") and found is None):
                errors.append(f"agents.entries.{agent_id} ({field}): {message}")
        inputs.append((inp, model_ref))
        results.append(ImportedBot(inp.name, agent_id, [c.type for c in channels], model_ref))

    names = [inp.name for inp, _ in inputs]
    for name in {n for n in names if names.count(n) > 1}:
        errors.append(f"Two agents are both named '{name}'.")
    if errors:
        return ImportResult(results, new_providers, errors, [])

    bot_ids = []
    for inp, _ in inputs:
        bot = Bot(
            owner_id=actor.user_id,
            name=inp.name,
            agent_id=inp.agent_id,
            desired_status=DesiredStatus.RUNNING.value,
        )
        apply_input(bot, inp)
        session.add(bot)
        session.flush()
        replace_channels(session, bot, inp.channels)
        replace_bindings(session, bot, inp.bindings)
        assert bot.id is not None
        bot_ids.append(bot.id)
    return ImportResult(results, new_providers, [], bot_ids)
