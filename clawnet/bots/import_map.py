"""Reading an OpenClaw config the way OpenClaw itself reads it, before ClawNet maps it to bots
(pure: no database, no disk, no network).

- The agents: `agents.entries` (or the older `agents.list`), or, with neither, OpenClaw's
  implicit single agent `main`; each inherits `agents.defaults.model` (with its fallbacks) and
  the root `tools` policy where it sets none of its own.
- The model providers the file needs: those its agents' models and fallbacks name. A provider
  defined in `models.providers` brings its URL and models; OpenClaw's built-in ones (`anthropic`,
  `openai`, ...) only a name, their keys living in auth profiles or the environment
  (`${ENV}` references, `env.vars`): those keys are asked for.
- Every key ClawNet does not carry over, as a dotted path (`unsupported_paths`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from clawnet.bots.skill_rules import name_problem
from clawnet.enums import ChannelType, ProviderKind

IMPLICIT_AGENT_ID = "main"
ENV_REF_RE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
# OpenClaw's built-in providers ClawNet can run as its own: kind, base URL, the usual variable.
BUILTIN_PROVIDERS: dict[str, tuple[ProviderKind, str, str]] = {
    "anthropic": (ProviderKind.ANTHROPIC, "", "ANTHROPIC_API_KEY"),
    "openai": (ProviderKind.OPENAI, "", "OPENAI_API_KEY"),
    "openrouter": (ProviderKind.OPENAI_COMPATIBLE, "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY"),
    "groq": (ProviderKind.OPENAI_COMPATIBLE, "https://api.groq.com/openai/v1", "GROQ_API_KEY"),
    "mistral": (ProviderKind.OPENAI_COMPATIBLE, "https://api.mistral.ai/v1", "MISTRAL_API_KEY"),
    "deepseek": (ProviderKind.OPENAI_COMPATIBLE, "https://api.deepseek.com/v1", "DEEPSEEK_API_KEY"),
    "xai": (ProviderKind.OPENAI_COMPATIBLE, "https://api.x.ai/v1", "XAI_API_KEY"),
}
# Redacted secrets: in ClawNet's own exports and in what a gateway's `config.get` answers.
REDACTED_MARKERS = ("__CLAWNET_REDACTED__", "__OPENCLAW_REDACTED__")


@dataclass(frozen=True)
class ModelChoice:
    primary: str  # "<provider>/<model>", "" when the file names none
    fallbacks: tuple[str, ...] = ()


@dataclass(frozen=True)
class FileAgent:
    """One agent of the file, with what it inherits filled in."""

    agent_id: str
    path: str  # where it is in the file, for messages ("agents.entries.home")
    entry: dict[str, Any]  # its own keys
    model: ModelChoice
    tools: dict[str, Any]  # its tools policy (its own keys over the root `tools`)


@dataclass(frozen=True)
class NeededProvider:
    """A provider the file's models need, and where its key comes from."""

    name: str
    kind: ProviderKind
    base_url: str
    models: tuple[str, ...]
    api_key: str  # "" when the file does not give it: to be asked for
    key_hint: str  # where OpenClaw would find the key ("${ANTHROPIC_API_KEY}", "auth profile ...")
    defined_in_file: bool
    entry: dict[str, Any] = field(default_factory=dict)


def resolve_env(value: Any, env: Mapping[str, str]) -> Any:
    """A `${VAR}` reference replaced by its value in `env` ("" when unknown); other values as is."""
    if isinstance(value, str) and (m := ENV_REF_RE.match(value.strip())):
        return env.get(m.group(1), "")
    return value


def file_env(config: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, str]:
    """The variables a `${VAR}` may name: the caller's environment, then the file's `env.vars`."""
    section = config.get("env") or {}
    own = section.get("vars") if isinstance(section, Mapping) else None
    return {**{k: str(v) for k, v in (own or {}).items() if isinstance(own, Mapping)}, **env}


def model_choice(value: Any) -> ModelChoice:
    if isinstance(value, str):
        return ModelChoice(value.strip())
    if isinstance(value, Mapping):
        fallbacks = tuple(str(f).strip() for f in value.get("fallbacks") or [] if str(f).strip())
        return ModelChoice(str(value.get("primary") or "").strip(), fallbacks)
    return ModelChoice("")


