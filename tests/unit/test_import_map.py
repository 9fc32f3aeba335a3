"""Reading an OpenClaw config as OpenClaw does (pure mapping, no database)."""

from __future__ import annotations

import io
import zipfile

import json5

from clawnet.bots.import_files import read_uploads
from clawnet.bots.import_map import file_agents, needed_providers, unsupported_paths
from clawnet.enums import ProviderKind


def test_no_agents_means_openclaws_implicit_main_agent_with_the_defaults():
    agents, implicit = file_agents({"agents": {"defaults": {"model": "anthropic/claude-sonnet-4-6"}}})
    assert implicit and [a.agent_id for a in agents] == ["main"]
    assert agents[0].model.primary == "anthropic/claude-sonnet-4-6" and agents[0].model.fallbacks == ()


def test_defaults_model_and_fallbacks_are_inherited_unless_an_entry_sets_its_own():
    config = {
        "tools": {"deny": ["browser"]},
        "agents": {
            "defaults": {"model": {"primary": "p/a", "fallbacks": ["p/b"]}},
            "entries": {"x": {}, "y": {"model": "p/b", "tools": {"profile": "minimal"}}},
            "list": [{"id": "z", "model": {"primary": "p/c"}}],
        },
    }
    agents = {a.agent_id: a for a in file_agents(config)[0]}
    assert (agents["x"].model.primary, agents["x"].model.fallbacks) == ("p/a", ("p/b",))
    assert agents["y"].model.fallbacks == ()  # a string model is strict
    assert agents["z"].model.fallbacks == () and agents["z"].path == "agents.list[0]"
    assert agents["y"].tools == {"deny": ["browser"], "profile": "minimal"}  # root tools inherited


def test_built_in_providers_are_named_with_where_their_key_lives():
    config = {
        "auth": {"profiles": {"anthropic:api": {"provider": "anthropic", "mode": "api_key"}}},
        "env": {"vars": {"OPENAI_API_KEY": "sk-from-vars"}},
        "models": {
            "providers": {"mm": {"baseUrl": "https://x", "api": "anthropic-messages", "apiKey": "${MM_KEY}"}}
        },
        "agents": {
            "defaults": {"model": {"primary": "openai/gpt-5.4", "fallbacks": ["anthropic/c", "mm/m1"]}}
        },
    }
    agents, _ = file_agents(config)
    needs, problems = needed_providers(config, agents, {})
    by_name = {n.name: n for n in needs}
    assert problems == [] and list(by_name) == ["openai", "anthropic", "mm"]
    assert by_name["openai"].api_key == "sk-from-vars" and by_name["openai"].kind is ProviderKind.OPENAI
    assert by_name["anthropic"].api_key == "" and "anthropic:api" in by_name["anthropic"].key_hint
    assert by_name["mm"].api_key == "" and by_name["mm"].key_hint == "${MM_KEY}"
    assert by_name["mm"].kind is ProviderKind.ANTHROPIC and by_name["mm"].models == ("m1",)
    # The caller's environment fills ${ENV} references.
    needs, _ = needed_providers(config, agents, {"MM_KEY": "k"})
    assert {n.name: n.api_key for n in needs}["mm"] == "k"


def test_an_unknown_provider_is_a_problem():
    config = {"agents": {"defaults": {"model": "nowhere/x"}}}
    _, problems = needed_providers(config, file_agents(config)[0], {})
    assert "nowhere" in problems[0]


def test_a_provider_clawnet_already_has_is_reused_by_name():
    config = {"agents": {"defaults": {"model": "echo/echo-1"}}}
    needs, problems = needed_providers(config, file_agents(config)[0], {}, known={"echo"})
    assert problems == [] and [(n.name, n.models, n.defined_in_file) for n in needs] == [
        ("echo", ("echo-1",), False)
    ]


