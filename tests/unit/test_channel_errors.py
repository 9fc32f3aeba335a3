"""OpenClaw's channel errors (as the real plugins wrote them) become plain sentences."""

from __future__ import annotations

import pytest

from clawnet.controlplane.channel_errors import plain_channel_error

CASES = [
    (
        "discord",
        "Failed to get gateway information from Discord: fetch failed | connect ECONNREFUSED 127.0.0.1:17197",
        "Discord could not be reached.",
    ),
    (
        "discord",
        "Failed to resolve Discord application id: fetch failed | bad port",
        "Discord could not be reached.",
    ),
    ("discord", "Discord API error 401: 401: Unauthorized", "Discord refused the bot token."),
    ("slack", "An API error occurred: invalid_auth", "Slack refused the app's tokens"),
    ("signal", "signal daemon exited (source=spawn-error code=null signal=null)", "Signal needs signal-cli"),
    (
        "discord",
        "Plugin discord failed: PluginTrustRefusalError: openKeyedStore is only available for trusted plugins",
        "The Discord plugin is not installed",
    ),
    ("telegram", "Call to 'getMe' failed! (401: Unauthorized)", "Telegram refused the bot token."),
]


@pytest.mark.parametrize(("channel", "raw", "plain"), CASES)
def test_a_known_failure_leads_with_a_plain_sentence_and_keeps_the_original(channel, raw, plain):
    text = plain_channel_error(channel, raw)
    assert text.startswith(plain)
    assert raw[:100] in text


def test_an_unknown_failure_is_kept_as_is_and_no_error_stays_empty():
    assert plain_channel_error("slack", "something new happened") == "something new happened"
    assert plain_channel_error("slack", "") == ""


def test_a_gateway_whose_only_failures_are_channels_counts_as_serving():
    """OpenClaw's /readyz answers 503 {"failing": ["slack"]} while a channel cannot connect: the
    gateway still runs its bots (and must not be restarted as hung)."""
    from clawnet.controlplane.supervisor import core_ready

    assert core_ready(200, {"ready": True, "failing": []})
    assert core_ready(503, {"ready": False, "failing": ["slack", "discord"]})
    assert not core_ready(503, {"ready": False, "failing": ["gateway", "slack"]})
    assert not core_ready(503, {"ready": False, "failing": []})
    assert not core_ready(503, "starting")
