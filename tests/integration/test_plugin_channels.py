"""Discord, Slack, WhatsApp and Signal on a real gateway: OpenClaw's own plugins, installed by
bootstrap, load offline in a gateway ClawNet starts, and each channel's real failure reaches the
bot's channel status in plain words.

Their services cannot be reached from here and the plugins cannot be pointed at a full fake of
them (Discord's and Slack's gateways are WebSockets the plugins open from addresses the APIs hand
out; WhatsApp Web needs a phone), so these tests go to the plugin boundary: Discord's and Slack's
REST addresses point at loopback (nothing listening / a fake that refuses the token)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator

import pytest
from sqlmodel import select

from clawnet.bots.forms import ChannelInput
from clawnet.bots.service import BotsService
from clawnet.controlplane.paths import gateway_paths
from clawnet.controlplane.plugins import installed_in
from clawnet.db import session_scope
from clawnet.enums import BotStatus
from clawnet.models import Bot, BotChannel
from clawnet.settings import get_settings
from tests.integration.conftest import FleetData, start_fleet
from tests.support.fake_http import closed_port_url
from tests.support.fake_services import FakeSlack

pytestmark = pytest.mark.gateway


@pytest.fixture
def slack_refuses() -> Iterator[str]:
    """Slack's Web API knowing no app: every token is refused (`invalid_auth`)."""
    with FakeSlack() as slack:
        yield slack.api_url


async def channel_errors(bot_id: int, want: int, timeout: float = 180) -> dict[str, str]:
    """The bot's channels' last errors once `want` of them have one (or at the timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        with session_scope() as s:
            rows = s.exec(select(BotChannel).where(BotChannel.bot_id == bot_id)).all()
            errors = {r.type: r.last_error for r in rows if r.last_error}
        if len(errors) >= want or time.monotonic() > deadline:
            return errors
        await asyncio.sleep(1)


async def test_the_four_plugin_channels_load_offline_and_fail_in_plain_words(
    fleet_env, fleet_admin: FleetData, slack_refuses: str, monkeypatch
) -> None:
    monkeypatch.setenv("CLAWNET_DISCORD_API_URL", f"{closed_port_url()}/api/v10")
    monkeypatch.setenv("CLAWNET_SLACK_API_URL", slack_refuses)
    get_settings.cache_clear()
    settings = get_settings()
    controller = await start_fleet(settings)
    controller.channel_settle_s = 3
    service = BotsService(settings, controller.bus, controller)
    try:
        discord = ChannelInput(
            "discord",
            {
                "token": "MTIzNDU2Nzg5MDEyMzQ1Njc4.GfakeT.ok3nForTestsOnly_abcdefghijklmnopqrstu",
                "applicationId": "123456789012345678",
            },
        )
        slack = ChannelInput("slack", {"botToken": "xoxb-1-fake", "appToken": "xapp-1-fake"})
        # Two channels at creation; the other two added to the running bot (a running gateway
        # loads a new plugin only when restarted: ClawNet does that on its own).
        bot_id = await service.create_bot(
            fleet_admin.admin, fleet_admin.bot_input("Polyglot", channels=[discord, slack])
        )
        await service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=240)
        assert (await channel_errors(bot_id, want=2)).keys() == {"discord", "slack"}
        await service.update_bot(
            fleet_admin.admin,
            bot_id,
            fleet_admin.bot_input(
                "Polyglot",
                agent_id="polyglot",
                channels=[
                    discord,
                    slack,
                    ChannelInput("whatsapp", {}),
                    ChannelInput("signal", {"account": "+15555550123"}),
                ],
            ),
        )
        await service.wait_for_bot(bot_id, BotStatus.RUNNING, timeout=240)
        with session_scope() as s:
            bot = s.get(Bot, bot_id)
            assert bot is not None and bot.gateway_id is not None
            gateway_id = bot.gateway_id
        errors = await channel_errors(bot_id, want=4)
        print(json.dumps(errors, indent=1))
        # The gateway's own state holds OpenClaw's install records (what makes it trust the code).
        state = gateway_paths(settings, gateway_id).state
        assert {"discord", "slack", "whatsapp", "signal"} <= installed_in(state)

        assert not any("PluginTrustRefusal" in e or "plugin is not installed" in e for e in errors.values())
        assert errors["discord"].startswith("Discord could not be reached"), errors
        assert errors["slack"].startswith("Slack refused"), errors
        assert errors["signal"].startswith("Signal needs signal-cli"), errors
        assert errors["whatsapp"].startswith("WhatsApp is not linked yet"), errors
    finally:
        await controller.stop()
