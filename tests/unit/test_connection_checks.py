"""Test connection for Discord and Slack credentials, model provider keys and signal-cli, against
fakes of those services on loopback: a good credential, a refused one, and a service that cannot
be reached, each said in plain words. And the addresses called are the configured ones, which
gateways get too, through the variables the channel plugins read."""

from __future__ import annotations

import dataclasses
import stat
from pathlib import Path

import pytest

from clawnet.bots.checks import test_discord_token as check_discord
from clawnet.bots.checks import test_slack_tokens as check_slack
from clawnet.bots.provider_check import test_provider_key as check_provider
from clawnet.bots.signal_check import test_signal as check_signal
from clawnet.controlplane.openclaw_cli import openclaw_env
from clawnet.enums import ProviderKind
from clawnet.settings import Settings, SettingsError, get_settings, load_settings
from tests.support.fake_http import closed_port_url
from tests.support.fake_services import FakeDiscord, FakeModelApi, FakeSignalCli, FakeSlack

DISCORD_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GAbCdE.fake-token-for-tests_0123456789abcdefghijklmn"
OTHER_TOKEN = "OTg3NjU0MzIxMDk4NzY1NDMy.GXyZaB.another-fake-token_0123456789abcdefghijk"
APP_ID = "123456789012345678"
BOT_TOKEN = "xoxb-1111-2222-fakebottoken"
APP_TOKEN = "xapp-1-A111-2222-fakeapptoken"


def settings_with(**changes: str) -> Settings:
    return dataclasses.replace(load_settings({}), **changes)


@pytest.fixture(scope="module")
def discord():
    with FakeDiscord() as fake:
        fake.add_bot(DISCORD_TOKEN, "helper", APP_ID)
        fake.add_bot(OTHER_TOKEN, "deaf_helper", "222222222222222222", flags=0)
        yield fake


@pytest.fixture(scope="module")
def slack():
    with FakeSlack() as fake:
        fake.add_app(BOT_TOKEN, APP_TOKEN, "clawbot", "Acme")
        yield fake


# --- Discord ----------------------------------------------------------------------------------


async def test_a_good_discord_token_says_who_the_bot_is(discord):
    settings = settings_with(discord_api_url=discord.api_url)
    result = await check_discord(settings, DISCORD_TOKEN, APP_ID)
    assert result.ok and result.message == "Connected as @helper."
    auth = [r.headers["authorization"] for r in discord.requests if r.path.endswith("/users/@me")]
    assert auth[-1] == f"Bot {DISCORD_TOKEN}"


async def test_discord_says_when_the_application_id_is_another_apps(discord):
    settings = settings_with(discord_api_url=discord.api_url)
    result = await check_discord(settings, DISCORD_TOKEN, "999999999999999999")
    assert not result.ok
    assert f"this token belongs to application {APP_ID}, not 999999999999999999" in result.message


async def test_discord_warns_when_the_bot_cannot_read_messages(discord):
    settings = settings_with(discord_api_url=discord.api_url)
    result = await check_discord(settings, OTHER_TOKEN)
    assert result.ok and "Turn on Message Content Intent" in result.message


async def test_a_refused_discord_token_is_said_plainly(discord):
    settings = settings_with(discord_api_url=discord.api_url)
    result = await check_discord(settings, DISCORD_TOKEN.replace("fake", "wrong"), APP_ID)
    assert not result.ok and result.message.startswith("Discord refused the token")


async def test_an_unreachable_discord_is_said_plainly():
    settings = settings_with(discord_api_url=closed_port_url() + "/api/v10")
    result = await check_discord(settings, DISCORD_TOKEN)
    assert not result.ok and result.message.startswith("Discord could not be reached")


async def test_something_that_is_no_discord_token_is_not_sent():
    settings = settings_with(discord_api_url=closed_port_url())
    result = await check_discord(settings, "12345")
    assert not result.ok and "not a Discord bot token" in result.message


# --- Slack ------------------------------------------------------------------------------------


async def test_good_slack_tokens_say_who_and_where(slack):
    settings = settings_with(slack_api_url=slack.api_url)
    result = await check_slack(settings, BOT_TOKEN, APP_TOKEN)
    assert result.ok
    assert result.message == "Connected as @clawbot in Acme. The app-level token opens Socket Mode."
    assert {"/api/auth.test", "/api/apps.connections.open"} <= set(slack.paths())


async def test_a_refused_slack_bot_token_is_said_plainly(slack):
    settings = settings_with(slack_api_url=slack.api_url)
    result = await check_slack(settings, "xoxb-wrong", APP_TOKEN)
    assert not result.ok and result.message.startswith("Slack refused the bot token (invalid_auth)")


async def test_a_refused_app_token_is_said_after_the_good_bot_token(slack):
    settings = settings_with(slack_api_url=slack.api_url)
    result = await check_slack(settings, BOT_TOKEN, "xapp-wrong")
    assert not result.ok
    assert result.message.startswith("Connected as @clawbot in Acme. But Slack refused the app-level token")


async def test_slack_asks_for_the_app_token_when_it_is_missing(slack):
    settings = settings_with(slack_api_url=slack.api_url)
    result = await check_slack(settings, BOT_TOKEN, "")
    assert not result.ok and "Now the app-level token (xapp-…)" in result.message


async def test_an_unreachable_slack_is_said_plainly():
    settings = settings_with(slack_api_url=closed_port_url() + "/api/")
    result = await check_slack(settings, BOT_TOKEN, APP_TOKEN)
    assert not result.ok and result.message.startswith("Slack could not be reached")


# --- model providers --------------------------------------------------------------------------


