"""Generated configs are accepted by the real `openclaw config validate`, for every channel type
and policy combination; and hot-change patches are computed correctly."""

from __future__ import annotations

import itertools

import pytest

from clawnet.controlplane.openclaw_cli import validate_config
from clawnet.controlplane.openclaw_config import (
    AgentSpec,
    BindingSpec,
    ChannelSpec,
    GatewaySpec,
    ModelSpec,
    ProviderSpec,
    SessionSpec,
    build_config,
)
from clawnet.enums import ChannelType, DmPolicy, GroupPolicy, MentionPolicy, ProviderKind
from clawnet.settings import get_settings

pytestmark = pytest.mark.gateway

CREDENTIALS = {
    ChannelType.TELEGRAM: {"botToken": "123456:ABCdefGhIJKlmNoPQRsTUVwxyZ"},
    ChannelType.DISCORD: {"token": "discord-token", "applicationId": "123456789012345678"},
    ChannelType.SLACK: {"botToken": "xoxb-1", "appToken": "xapp-1", "signingSecret": "s3cret"},
    ChannelType.WHATSAPP: {},
    ChannelType.SIGNAL: {"account": "+15555550100"},
}
PROVIDERS = (
    ProviderSpec("echo", ProviderKind.LOCAL_ECHO, "http://127.0.0.1:9/v1", "local", (ModelSpec("echo-1"),)),
    ProviderSpec("openai", ProviderKind.OPENAI, "", "sk-test", (ModelSpec("gpt-5-mini", "GPT-5 mini"),)),
    ProviderSpec("anthropic", ProviderKind.ANTHROPIC, "", "sk-ant", (ModelSpec("claude-sonnet-4-5"),)),
)


def _spec(agents: tuple[AgentSpec, ...], session: SessionSpec | None = None) -> GatewaySpec:
    return GatewaySpec(
        local=True,
        port=18800,
        token="t" * 43,
        log_file="/tmp/clawnet-validate.log",
        workspace_root="/tmp/ws",
        providers=PROVIDERS,
        agents=agents,
        session=session or SessionSpec(),
    )


def _agent(n: int, channels: tuple[ChannelSpec, ...] = (), model: str = "echo/echo-1", **kw) -> AgentSpec:
    return AgentSpec(
        agent_id=f"bot{n}",
        name=f"Bot {n}",
        model_ref=model,
        workspace=f"/tmp/ws/bot{n}",
        channels=channels,
        **kw,
    )


def _allow_for(channel: ChannelType) -> tuple[str, ...]:
    return ("+15555550123",) if channel in (ChannelType.WHATSAPP, ChannelType.SIGNAL) else ("111111111",)


# Two groups per channel, in each channel's own id format (a Discord server, a Slack channel).
GROUP_IDS = {
    ChannelType.TELEGRAM: ("-1001234567890", "-4001234567"),
    ChannelType.DISCORD: ("123456789012345678", "234567890123456789"),
    ChannelType.SLACK: ("C0123ABCD", "G0456EFGH"),
    ChannelType.WHATSAPP: ("120363012345678901@g.us", "15551234567-1600000000@g.us"),
    ChannelType.SIGNAL: (
        "EjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJCrze8=",
        "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=",
    ),
}
# Which groups are listed: none, one following the channel's mention policy, or two where the
# second has its own ("always", whatever the channel's policy).
GROUP_LISTS = ("none", "one", "two-with-own-mention")


def _groups(ch: ChannelType, listed: str) -> tuple[tuple[str, ...], dict[str, str]]:
    if listed == "none":
        return (), {}
    if listed == "one":
        return GROUP_IDS[ch][:1], {}
    return GROUP_IDS[ch], {GROUP_IDS[ch][1]: MentionPolicy.ALWAYS.value}


def _all_combinations() -> list[AgentSpec]:
    """One agent per (channel type, dm policy, group policy, mention policy, groups listed)."""
    agents = []
    for n, (ch, dm, group, mention, listed) in enumerate(
        itertools.product(ChannelType, DmPolicy, GroupPolicy, MentionPolicy, GROUP_LISTS), start=1
    ):
        allow = _allow_for(ch) if dm in (DmPolicy.ALLOWLIST, DmPolicy.PAIRING) else ()
        group_ids, group_mentions = _groups(ch, listed)
        agents.append(
            _agent(
                n,
                (
                    ChannelSpec(
                        ch,
                        f"bot{n}",
                        CREDENTIALS[ch],
                        dm,
                        allow,
                        group.value,
                        group_ids,
                        mention,
                        api_root="http://127.0.0.1:9/" if ch == ChannelType.TELEGRAM else "",
                        group_mentions=group_mentions,
                    ),
                ),
            )
        )
    return agents


