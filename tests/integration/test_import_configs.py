"""Configs written the way OpenClaw's own documentation writes them import as bots, and the
gateway config ClawNet then generates for those bots is accepted by the real `openclaw config
validate`. One database for the module; each config is imported by its own operator; the
validations run two at a time."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlmodel import select

from clawnet import db
from clawnet.bots.service import BotsService
from clawnet.bots.views import ImportResult
from clawnet.controlplane.openclaw_cli import ValidationResult, validate_config
from clawnet.controlplane.plan import load_plan
from clawnet.enums import Role
from clawnet.events import EventBus
from clawnet.models import Bot, BotChannel
from clawnet.security.permissions import Principal
from clawnet.settings import get_settings
from tests.conftest import _reset_process_caches
from tests.factories import make_user

pytestmark = pytest.mark.gateway

FIXTURES = sorted((Path(__file__).parents[1] / "fixtures" / "openclaw_configs").glob("*.json5"))
# What a person types into the preview's key fields.
KEYS = {"anthropic": "sk-ant-test", "openai": "sk-test", "minimax": "mm-test"}


@dataclass
class Imported:
    result: ImportResult
    bots: dict[str, Bot]
    channels: dict[str, dict[str, BotChannel]]
    configs: list[dict]
    validations: list[ValidationResult]


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> dict[str, Imported]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CLAWNET_DATA_DIR", str(tmp_path_factory.mktemp("import-configs") / "data"))
        for name in (
            "DATABASE_URL",
            "CLAWNET_SECRET_KEY",
            "CLAWNET_PREVIOUS_SECRET_KEYS",
            "CLAWNET_KEY_FILE",
        ):
            mp.delenv(name, raising=False)
        _reset_process_caches()
        db.migrate()
        settings = get_settings()
        service = BotsService(settings, EventBus())
        out: dict[str, Imported] = {}

        async def run() -> None:
            sem = asyncio.Semaphore(2)

            async def check(config: dict) -> ValidationResult:
                async with sem:
                    return await validate_config(settings, config)

            pending = []
            for path in FIXTURES:
                with db.session_scope() as s:
                    actor = Principal.of(make_user(s, Role.ADMIN))
                result = await service.import_config(actor, path.read_text(), provider_keys=KEYS)
                with db.session_scope() as s:
                    bots = {
                        b.agent_id: b for b in s.exec(select(Bot).where(Bot.owner_id == actor.user_id)).all()
                    }
                    channels = {
                        agent: {
                            c.type: c for c in s.exec(select(BotChannel).where(BotChannel.bot_id == b.id))
                        }
                        for agent, b in bots.items()
                    }
                    gateway_ids = sorted({b.gateway_id for b in bots.values() if b.gateway_id is not None})
                    plans = [load_plan(s, settings, g) for g in gateway_ids]
                    configs = [p.config for p in plans if p is not None and p.config is not None]
                    s.expunge_all()
                out[path.stem] = Imported(result, bots, channels, configs, [])
                pending.append((path.stem, [check(c) for c in configs]))
            for stem, checks in pending:
                out[stem].validations = list(await asyncio.gather(*checks))

        asyncio.run(run())
        yield out
        _reset_process_caches()


def test_there_are_at_least_ten_documented_configs():
    assert len(FIXTURES) >= 10


@pytest.mark.parametrize("stem", [p.stem for p in FIXTURES])
def test_each_config_imports_and_its_gateway_config_is_valid_for_openclaw(imported, stem):
    got = imported[stem]
    assert got.result.errors == [], got.result.errors
    assert got.result.bot_ids and len(got.bots) == len(got.result.bots)
    assert got.configs, "the imported bots have a gateway config"
    for result in got.validations:
        assert result.valid, result.describe()


def test_the_implicit_agent_gets_a_clawnet_id_and_its_channel(imported):
    got = imported["01_single_agent_implicit"]
    (bot,) = got.bots.values()
    assert got.result.bots[0].source_id == "main" and bot.agent_id != "main"
    assert got.channels[bot.agent_id]["telegram"].allow_from == ["123456789"]
    need = {n.name: n for n in got.result.needs}["anthropic"]
    assert need.has_key and need.key_hint == "${ANTHROPIC_API_KEY}"


def test_identities_themes_and_whatsapp_group_mentions(imported):
    starter = imported["02_recommended_starter"]
    (bot,) = starter.bots.values()
    assert (bot.name, bot.emoji, bot.identity_theme) == ("Clawd", "🦞", "helpful assistant")
    whatsapp = starter.channels[bot.agent_id]["whatsapp"]
    assert whatsapp.group_policy == "open" and whatsapp.mention_policy == "mention"
    assert "messages" in starter.result.unsupported
    ids = imported["09_identities"]
    assert {b.agent_id: b.identity_theme for b in ids.bots.values()} == {
        "samantha": "helpful sloth",
        "quick": "terse and fast",
    }
    assert "agents.entries.samantha.identity.avatar" in ids.result.unsupported
    entry = ids.configs[0]["agents"]["entries"]["samantha"]
    assert entry["identity"] == {"name": "Samantha", "emoji": "🦥", "theme": "helpful sloth"}


def test_bindings_route_accounts_and_conversations(imported):
    got = imported["03_multi_agent_bindings"]
    assert set(got.channels["home"]) == {"whatsapp", "telegram"} and set(got.channels["work"]) == {"whatsapp"}
    bindings = got.configs[0]["bindings"]
    group_rule = {
        "agentId": "work",
        "match": {
            "channel": "telegram",
            "accountId": "home",
            "peer": {"kind": "group", "id": "-1001234567890"},
        },
    }
    assert bindings[0] == group_rule  # the conversation rule before the account routes


def test_fallbacks_and_built_in_providers_reach_the_gateway_config(imported):
    got = imported["05_fallbacks_minimax"]
    entry = got.configs[0]["agents"]["entries"]["writer"]
    assert entry["model"] == {"primary": "anthropic/claude-opus-4-6", "fallbacks": ["minimax/MiniMax-M2.7"]}
    providers = got.configs[0]["models"]["providers"]
    assert set(providers) == {"anthropic", "minimax"} and providers["minimax"]["apiKey"] == "mm-test"
    # Anthropic was created by an earlier config of this module: only MiniMax's key was asked for.
    assert [(n.name, n.key_hint) for n in got.result.needs] == [("minimax", "${MINIMAX_API_KEY}")]
    builtin = imported["06_builtin_providers"]
    entry = builtin.configs[0]["agents"]["entries"]["analyst"]
    assert entry["model"] == {"primary": "openai/gpt-5.4", "fallbacks": ["anthropic/claude-sonnet-4-6"]}
    assert {"openai", "anthropic"} <= set(builtin.configs[0]["models"]["providers"])


def test_defaults_inheritance_and_tool_policies(imported):
    got = imported["07_defaults_inheritance"]
    assert {a: b.model_fallbacks for a, b in got.bots.items()} == {
        "alpha": ["custom-proxy/qwen-2.5-7b"],
        "beta": ["custom-proxy/qwen-2.5-7b"],
        "gamma": [],
    }
    assert got.bots["beta"].tools_profile == "minimal" and got.bots["beta"].tools_deny == [
        "browser",
        "canvas",
    ]
    assert "agents.defaults.thinkingDefault" in got.result.unsupported
    tools = imported["10_tools_allow_deny"]
    family = tools.configs[0]["agents"]["entries"]["family"]["tools"]
    assert family["allow"][0] == "read" and "exec" in family["deny"] and "alsoAllow" not in family
    public = tools.configs[0]["agents"]["entries"]["public"]["tools"]
    assert public["alsoAllow"] == ["session_status"] and public["deny"][:2] == ["group:runtime", "group:fs"]
    assert "agents.entries.family.sandbox" in tools.result.unsupported


def test_per_group_require_mention_on_three_channels(imported):
    got = imported["08_group_require_mention"]
    channels = got.channels["moderator"]
    assert channels["telegram"].group_mentions == {"-1001111111111": "always", "-1002222222222": "mention"}
    assert channels["discord"].group_mentions == {"123456789012345678": "always"}
    assert channels["slack"].group_mentions == {"C0123ABCD": "always"}
    assert "channels.discord.guilds.123456789012345678.slug" in got.result.unsupported


def test_json5_with_comments_and_session_settings(imported):
    got = imported["11_json5_comments_sessions"]
    (bot,) = got.bots.values()
    assert (bot.reset_mode, bot.reset_at_hour, bot.emoji) == ("daily", 4, "🏠")
    assert got.configs[0]["session"]["reset"] == {"mode": "daily", "atHour": 4}
    assert "session.resetTriggers" in got.result.unsupported


def test_channel_accounts_of_two_agents(imported):
    got = imported["12_signal_and_discord_accounts"]
    assert set(got.channels["support"]) == {"discord", "signal"} and set(got.channels["sales"]) == {"discord"}
    assert got.channels["sales"]["discord"].dm_policy == "open"
    accounts = got.configs[0]["channels"]["discord"]["accounts"]
    assert accounts["support"]["applicationId"] == "345678901234567890"  # read from the token


async def test_adopting_a_hand_managed_gateway_imports_its_agents_as_bots_hosted_there(fleet_env, tmp_path):
    """A gateway someone runs by hand, with an agent and its SOUL.md: adopted by URL and token,
    its config and persona files are read over the protocol, previewed, then imported."""
    from clawnet.controlplane.gateway_api import GatewayApi
    from clawnet.controlplane.protocol import GatewayConnection
    from tests.support.standalone_gateway import standalone_gateway

    service = BotsService(fleet_env, EventBus())
    with db.session_scope() as s:
        admin = Principal.of(make_user(s, Role.ADMIN))
    with standalone_gateway(fleet_env, tmp_path / "hand-managed") as (url, token, _proc):
        conn = await GatewayConnection.open(url, token, timeout=60)
        try:
            api = GatewayApi(conn)  # type: ignore[arg-type]
            base = await api.config_hash()
            agent = '{agents: {ownership: "explicit", entries: {helper: {name: "Helper", model: "anthropic/claude-sonnet-4-6", identity: {emoji: "🛠️"}}}}}'
            await conn.call("config.patch", {"raw": agent, "baseHash": base}, timeout=60)
            await asyncio.sleep(1)  # the agent is live ~0.2 s after the patch answers
            await api.write_agent_file("helper", "SOUL.md", "# SOUL.md\n\nYou fix things, calmly.\n")
        finally:
            await conn.close()
        gateway_id = await service.adopt_remote_gateway(admin, "By hand", url, token)
        preview = await service.import_from_gateway(admin, gateway_id)
        assert preview.errors == [], preview.errors
        assert [(b.agent_id, b.files) for b in preview.bots] == [("helper", ["SOUL.md"])]
        assert [(n.name, n.has_key) for n in preview.needs] == [("anthropic", False)]
        done = await service.import_from_gateway(
            admin, gateway_id, dry_run=False, provider_keys={"anthropic": "sk-ant"}
        )
    assert done.errors == []
    with db.session_scope() as s:
        bot = s.exec(select(Bot).where(Bot.agent_id == "helper")).one()
        assert bot.gateway_id == gateway_id and bot.emoji == "🛠️"
        assert "calmly" in bot.persona_files["SOUL.md"]
