"""Model providers: the LLM endpoints bots use. Admins manage them; API keys are encrypted and
never shown again (a form leaves the key empty to keep the stored one)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy.exc
from sqlmodel import Session, col, select

from clawnet import audit
from clawnet.bots.views import ModelChoice, ProviderRow
from clawnet.enums import ProviderKind
from clawnet.errors import NotFound, UserError
from clawnet.models import Bot, ModelProvider, utcnow
from clawnet.security.permissions import Action, Principal, require
from clawnet.security.secret_fields import PROVIDER_API_KEY

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
KIND_LABELS = {
    ProviderKind.OPENAI: "OpenAI",
    ProviderKind.ANTHROPIC: "Anthropic",
    ProviderKind.OPENAI_COMPATIBLE: "OpenAI-compatible (any base URL)",
    ProviderKind.LOCAL_ECHO: "Local echo (no API key, for trying ClawNet)",
}


@dataclass
class ProviderInput:
    kind: str
    name: str
    display_name: str
    base_url: str = ""
    api_key: str = ""  # empty: keep the stored key
    models_text: str = ""  # one model per line: "id | description"
    extra: dict[str, str] = field(default_factory=dict)


def parse_models(text: str) -> list[dict[str, str]]:
    models = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        model_id, _, description = line.partition("|")
        models.append({"id": model_id.strip(), "name": model_id.strip(), "description": description.strip()})
    return models


def models_text(models: list[dict[str, Any]]) -> str:
    return "\n".join(f"{m.get('id')} | {m.get('description', '')}".rstrip(" |") for m in models)


def list_providers(session: Session, actor: Principal | None) -> list[ProviderRow]:
    """Every provider, for anyone who works with the fleet; keys only as "stored" or not."""
    require(session, actor, Action.VIEW_FLEET)
    return [
        ProviderRow(
            id=p.id or 0,
            name=p.name,
            display_name=p.display_name,
            kind=p.kind,
            kind_label=KIND_LABELS.get(ProviderKind(p.kind), p.kind),
            base_url=p.base_url,
            has_key=bool(p.api_key_enc),
            models=models_text(p.models),
            model_ids=", ".join(str(m.get("id")) for m in p.models),
        )
        for p in session.exec(select(ModelProvider).order_by(col(ModelProvider.display_name))).all()
    ]


def _validate(session: Session, inp: ProviderInput, provider_id: int | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    try:
        kind = ProviderKind(inp.kind)
    except ValueError:
        return {"kind": "Choose a provider type."}
    if not NAME_RE.fullmatch(inp.name.strip()):
        errors["name"] = (
            "Use lower-case letters, digits, '-' or '_' (it appears in model names like name/model)."
        )
    else:
        clash = session.exec(select(ModelProvider.id).where(ModelProvider.name == inp.name.strip())).first()
        if clash is not None and clash != provider_id:
            errors["name"] = f"A provider called '{inp.name.strip()}' exists already."
    if not inp.display_name.strip():
        errors["display_name"] = "Give it a name people will recognise."
    if kind is ProviderKind.OPENAI_COMPATIBLE and not re.match(r"^https?://", inp.base_url.strip()):
        errors["base_url"] = "The base URL, like https://api.example.com/v1."
    needs_key = kind in (ProviderKind.OPENAI, ProviderKind.ANTHROPIC)
    existing = session.get(ModelProvider, provider_id) if provider_id is not None else None
    has_key = bool(inp.api_key.strip()) or bool(existing and existing.api_key_enc)
    if needs_key and not has_key:
        errors["api_key"] = f"{KIND_LABELS[kind]} needs an API key."
    models = parse_models(inp.models_text)
    if not models and kind is not ProviderKind.LOCAL_ECHO:
        errors["models"] = "List at least one model id, one per line (e.g. gpt-5-mini | fast and cheap)."
    bad = [m["id"] for m in models if not re.fullmatch(r"[A-Za-z0-9._:/-]{1,200}", m["id"])]
    if bad:
        errors["models"] = f"Not a model id: {', '.join(bad)}."
    return errors


def save_provider(
    session: Session, actor: Principal | None, inp: ProviderInput, provider_id: int | None = None
) -> ModelProvider:
    actor = require(session, actor, Action.MANAGE_PROVIDERS)
    errors = _validate(session, inp, provider_id)
    if errors:
        raise UserError(field_errors=errors)
    provider = session.get(ModelProvider, provider_id) if provider_id is not None else None
    creating = provider is None
    if provider is None:
        provider = ModelProvider(name=inp.name.strip(), display_name="", kind=inp.kind)
    provider.name, provider.display_name, provider.kind = inp.name.strip(), inp.display_name.strip(), inp.kind
    provider.base_url = inp.base_url.strip()
    models = parse_models(inp.models_text)
    if ProviderKind(inp.kind) is ProviderKind.LOCAL_ECHO and not models:
        models = [{"id": "echo-1", "name": "Echo", "description": "Repeats what it is told."}]
    provider.models = models
    if inp.api_key.strip():
        provider.api_key_enc = PROVIDER_API_KEY.seal(inp.api_key.strip())
    provider.updated_at = utcnow()
    session.add(provider)
    session.flush()
    audit.record(
        session,
        actor,
        "provider.create" if creating else "provider.update",
        "provider",
        provider.id,
        f"{'added' if creating else 'changed'} provider {provider.display_name}",
        after={
            "name": provider.name,
            "kind": provider.kind,
            "models": [m["id"] for m in models],
            "key": "changed" if inp.api_key.strip() else "unchanged",
        },
    )
    return provider


def delete_provider(session: Session, actor: Principal | None, provider_id: int) -> None:
    actor = require(session, actor, Action.MANAGE_PROVIDERS)
    provider = session.get(ModelProvider, provider_id)
    if provider is None:
        raise NotFound("No such provider.")
    users = session.exec(select(Bot.name).where(Bot.provider_id == provider_id)).all()
    if users:
        raise UserError(f"Bots still use it: {', '.join(users[:5])}. Move them to another model first.")
    audit.record(
        session,
        actor,
        "provider.delete",
        "provider",
        provider_id,
        f"removed provider {provider.display_name}",
    )
    session.delete(provider)


def model_choices(session: Session) -> list[ModelChoice]:
    """Every model of every provider, for the wizard's model picker."""
    return [
        ModelChoice(
            value=f"{p.id}|{m.get('id')}",
            label=f"{p.display_name} · {m.get('name') or m.get('id')}",
            description=str(m.get("description") or ""),
        )
        for p in session.exec(select(ModelProvider).order_by(col(ModelProvider.display_name))).all()
        for m in p.models
    ]


def ensure_local_echo_provider(session: Session) -> ModelProvider:
    """The built-in "local echo" model provider (no API key; echoes what it is told), so a new
    user can try a bot at once. Several web workers starting at once may race to add it: the
    loser takes the winner's row."""

    def existing() -> ModelProvider | None:
        return session.exec(
            select(ModelProvider).where(ModelProvider.kind == ProviderKind.LOCAL_ECHO.value)
        ).first()

    provider = existing()
    if provider is None:
        provider = ModelProvider(
            name="echo",
            display_name="Local echo (no API key)",
            kind=ProviderKind.LOCAL_ECHO.value,
            models=[
                {
                    "id": "echo-1",
                    "name": "Echo",
                    "description": "Repeats what it is told. For trying ClawNet out.",
                }
            ],
        )
        try:
            with session.begin_nested():
                session.add(provider)
                session.flush()
        except sqlalchemy.exc.IntegrityError:
            provider = existing()
            assert provider is not None
    return provider
