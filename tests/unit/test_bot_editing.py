"""Editing a bot through the wizard's form changes only what the person changed: routing
bindings, denied tools, a disabled channel and everything else the form does not show stay as
they were. And changes that running gateways must see (a model provider's key, URL or models)
are sent to the control plane at once, not left for its next periodic pass."""

from __future__ import annotations

import dataclasses

import pytest
from sqlmodel import select

from clawnet.bots.providers import ProviderInput
from clawnet.bots.service import BotsService
from clawnet.bots.store import stored_input
from clawnet.enums import Role
from clawnet.events import EventBus
from clawnet.models import Binding, Bot, BotChannel, ModelProvider
from clawnet.security.permissions import Principal
from clawnet.settings import get_settings
from tests.factories import make_provider, make_user

CONFIG = """
{
  gateway: {mode: "local", port: 18789, auth: {mode: "token", token: "whatever"}},
  models: {mode: "merge", providers: {
    acme: {baseUrl: "http://127.0.0.1:9/v1", apiKey: "sk-acme", api: "openai-completions",
           models: [{id: "acme-1", name: "Acme"}, {id: "acme-2", name: "Acme Two"}]},
  }},
  agents: {entries: {
    sales: {name: "Sales", model: "acme/acme-1", tools: {profile: "minimal", deny: ["exec", "browser"]}},
  }},
  channels: {
    telegram: {botToken: "123456789:AAH0f2l4xmPBtFakeTokenForTests_abcdefg", dmPolicy: "allowlist",
               allowFrom: ["111111111"], groupPolicy: "allowlist", groupAllowFrom: ["-100200300"]},
    discord: {token: "%s", applicationId: "123456789012345678", dmPolicy: "pairing"},
  },
  bindings: [
    {agentId: "sales", match: {channel: "telegram", peer: {kind: "group", id: "-100200300"}}},
    {agentId: "sales", match: {channel: "discord", guildId: "234567890123456789"}},
  ],
}
""" % ("d" * 70)


class RecordingControl:
    """The control plane as the bots service sees it, recording what it is asked."""

    def __init__(self) -> None:
        self.kicks = 0

    @property
    def runs_here(self) -> bool:
        return False

    def kick(self) -> None:
        self.kicks += 1

    async def chat(self, *args, **kwargs):  # pragma: no cover - not used here
        raise AssertionError("no chat expected")

    def gateway(self, gateway_id: int):
        return None

    async def restart_gateway(self, gateway_id: int) -> None:  # pragma: no cover
        self.kicks += 1


@pytest.fixture
def control() -> RecordingControl:
    return RecordingControl()


@pytest.fixture
def service(migrated, control) -> BotsService:
    return BotsService(get_settings(), EventBus(), control)


@pytest.fixture
async def imported(session, service) -> tuple[Principal, int]:
    owner = Principal.of(make_user(session, Role.OPERATOR))
    make_provider(session, "acme", ("acme-1", "acme-2"))  # an admin's; the operator imports onto it
    session.commit()
    result = await service.import_config(owner, CONFIG)
    assert result.errors == []
    return owner, result.bot_ids[0]


def everything(session, bot_id: int):
    session.expire_all()
    bot = session.get(Bot, bot_id)
    return stored_input(session, bot)


async def test_editing_the_persona_keeps_bindings_denied_tools_and_every_other_setting(
    session, service, imported
):
    owner, bot_id = imported
    before = everything(session, bot_id)
    exported_before = await service.export_config(owner, bot_id)
    assert len(before.bindings) == 2 and before.tools_deny == ["exec", "browser"]

    form, stored = await service.edit_form(owner, bot_id)
    assert "telegram.botToken" in stored  # the wizard is told a secret is stored, never its value
    edited = dataclasses.replace(form, persona="You are the new sales bot.")
    await service.update_from_form(owner, bot_id, form, edited, {})

    after = everything(session, bot_id)
    assert after.persona == "You are the new sales bot."
    assert dataclasses.replace(after, persona=before.persona) == before
    assert await service.export_config(owner, bot_id) == exported_before  # the persona lives in files


async def test_a_changed_channel_policy_changes_only_that_channel(session, service, imported):
    owner, bot_id = imported
    before = everything(session, bot_id)
    form, _ = await service.edit_form(owner, bot_id)
    edited = dataclasses.replace(form, dm_policy={**form.dm_policy, "discord": "open"}, allow={**form.allow})
    edited.allow["discord"] = ["*"]
    await service.update_from_form(owner, bot_id, form, edited, {})
    after = everything(session, bot_id)
    changed = {c.type: c for c in after.channels}
    assert changed["discord"].dm_policy == "open" and changed["discord"].allow_from == ["*"]
    assert changed["telegram"] == {c.type: c for c in before.channels}["telegram"]
    assert after.bindings == before.bindings and after.tools_deny == before.tools_deny


async def test_removing_a_channel_removes_only_its_bindings_and_keeps_the_others_secrets(
    session, service, imported
):
    owner, bot_id = imported
    form, _ = await service.edit_form(owner, bot_id)
    await service.update_from_form(owner, bot_id, form, form.with_channel("discord", False), {})
    after = everything(session, bot_id)
    assert [c.type for c in after.channels] == ["telegram"]
    assert [b.channel for b in after.bindings] == ["telegram"]
    telegram = session.exec(select(BotChannel).where(BotChannel.bot_id == bot_id)).one()
    assert telegram.credentials_enc  # kept: the form never held it


async def test_two_people_editing_different_fields_both_keep_their_change(session, service, imported):
    owner, bot_id = imported
    form_a, _ = await service.edit_form(owner, bot_id)
    form_b, _ = await service.edit_form(owner, bot_id)
    await service.update_from_form(owner, bot_id, form_a, dataclasses.replace(form_a, emoji="🦀"), {})
    await service.update_from_form(
        owner, bot_id, form_b, dataclasses.replace(form_b, tools_profile="messaging"), {}
    )
    after = everything(session, bot_id)
    assert after.emoji == "🦀" and after.tools_profile == "messaging"
    assert session.exec(select(Binding).where(Binding.bot_id == bot_id)).all()


async def test_a_changed_model_provider_reaches_the_control_plane_at_once(
    session, service, control, imported
):
    admin = Principal.of(make_user(session, Role.ADMIN))
    session.commit()
    provider = session.exec(select(ModelProvider).where(ModelProvider.name == "acme")).one()
    kicks = control.kicks
    await service.save_provider(
        admin,
        ProviderInput(
            kind=provider.kind,
            name="acme",
            display_name="Acme",
            base_url="http://127.0.0.1:10/v1",
            api_key="sk-new-key",
            models_text="acme-1 | first\nacme-2 | second\nacme-3 | third",
        ),
        provider.id,
    )
    assert control.kicks == kicks + 1
