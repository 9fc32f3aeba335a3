"""Channel plugins recorded in a gateway's state (the templates come from scripts/bootstrap.sh)."""

from __future__ import annotations

import pytest

from clawnet.controlplane import openclaw_config as oc
from clawnet.controlplane.plugins import PluginsUnavailable, ensure_installed, installed_in, plugins_in
from clawnet.enums import ChannelType
from clawnet.settings import load_settings


def test_a_fresh_state_gets_the_records_once_and_keeps_them(tmp_path):
    plugins_dir = load_settings().openclaw_plugins_dir
    state = tmp_path / "state"
    assert ensure_installed(plugins_dir, state, {"discord", "slack"}) == ["discord", "slack"]
    assert installed_in(state) == {"discord", "slack"}
    assert ensure_installed(plugins_dir, state, {"slack"}) == []  # idempotent
    assert ensure_installed(plugins_dir, state, {"whatsapp", "signal"}) == ["signal", "whatsapp"]
    assert installed_in(state) == {"discord", "slack", "whatsapp", "signal"}


def test_a_plugin_bootstrap_did_not_install_is_named(tmp_path):
    with pytest.raises(PluginsUnavailable, match=r"'discord'.*bootstrap"):
        ensure_installed(tmp_path / "no-plugins", tmp_path / "state", {"discord"})


def test_generated_configs_enable_exactly_the_plugins_their_channels_need():
    def spec(*types: ChannelType) -> oc.GatewaySpec:
        channels = tuple(oc.ChannelSpec(t, "bot", {}) for t in types)
        return oc.GatewaySpec(local=True, agents=(oc.AgentSpec("bot", "Bot", "", channels=channels),))

    assert plugins_in(oc.build_config(spec(ChannelType.TELEGRAM))) == set()
    assert "plugins" not in oc.build_config(spec(ChannelType.TELEGRAM))
    both = oc.build_config(spec(ChannelType.DISCORD, ChannelType.WHATSAPP, ChannelType.TELEGRAM))
    assert plugins_in(both) == {"discord", "whatsapp"}
