"""Importing an existing openclaw.json: all or nothing, with every problem listed."""

from __future__ import annotations

import pytest
from sqlmodel import select

from clawnet.bots.service import BotsService
from clawnet.enums import Role
from clawnet.events import EventBus
from clawnet.models import Binding, Bot, BotChannel, ModelProvider
from clawnet.security.permissions import PermissionDenied, Principal
from clawnet.security.secret_fields import CHANNEL_CREDENTIALS, PROVIDER_API_KEY, unseal_json
from clawnet.settings import get_settings
from tests.factories import make_user

SAMPLE = """
// An OpenClaw config as people write them by hand.
{
  gateway: {mode: "local", port: 18789, auth: {mode: "token", token: "whatever"}},
  models: {mode: "merge", providers: {
    acme: {baseUrl: "http://127.0.0.1:9/v1", apiKey: "sk-acme", api: "openai-completions", models: [{id: "acme-1", name: "Acme"}]},
  }},
  agents: {
    defaults: {model: {primary: "acme/acme-1"}},
    entries: {
      support: {name: "Support", identity: {name: "Support", emoji: "🛟"}},
      sales: {name: "Sales", model: "acme/acme-1", tools: {profile: "minimal"}},
    },
  },
  channels: {
    telegram: {accounts: {
      help: {botToken: "123456789:AAH0f2l4xmPBtFakeTokenForTests_abcdefg", dmPolicy: "allowlist", allowFrom: ["111111111"]},
    }},
    discord: {token: "%s", applicationId: "123456789012345678", dmPolicy: "pairing"},
  },
  bindings: [
    {agentId: "support", match: {channel: "telegram", accountId: "help"}},
    {agentId: "sales", match: {channel: "discord", accountId: "default"}},
    {agentId: "sales", match: {channel: "discord", accountId: "default", guildId: "234567890123456789"}},
  ],
}
""" % ("d" * 70)


@pytest.fixture
def service(migrated):
    return BotsService(get_settings(), EventBus())


async def test_agents_channels_and_bindings_become_bots(session, service):
    operator = Principal.of(make_user(session, Role.ADMIN))
    session.commit()
    result = await service.import_config(operator, SAMPLE)
    assert result.errors == []
    assert {(b.agent_id, tuple(b.channels)) for b in result.bots} == {
        ("support", ("telegram",)),
        ("sales", ("discord",)),
    }
    session.expire_all()
    bots = {b.agent_id: b for b in session.exec(select(Bot)).all()}
    assert bots["support"].emoji == "🛟" and bots["sales"].tools_profile == "minimal"
    assert all(b.owner_id == operator.user_id and b.gateway_id is not None for b in bots.values())
    provider = session.exec(select(ModelProvider).where(ModelProvider.name == "acme")).one()
    assert PROVIDER_API_KEY.unseal(provider.api_key_enc) == "sk-acme"
    channel = session.exec(select(BotChannel).where(BotChannel.bot_id == bots["support"].id)).one()
    assert unseal_json(CHANNEL_CREDENTIALS, channel.credentials_enc)["botToken"].startswith("123456789:")
    assert channel.allow_from == ["111111111"]
    binding = session.exec(select(Binding).where(Binding.bot_id == bots["sales"].id)).one()
    assert binding.guild_id == "234567890123456789"


async def test_a_file_with_problems_imports_nothing_and_lists_them_all(session, service):
    operator = Principal.of(make_user(session, Role.OPERATOR))
    session.commit()
    broken = (
        SAMPLE.replace('"acme/acme-1"}},', '"nowhere/x"}},')
        .replace("Bad", "")
        .replace('accountId: "help"}}', 'accountId: "nobody"}}')
        .replace('"Sales"', '"Bad Name That Is Fine"')
    )
    broken = broken.replace("sales: {", "'Bad Id': {")
    result = await service.import_config(operator, broken)
    assert result.bot_ids == []
    assert any("Model provider 'nowhere'" in e for e in result.errors)
    # An account no binding routes to an agent is not refused: it is listed as not carried over.
    assert any(p.startswith("channels.telegram.accounts.help") for p in result.unsupported)
    assert any("agents.entries.Bad Id" in e for e in result.errors)
    session.expire_all()
    assert session.exec(select(Bot)).all() == []
    assert (
        session.exec(select(ModelProvider).where(ModelProvider.name == "acme")).first() is None
    )  # rolled back


async def test_dry_run_previews_without_writing(session, service):
    operator = Principal.of(make_user(session, Role.ADMIN))
    session.commit()
    result = await service.import_config(operator, SAMPLE, dry_run=True)
    assert result.errors == [] and len(result.bots) == 2
    session.expire_all()
    assert session.exec(select(Bot)).all() == []


async def test_not_json5_and_viewer_are_refused(session, service):
    viewer = Principal.of(make_user(session, Role.VIEWER))
    operator = Principal.of(make_user(session, Role.OPERATOR))
    session.commit()
    assert "not valid JSON5" in (await service.import_config(operator, "{agents: ")).errors[0]
    with pytest.raises(PermissionDenied):
        await service.import_config(viewer, SAMPLE)


async def test_an_emoji_escaped_in_json5_arrives_whole(session, service):
    operator = Principal.of(make_user(session, Role.ADMIN))
    session.commit()
    raw = SAMPLE.replace('emoji: "🛟"', 'emoji: "\\ud83e\\udd16"')  # as json.dumps writes it
    result = await service.import_config(operator, raw)
    assert result.errors == []
    session.expire_all()
    assert session.exec(select(Bot).where(Bot.agent_id == "support")).one().emoji == "🤖"