async def test_a_good_openai_compatible_key_lists_the_models():
    with FakeModelApi("sk-good", ["acme-1", "acme-2"]) as api:
        result = await check_provider(
            ProviderKind.OPENAI_COMPATIBLE, "Acme", f"{api.url}/v1", "sk-good", ["acme-1"]
        )
        assert result.ok and result.message == "Connected: the key works and Acme offers 2 models."
        missing = await check_provider(
            ProviderKind.OPENAI_COMPATIBLE, "Acme", f"{api.url}/v1", "sk-good", ["acme-1", "acme-9"]
        )
        assert not missing.ok and "Acme does not offer: acme-9" in missing.message
        refused = await check_provider(ProviderKind.OPENAI, "OpenAI", f"{api.url}/v1", "sk-bad", [])
        assert not refused.ok and refused.message.startswith("OpenAI refused the key (HTTP 401)")
        wrong_path = await check_provider(ProviderKind.OPENAI_COMPATIBLE, "Acme", api.url, "sk-good", [])
        assert not wrong_path.ok and "check the base URL" in wrong_path.message


async def test_an_anthropic_key_is_tried_with_its_own_headers():
    with FakeModelApi("sk-ant-good", ["claude-test-1"], anthropic=True) as api:
        result = await check_provider(
            ProviderKind.ANTHROPIC, "Anthropic", api.url, "sk-ant-good", ["claude-test-1"]
        )
        assert result.ok, result.message
        assert api.requests[-1].headers["anthropic-version"] == "2023-06-01"
        refused = await check_provider(ProviderKind.ANTHROPIC, "Anthropic", api.url, "sk-ant-bad", [])
        assert not refused.ok and refused.message.startswith("Anthropic refused the key")


async def test_an_unreachable_provider_is_said_plainly():
    result = await check_provider(ProviderKind.OPENAI, "OpenAI", closed_port_url() + "/v1", "sk-x", [])
    assert not result.ok and result.message.startswith("OpenAI could not be reached")


# --- Signal -----------------------------------------------------------------------------------


async def test_a_signal_cli_daemon_is_checked_like_the_plugin_probes_it():
    with FakeSignalCli(["+15555550123"]) as daemon:
        result = await check_signal(get_settings(), "external-native", daemon.url, "+15555550123")
        assert result.ok and result.message == f"signal-cli 0.13.22 answers at {daemon.url}."
        assert daemon.paths()[:2] == ["/api/v1/check", "/api/v1/rpc"]
        other = await check_signal(get_settings(), "external-native", daemon.url, "+15555550999")
        assert not other.ok and "it has no account +15555550999" in other.message


async def test_a_signal_rest_container_must_run_in_json_rpc_mode():
    with FakeSignalCli(["+15555550123"], container=True) as box:
        result = await check_signal(get_settings(), "container", box.url, "+15555550123")
        assert result.ok, result.message
    with FakeSignalCli(["+15555550123"], container=True, mode="normal") as box:
        result = await check_signal(get_settings(), "container", box.url, "+15555550123")
        assert not result.ok and "MODE=normal" in result.message and "MODE=json-rpc" in result.message


async def test_an_unreachable_signal_cli_is_said_plainly():
    url = closed_port_url()
    result = await check_signal(get_settings(), "external-native", url, "+15555550123")
    assert not result.ok and result.message.startswith(f"signal-cli could not be reached at {url}")
    missing = await check_signal(get_settings(), "external-native", "", "+15555550123")
    assert not missing.ok and "http://127.0.0.1:8080" in missing.message


async def test_a_gateway_started_signal_cli_must_be_installed(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    settings = settings_with(node_bin_dir=tmp_path)  # type: ignore[arg-type]
    result = await check_signal(settings, "managed-native", "", "+15555550123")
    assert not result.ok and result.message.startswith("signal-cli is not installed on this machine")
    cli = tmp_path / "signal-cli"
    cli.write_text("#!/bin/sh\necho 'signal-cli 0.13.22'\n")
    cli.chmod(cli.stat().st_mode | stat.S_IEXEC)
    result = await check_signal(settings, "managed-native", "", "+15555550123")
    assert result.ok and result.message.startswith("signal-cli 0.13.22 is installed")


# --- the configured addresses -------------------------------------------------------------------


def test_the_service_addresses_are_settings_and_reach_gateways_as_the_plugins_variables(tmp_path):
    default = load_settings({})
    assert default.discord_api_url == default.slack_api_url == ""  # the real services
    env = openclaw_env(default, config_path=tmp_path / "c", state_dir=tmp_path / "s", home=tmp_path / "h")
    assert not {"DISCORD_API_URL", "SLACK_API_URL", "OPENCLAW_WHATSAPP_WEB_SOCKET_URL"} & set(env)

    faked = load_settings(
        {
            "CLAWNET_DISCORD_API_URL": "http://127.0.0.1:9/api/v10/",
            "CLAWNET_SLACK_API_URL": "http://127.0.0.1:9/api",
            "CLAWNET_WHATSAPP_WEB_SOCKET_URL": "ws://127.0.0.1:9/ws/chat",
        }
    )
    env = openclaw_env(faked, config_path=tmp_path / "c", state_dir=tmp_path / "s", home=tmp_path / "h")
    assert env["DISCORD_API_URL"] == "http://127.0.0.1:9/api/v10"
    assert env["SLACK_API_URL"] == "http://127.0.0.1:9/api/"
    assert env["OPENCLAW_WHATSAPP_WEB_SOCKET_URL"] == "ws://127.0.0.1:9/ws/chat"
    with pytest.raises(SettingsError, match="CLAWNET_SLACK_API_URL"):
        load_settings({"CLAWNET_SLACK_API_URL": "slack.com/api"})