async def test_every_channel_type_policy_and_group_combination_validates(clawnet_env):
    agents = _all_combinations()
    assert len(agents) == 5 * 4 * 3 * 2 * 3
    config = build_config(_spec(tuple(agents)))
    result = await validate_config(get_settings(), config)
    assert result.valid, result.describe()
    # And each says what was asked, in the channel's own terms.
    accounts = {
        name: (ctype, account)
        for ctype, section in config["channels"].items()
        for name, account in section["accounts"].items()
    }
    for agent in agents:
        (channel,) = agent.channels
        ctype, account = accounts[agent.agent_id]
        assert account["groupPolicy"] == channel.group_policy
        key = {"discord": "guilds", "slack": "channels"}.get(ctype, "groups")
        listed = {k: v for k, v in (account.get(key) or {}).items() if k != "*"}
        if channel.group_policy != GroupPolicy.DISABLED:
            assert set(listed) == set(channel.group_allow_from), (agent.agent_id, account)
            for gid, entry in listed.items():
                wanted = channel.group_mentions.get(gid, channel.mention_policy.value)
                assert entry["requireMention"] is (wanted == MentionPolicy.MENTION)
        has_wildcard = "*" in (account.get(key) or {})
        assert has_wildcard is (ctype != "slack" and channel.group_policy != GroupPolicy.ALLOWLIST)


@pytest.mark.parametrize(
    "session",
    [
        SessionSpec("per-sender", "main", "none"),
        SessionSpec("global", "per-peer", "daily", reset_at_hour=3),
        SessionSpec("per-sender", "per-account-channel-peer", "idle", reset_idle_minutes=30),
    ],
)
async def test_session_scopes_and_resets_validate(clawnet_env, session):
    result = await validate_config(get_settings(), build_config(_spec((_agent(1),), session)))
    assert result.valid, result.describe()


async def test_bindings_providers_and_tools_validate(clawnet_env):
    bound = _agent(
        1,
        (
            ChannelSpec(ChannelType.DISCORD, "bot1", CREDENTIALS[ChannelType.DISCORD]),
            ChannelSpec(ChannelType.SLACK, "bot1", CREDENTIALS[ChannelType.SLACK]),
        ),
        model="openai/gpt-5-mini",
        emoji="🦀",
        tools_profile="minimal",
        tools_deny=("exec",),
        tools_allow=("web_search",),
        bindings=(
            BindingSpec("discord", guild_id="42", priority=5),
            BindingSpec("slack", team_id="T1", peer_kind="channel", peer_id="C1", priority=9),
            BindingSpec("discord", peer_kind="direct", peer_id="555"),
        ),
    )
    other = _agent(2, model="anthropic/claude-sonnet-4-5")
    result = await validate_config(get_settings(), build_config(_spec((bound, other))))
    assert result.valid, result.describe()


async def test_every_kind_of_routing_rule_validates_in_openclaws_order(clawnet_env):
    """One rule per tier (exact peer, peer wildcard, guild + roles, guild, team, another bot's
    account, any account) on every channel where it applies."""
    owner = _agent(1, tuple(ChannelSpec(ch, "bot1", CREDENTIALS[ch]) for ch in ChannelType))
    rules = [
        BindingSpec("telegram", "bot1", "direct", "111111111"),
        BindingSpec("telegram", "bot1", "group", "-1001234567890"),
        BindingSpec("telegram", "bot1", "direct", "*"),
        BindingSpec("whatsapp", "bot1", "group", "120363012345678901@g.us"),
        BindingSpec("signal", "bot1", "direct", "+15555550123"),
        BindingSpec("discord", "bot1", "channel", "123456789012345678"),
        BindingSpec("discord", "bot1", guild_id="123456789012345678", roles=("234567890123456789",)),
        BindingSpec("discord", "bot1", guild_id="123456789012345678"),
        BindingSpec("slack", "bot1", team_id="T0123ABCD"),
        BindingSpec("slack", "bot1", "channel", "C0123ABCD", team_id="T0123ABCD"),
        BindingSpec("slack", "*"),
    ]
    router = _agent(2, bindings=tuple(rules))
    config = build_config(_spec((owner, router)))
    result = await validate_config(get_settings(), config)
    assert result.valid, result.describe()
    matches = [b["match"] for b in config["bindings"] if b["agentId"] == "bot2"]
    assert {"channel": "discord", "accountId": "bot1", "guildId": "123456789012345678",
            "roles": ["234567890123456789"]} in matches  # fmt: skip
    assert {"channel": "slack", "accountId": "*"} in matches


async def test_a_gateway_without_agents_is_refused_so_empty_pools_are_stopped_not_patched(clawnet_env):
    result = await validate_config(get_settings(), build_config(_spec(())))
    assert ("agents.entries", "agents.entries must contain at least one configured agent") in result.issues


async def test_an_invalid_config_is_refused_naming_the_field(clawnet_env):
    config = build_config(_spec((_agent(1),)))
    config["agents"]["entries"]["Bad Id"] = {"name": "x"}
    result = await validate_config(get_settings(), config)
    assert not result.valid
    assert ("agents.entries.Bad Id", "Invalid key in record") in result.issues


@pytest.mark.parametrize(
    ("transport", "url"),
    [
        ("managed-native", ""),
        ("external-native", "http://127.0.0.1:8080"),
        ("container", "http://signal-cli:8080"),
    ],
)
async def test_each_way_of_reaching_signal_cli_validates(clawnet_env, transport, url):
    creds = {"account": "+15555550100", "transport": transport, "url": url}
    channel = ChannelSpec(
        ChannelType.SIGNAL, "bot1", creds, DmPolicy.PAIRING, (), "disabled", (), MentionPolicy.MENTION
    )
    config = build_config(_spec((_agent(1, (channel,)),)))
    account = config["channels"]["signal"]["accounts"]["bot1"]
    assert account.get("transport") == ({"kind": transport, "url": url} if url else None)
    result = await validate_config(get_settings(), config)
    assert result.valid, result.describe()