def test_every_key_clawnet_does_not_carry_is_listed_by_its_dotted_path():
    config = json5.loads(
        """{
          messages: {visibleReplies: "automatic"},
          gateway: {port: 1},
          agents: {defaults: {model: "a/b", thinkingDefault: "low", heartbeat: {every: "30m"}},
                   entries: {m: {identity: {name: "M", avatar: "a.png"}, sandbox: {mode: "all"}}}},
          channels: {telegram: {botToken: "x", groups: {"-100": {requireMention: true, topics: {}}}},
                     imessage: {enabled: true}},
          bindings: [{agentId: "m", match: {channel: "telegram"}, session: {dmScope: "main"}}],
          session: {reset: {mode: "idle"}, resetTriggers: ["/new"]},
        }"""
    )
    assert sorted(unsupported_paths(config)) == sorted(
        [
            "messages",
            "agents.defaults.thinkingDefault",
            "agents.defaults.heartbeat",
            "agents.entries.m.identity.avatar",
            "agents.entries.m.sandbox",
            "channels.telegram.groups.-100.topics",
            "channels.imessage",
            "bindings[0].session",
            "session.resetTriggers",
        ]
    )


def test_clawnets_own_export_keys_are_all_carried():
    config = {
        "agents": {
            "ownership": "explicit",
            "defaults": {"skipBootstrap": True, "heartbeat": {"every": "0m"}},
        },
        "plugins": {"entries": {"discord": {"enabled": True}}},
        "tools": {"profile": "messaging"},
    }
    assert unsupported_paths(config) == []


def _zip(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buf.getvalue()


def test_persona_files_from_a_workspace_zip_go_to_their_agents_and_cron_jobs_are_listed():
    config = {
        "agents": {
            "entries": {"home": {"workspace": "~/.openclaw/workspace-home"}, "work": {}},
        }
    }
    agents, implicit = file_agents(config)
    uploads = read_uploads(
        [
            (
                "workspaces.zip",
                _zip(
                    {
                        "workspace-home/SOUL.md": "# Home soul",
                        "work/IDENTITY.md": "# Work",
                        "work/notes.txt": "ignored",
                        "cron/jobs.json": '{"jobs": [{"name": "digest", "agentId": "home", "schedule": {"kind": "cron", "expr": "0 8 * * *"}}]}',
                    }
                ),
            ),
        ]
    )
    files = uploads.persona_for(agents, implicit)
    assert files == {"home": {"SOUL.md": "# Home soul"}, "work": {"IDENTITY.md": "# Work"}}
    assert uploads.cron_jobs == ["digest (0 8 * * *) for home from cron/jobs.json"]
    assert uploads.problems(agents, implicit) == []


def test_loose_persona_files_go_to_the_only_agent_and_are_refused_when_ambiguous():
    single, implicit = file_agents({})
    loose = read_uploads([("SOUL.md", b"# Soul"), ("AGENTS.md", b"# Rules")])
    assert loose.persona_for(single, implicit) == {"main": {"SOUL.md": "# Soul", "AGENTS.md": "# Rules"}}
    two, implicit = file_agents(
        {"agents": {"entries": {"a": {"workspace": "/w/a"}, "b": {"workspace": "/w/b"}}}}
    )
    assert "match no agent" in loose.problems(two, implicit)[0]
    assert "not a zip" in read_uploads([("x.zip", b"nope")]).unreadable[0]


def test_an_encrypted_or_damaged_zip_is_reported_not_raised():
    data = bytearray(_zip({"SOUL.md": "# Soul"}))
    data[data.index(b"PK\x03\x04") + 6] |= 0x1  # flagged encrypted (zipfile cannot write one)
    data[data.index(b"PK\x01\x02") + 8] |= 0x1
    uploads = read_uploads([("secret.zip", bytes(data)), ("broken.zip", b"PK\x03\x04 not really")])
    assert [u.split(":")[0] for u in uploads.unreadable] == ["secret.zip", "broken.zip"]
    assert uploads.files == {}
