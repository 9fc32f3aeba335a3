"""WhatsApp pairing against a real gateway that lacks the WhatsApp plugin (a gateway ClawNet did
not set up): OpenClaw's refusal is recognised and said plainly, not shown as a raw error."""

from __future__ import annotations

import pytest

from clawnet.bots.operations import pairing_error
from clawnet.bots.whatsapp import NO_PLUGIN
from clawnet.controlplane.gateway_api import GatewayApi, lacks_plugin
from clawnet.controlplane.protocol import GatewayConnection, GatewayError

pytestmark = pytest.mark.gateway


async def test_a_gateway_without_the_plugin_is_said_to_lack_whatsapp_support(standalone_gateway):
    url, token, _proc = standalone_gateway
    conn = await GatewayConnection.open(url, token, timeout=60)
    try:
        with pytest.raises(GatewayError) as refused:
            await GatewayApi(conn).start_web_login("whatsapp", "bot1", valid_ms=5000)
    finally:
        await conn.close()
    assert refused.value.code == "INVALID_REQUEST"
    assert "web login provider is not available" in refused.value.message
    assert lacks_plugin(refused.value)
    assert pairing_error(refused.value) == NO_PLUGIN
