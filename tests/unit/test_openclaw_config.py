"""Config generation (pure): what every config contains, secrets handling, hot-change patches."""

from __future__ import annotations

from clawnet.controlplane import openclaw_config as oc
from clawnet.controlplane.persona import DEFAULT_PERSONA, workspace_files
from clawnet.enums import ChannelType, DmPolicy, ProviderKind

ECHO = oc.ProviderSpec(
    "echo", ProviderKind.LOCAL_ECHO, "http://127.0.0.1:9/v1", "local", (oc.ModelSpec("echo-1"),)
)
PAID = oc.ProviderSpec("openai", ProviderKind.OPENAI, "", "sk-secret", (oc.ModelSpec("gpt-5-mini"),))


def agent(agent_id: str, **kw) -> oc.AgentSpec:
    return oc.AgentSpec(
        agent_id=agent_id, name=agent_id.title(), model_ref=kw.pop("model_ref", "echo/echo-1"), **kw
    )


def spec(*agents: oc.AgentSpec, token: str = "tok") -> oc.GatewaySpec:
    return oc.GatewaySpec(
        local=True,
        port=18800,
        token=token,
        log_file="/x/openclaw.log",
        workspace_root="/x/ws",
        providers=(ECHO, PAID),
        agents=agents,
    )


def test_local_config_binds_loopback_with_its_token_and_log_file():
    config = oc.build_config(spec(agent("a")))
    assert config["gateway"] == {
        "mode": "local",
        "port": 18800,
        "bind": "loopback",
        "auth": {"mode": "token", "token": "tok"},
    }
    assert config["logging"] == {"file": "/x/openclaw.log"}
    assert config["agents"]["ownership"] == "explicit"
    assert config["agents"]["defaults"]["skipBootstrap"] is True
    assert config["agents"]["defaults"]["heartbeat"] == {"every": "0m"}
    assert config["tools"] == {"profile": "messaging"}


def test_remote_config_leaves_the_gateway_section_to_its_owner():
    config = oc.build_config(oc.GatewaySpec(local=False, providers=(ECHO,), agents=(agent("a"),)))
    assert "gateway" not in config and "logging" not in config


def test_only_providers_the_agents_use_are_included():
    config = oc.build_config(spec(agent("a")))
    assert set(config["models"]["providers"]) == {"echo"}  # the OpenAI key stays out of this gateway
    config = oc.build_config(spec(agent("a"), agent("b", model_ref="openai/gpt-5-mini")))
    assert config["models"]["providers"]["openai"]["apiKey"] == "sk-secret"
    assert config["models"]["providers"]["openai"]["baseUrl"] == "https://api.openai.com/v1"


def test_channels_become_accounts_named_after_the_agent_and_bound_to_it():
    telegram = oc.ChannelSpec(ChannelType.TELEGRAM, "a", {"botToken": "1:x"}, DmPolicy.OPEN)
    config = oc.build_config(
        spec(
            agent(
                "a",
                channels=(telegram,),
                bindings=(oc.BindingSpec("telegram", peer_kind="group", peer_id="-1", priority=3),),
            )
        )
    )
    account = config["channels"]["telegram"]["accounts"]["a"]
    assert account["botToken"] == "1:x"
    assert account["allowFrom"] == ["*"]  # an open policy needs the explicit wildcard
    assert account["groups"] == {"*": {"requireMention": True}}
    assert config["bindings"] == [
        {
            "agentId": "a",
            "match": {"channel": "telegram", "accountId": "a", "peer": {"kind": "group", "id": "-1"}},
        },
        {"agentId": "a", "match": {"channel": "telegram", "accountId": "a"}},
    ]


def test_fingerprints_and_redaction_hide_every_secret():
    telegram = oc.ChannelSpec(ChannelType.TELEGRAM, "a", {"botToken": "1:telegram-secret"})
    slack = oc.ChannelSpec(
        ChannelType.SLACK,
        "b",
        {"botToken": "xoxb-slack-secret", "appToken": "xapp-s", "signingSecret": "sig"},
    )
    config = oc.build_config(
        spec(
            agent("a", channels=(telegram,)),
            agent("b", model_ref="openai/gpt-5-mini", channels=(slack,)),
            token="gateway-secret",
        )
    )
    for transformed in (oc.fingerprint_secrets(config), oc.redact_secrets(config)):
        text = str(transformed)
        for secret in (
            "1:telegram-secret",
            "xoxb-slack-secret",
            "xapp-s",
            "'sig'",
            "sk-secret",
            "gateway-secret",
        ):
            assert secret not in text
    assert oc.fingerprint_secrets(config) == oc.fingerprint_secrets(config)  # stable: comparable later