def file_agents(config: Mapping[str, Any]) -> tuple[list[FileAgent], bool]:
    """The file's agents (its implicit single agent when it lists none) and whether it was
    the implicit one."""
    section = config.get("agents") or {}
    defaults = section.get("defaults") or {}
    raw: list[tuple[str, str, dict[str, Any]]] = []
    for agent_id, entry in (section.get("entries") or {}).items():
        raw.append((str(agent_id), f"agents.entries.{agent_id}", dict(entry or {})))
    for n, item in enumerate(section.get("list") or []):  # older configs list agents
        if isinstance(item, Mapping) and item.get("id"):
            raw.append((str(item["id"]), f"agents.list[{n}]", dict(item)))
    implicit = not raw
    if implicit:
        raw.append((IMPLICIT_AGENT_ID, "agents", {}))
    root_tools = config.get("tools") if isinstance(config.get("tools"), Mapping) else {}
    default_model = model_choice(defaults.get("model"))
    agents = []
    for agent_id, path, entry in raw:
        own = model_choice(entry.get("model")) if entry.get("model") else default_model
        tools = {
            k: v for k, v in dict(root_tools or {}).items() if k in ("profile", "allow", "alsoAllow", "deny")
        }
        tools.update({k: v for k, v in dict(entry.get("tools") or {}).items()})
        agents.append(FileAgent(agent_id, path, entry, own, tools))
    return agents, implicit


def needed_providers(
    config: Mapping[str, Any],
    agents: list[FileAgent],
    env: Mapping[str, str],
    known: Collection[str] = (),
) -> tuple[list[NeededProvider], list[str]]:
    """The providers the agents' models name (in order of first use), and the problems. `known`:
    the providers ClawNet already has (reused by name, e.g. the built-in `echo`)."""
    defined = {
        str(k): dict(v or {}) for k, v in ((config.get("models") or {}).get("providers") or {}).items()
    }
    profiles = (config.get("auth") or {}).get("profiles") or {}
    profile_of = {str(p.get("provider")): str(pid) for pid, p in profiles.items() if isinstance(p, Mapping)}
    variables = file_env(config, env)
    wanted: dict[str, list[str]] = {}
    for agent in agents:
        for ref in (agent.model.primary, *agent.model.fallbacks):
            provider, _, model = ref.partition("/")
            if provider and model:
                models = wanted.setdefault(provider, [])
                if model not in models:
                    models.append(model)
    needs: list[NeededProvider] = []
    problems: list[str] = []
    for name, models in wanted.items():
        entry = defined.get(name)
        if entry is not None:
            raw_key = str(entry.get("apiKey") or "")
            key = str(resolve_env(raw_key, variables))
            hint = raw_key if ENV_REF_RE.match(raw_key) else ""
            if key in REDACTED_MARKERS:
                key, hint = "", "redacted in the file"
            listed = [
                str(m.get("id")) for m in entry.get("models") or [] if isinstance(m, Mapping) and m.get("id")
            ]
            api = str(entry.get("api") or "openai-completions")
            kind = ProviderKind.ANTHROPIC if api == "anthropic-messages" else ProviderKind.OPENAI_COMPATIBLE
            if name == "openai" and not entry.get("baseUrl"):
                kind = ProviderKind.OPENAI
            if api not in ("openai-completions", "anthropic-messages"):
                problems.append(f"models.providers.{name}.api: ClawNet does not support the '{api}' API.")
                continue
            needs.append(
                NeededProvider(
                    name,
                    kind,
                    str(entry.get("baseUrl") or ""),
                    tuple(dict.fromkeys([*listed, *models])),
                    key,
                    hint,
                    True,
                    entry,
                )
            )
        elif name in BUILTIN_PROVIDERS:
            kind, base_url, variable = BUILTIN_PROVIDERS[name]
            key = variables.get(variable, "")
            hint = f"auth profile '{profile_of[name]}'" if name in profile_of else f"${{{variable}}}"
            needs.append(NeededProvider(name, kind, base_url, tuple(models), key, hint, False))
        elif name in known:
            needs.append(
                NeededProvider(name, ProviderKind.OPENAI_COMPATIBLE, "", tuple(models), "", "", False)
            )
        else:
            problems.append(
                f"Model provider '{name}' is neither in the file (models.providers.{name}) nor one "
                "ClawNet knows; add it under Settings → Model providers first."
            )
    return needs, problems


# --- Keys ClawNet carries over (everything else is listed) ------------------------------------

Spec = bool | Callable[[Any], bool] | dict[str, "Spec"]


def skill_list(value: Any) -> list[str]:
    """An agent's `skills` allowlist when ClawNet can keep it (names it accepts), else []."""
    if not isinstance(value, list) or not value:
        return []
    names = [str(v) for v in value]
    return names if all(isinstance(v, str) and name_problem(v) is None for v in value) else []


_IDENTITY: dict[str, Spec] = {"name": True, "emoji": True, "theme": True}
_TOOLS: dict[str, Spec] = {"profile": True, "allow": True, "alsoAllow": True, "deny": True}
_AGENT: dict[str, Spec] = {
    "id": True,
    "name": True,
    "model": True,
    "identity": _IDENTITY,
    "tools": _TOOLS,
    "workspace": True,  # ClawNet keeps each bot's workspace in its own folder
    "agentDir": True,
    # A skill allowlist becomes the bot's skill choices (an empty one, "no skills", cannot).
    "skills": lambda v: bool(skill_list(v)),
}
_GROUP: dict[str, Spec] = {"requireMention": True}
_ACCOUNT: dict[str, Spec] = {
    **dict.fromkeys(
        (
            "enabled",
            "name",
            "botToken",
            "token",
            "applicationId",
            "appToken",
            "signingSecret",
            "account",
            "transport",
            "dmPolicy",
            "allowFrom",
            "groupPolicy",
            "groupAllowFrom",
            "requireMention",
            "apiRoot",
        ),
        True,
    ),
    "groups": {"*": _GROUP},
    "guilds": {"*": _GROUP},
    "channels": {"*": _GROUP},
}
_CHANNEL: dict[str, Spec] = {**_ACCOUNT, "accounts": {"*": _ACCOUNT}, "defaultAccount": True}
_MODEL_ENTRY: dict[str, Spec] = dict.fromkeys(
    ("id", "name", "reasoning", "input", "cost", "contextWindow", "maxTokens"), True
)
ROOT_SPEC: dict[str, Spec] = {
    "agents": {
        "ownership": True,
        "defaults": {
            "model": True,
            "workspace": True,
            "skipBootstrap": True,
            "skills": lambda v: bool(skill_list(v)),  # inherited by agents without their own
            # ClawNet turns heartbeats off; a file that does the same loses nothing.
            "heartbeat": lambda v: isinstance(v, Mapping) and v.get("every") in ("0m", "0"),
        },
        "entries": {"*": _AGENT},
        "list": {"[]": _AGENT},
    },
    "channels": {ct.value: _CHANNEL for ct in ChannelType},
    "bindings": {
        "[]": {
            "agentId": True,
            "type": lambda v: v == "route",
            "match": dict.fromkeys(("channel", "accountId", "peer", "guildId", "teamId", "roles"), True),
        }
    },
    "session": {
        "scope": True,
        "dmScope": True,
        "reset": dict.fromkeys(("mode", "atHour", "idleMinutes"), True),
    },
    "tools": _TOOLS,
    "models": {
        "mode": True,
        "providers": {"*": {"baseUrl": True, "apiKey": True, "api": True, "models": {"[]": _MODEL_ENTRY}}},
    },
    "auth": {"profiles": {"*": {"provider": True, "mode": True}}, "order": True},
    "env": {"vars": True},
    # ClawNet runs the gateway itself: its port, bind, auth, logging and plugin list are its own.
    "gateway": True,
    "logging": True,
    "meta": True,
    "$schema": True,
    "plugins": {"entries": {p: True for p in ("telegram", "discord", "slack", "whatsapp", "signal")}},
}


def unsupported_paths(config: Any, spec: Spec = ROOT_SPEC, prefix: str = "") -> list[str]:
    """The dotted path of each key (or list item) of `config` that `spec` does not carry, at the
    highest level where it starts not to."""
    if spec is True:
        return []
    if callable(spec) and not isinstance(spec, dict):
        return [] if spec(config) else [prefix]
    if not isinstance(spec, dict):
        return [prefix] if prefix else []
    if "[]" in spec:
        if not isinstance(config, list):
            return []
        return [
            p for n, item in enumerate(config) for p in unsupported_paths(item, spec["[]"], f"{prefix}[{n}]")
        ]
    if not isinstance(config, Mapping):
        return []
    out: list[str] = []
    for key, value in config.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        sub = spec.get(str(key), spec.get("*"))
        if sub is None or sub is False:
            out.append(path)
        else:
            out.extend(unsupported_paths(value, sub, path))
    return out