def test_merge_patch_sends_only_what_changed_with_real_secret_values():
    old_config = oc.build_config(spec(agent("a"), agent("b")))
    new_config = oc.build_config(spec(agent("a", persona="x", emoji="🦀"), agent("c")))
    old = oc.fingerprint_secrets(old_config)
    patch = oc.merge_patch(old, oc.fingerprint_secrets(new_config), new_config)
    assert "gateway" not in patch and "logging" not in patch  # unchanged sections stay out
    assert patch["agents"]["entries"]["a"] == {"identity": {"emoji": "🦀"}}
    assert patch["agents"]["entries"]["c"]["name"] == "C"
    assert patch["agents"]["entries"]["b"] is None
    assert oc.removed_agents(old, new_config) == ["b"]
    cleaned = oc.without_agent_removals(patch)
    assert "b" not in cleaned["agents"]["entries"] and "c" in cleaned["agents"]["entries"]

    rotated = oc.build_config(spec(agent("a"), agent("b"), token="new-token"))
    patch = oc.merge_patch(old, oc.fingerprint_secrets(rotated), rotated)
    assert patch == {"gateway": {"auth": {"token": "new-token"}}}
    assert oc.merge_patch(old, old, old_config) == {}


def test_hash_is_stable_and_sensitive():
    a, b = oc.build_config(spec(agent("a"))), oc.build_config(spec(agent("a")))
    assert oc.config_hash(a) == oc.config_hash(b)
    assert oc.config_hash(a) != oc.config_hash(
        oc.build_config(spec(agent("a", persona="changed", emoji="x")))
    )


def test_workspace_files_carry_the_persona_and_identity():
    files = workspace_files(agent("pirate", persona="Talk like a pirate.", emoji="🏴"))
    assert "Talk like a pirate." in files["SOUL.md"]
    assert "Pirate" in files["IDENTITY.md"] and "🏴" in files["IDENTITY.md"]
    assert "Never reveal configuration" in files["AGENTS.md"]
    assert DEFAULT_PERSONA in workspace_files(agent("plain"))["SOUL.md"]


def test_rendered_file_is_json5_with_a_header():
    import json5

    text = oc.render(oc.build_config(spec(agent("a"))))
    assert text.startswith("// Generated by ClawNet")
    assert json5.loads(text)["agents"]["entries"]["a"]["name"] == "A"


def test_patches_touching_agents_restate_the_ownership_openclaw_may_have_dropped():
    one = oc.build_config(spec(agent("a")))
    two = oc.build_config(spec(agent("a"), agent("b")))
    patch = oc.merge_patch(oc.fingerprint_secrets(one), oc.fingerprint_secrets(two), two)
    assert "ownership" not in patch["agents"]  # unchanged from ClawNet's point of view...
    assert oc.restate_invariants(patch, two)["agents"]["ownership"] == "explicit"  # ...but sent anyway
    assert oc.restate_invariants({"session": {}}, two) == {"session": {}}


def test_a_stopped_bot_keeps_its_agent_but_its_channels_are_off_and_unrouted():
    telegram = oc.ChannelSpec(ChannelType.TELEGRAM, "a", {"botToken": "1:x"})
    config = oc.build_config(spec(agent("a", channels=(telegram,), active=False), agent("b")))
    assert set(config["agents"]["entries"]) == {"a", "b"}
    assert config["channels"]["telegram"]["accounts"]["a"]["enabled"] is False
    assert "bindings" not in config


def test_a_config_file_problem_names_what_is_wrong(tmp_path):
    from clawnet.controlplane.agent_files import config_file_problem

    path = tmp_path / "openclaw.json"
    assert config_file_problem(path) == "it is missing"
    path.write_text("{gateway: {mode: 'local'")
    assert (config_file_problem(path) or "").startswith("it is not valid JSON5")
    path.write_text("[1, 2]")
    assert config_file_problem(path) == "it has no gateway section"
    path.write_bytes(b"\xff\xfe garbage")
    assert (config_file_problem(path) or "").startswith("it cannot be read")
    path.write_text("{gateway: {mode: 'local'}, agents: {}}")
    assert config_file_problem(path) is None


def test_a_patch_names_every_array_it_replaces_or_deletes():
    from clawnet.controlplane.openclaw_config import replace_paths

    old = {
        "agents": {"entries": {"a": {"tools": {"deny": ["exec", "browser"]}}, "b": {"skills": ["x"]}}},
        "channels": {"telegram": {"accounts": {"a": {"allowFrom": ["1"], "groupAllowFrom": []}}}},
        "models": {"providers": {"p": {"models": [{"id": "m1"}, {"id": "m2"}]}}},
    }
    patch = {
        "agents": {"entries": {"a": {"tools": {"deny": ["exec"]}}, "c": {"skills": ["y"]}}},
        "channels": {"telegram": {"accounts": {"a": None}}},
        "models": {"providers": {"p": {"models": [{"id": "m1"}]}}},
    }
    assert sorted(replace_paths(old, patch)) == [
        "agents.entries.a.tools.deny",  # an entry removed
        "channels.telegram.accounts.a.allowFrom",  # arrays inside a deleted object
        "channels.telegram.accounts.a.groupAllowFrom",
        "models.providers.p.models",  # objects with ids: replaced, not merged by id
    ]  # agents.entries.c.skills is new: nothing to confirm
