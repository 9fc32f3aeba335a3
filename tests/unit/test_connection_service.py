"""The bots service's connection tests and WhatsApp pairing, as pages call them: the stored
credential is used when nothing is typed (it never comes back out), the caller's rights are
checked before any request, and the gateway's WhatsApp answers become plain steps: a QR code
with how long it stays valid, a new code when WhatsApp rotates it, the link, or why not."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from clawnet.bots import whatsapp
from clawnet.bots.forms import BotForm
from clawnet.bots.providers import ProviderInput, ensure_local_echo_provider
from clawnet.bots.service import BotsService
from clawnet.bots.views import PairingStep
from clawnet.bots.whatsapp import EXPIRED, FIRST_QR_VALID_S, NEXT_QR_VALID_S, NO_PLUGIN, UNREACHABLE
from clawnet.controlplane.gateway_api import GatewayApi, WebLogin
from clawnet.controlplane.protocol import GatewayError
from clawnet.enums import ChannelType, ProviderKind, Role
from clawnet.errors import PermissionDenied, UserError
from clawnet.events import EventBus
from clawnet.models import Bot, Gateway
from clawnet.security.permissions import Principal
from clawnet.security.secret_fields import GATEWAY_TOKEN
from clawnet.settings import get_settings
from tests.factories import make_user
from tests.support.fake_services import FakeDiscord, FakeModelApi
from tests.unit.test_bot_editing import RecordingControl

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GAbCdE.fake-token-for-tests_0123456789abcdefghijklmn"
APP_ID = "123456789012345678"
QR1 = "data:image/png;base64,AAAA"
QR2 = "data:image/png;base64,BBBB"


class ScriptedCaller:
    """A gateway connection answering from a script: method -> answers (or errors), in order."""

    def __init__(self, script: dict[str, list[Any]]) -> None:
        self.script = script
        self.calls: list[tuple[str, dict[str, Any]]] = []

    @property
    def is_connected(self) -> bool:
        return True

    async def call(self, method: str, params: dict[str, Any] | None = None, **_: Any) -> Any:
        self.calls.append((method, dict(params or {})))
        answer = self.script[method].pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


class GatewayControl(RecordingControl):
    def __init__(self) -> None:
        super().__init__()
        self.api: GatewayApi | None = None

    def gateway(self, gateway_id: int):
        return self.api


@pytest.fixture
def control() -> GatewayControl:
    return GatewayControl()


@pytest.fixture
def service(migrated, control) -> BotsService:
    return BotsService(get_settings(), EventBus(), control)


@pytest.fixture
async def discord_bot(session, service) -> tuple[Principal, int]:
    owner = Principal.of(make_user(session, Role.OPERATOR))
    ensure_local_echo_provider(session)
    session.commit()
    form = BotForm(name="Helper", model=(await service.model_choices(owner))[0].value).with_channel(
        "discord", True
    )
    bot_id = await service.create_bot(
        owner, form.to_input({"discord.token": TOKEN, "discord.applicationId": APP_ID})
    )
    return owner, bot_id


async def test_the_stored_discord_token_is_tested_when_none_is_typed(session, service, discord_bot):
    owner, bot_id = discord_bot
    with FakeDiscord() as discord:
        discord.add_bot(TOKEN, "helper", APP_ID)
        service.settings = dataclasses.replace(service.settings, discord_api_url=discord.api_url)
        result = await service.test_channel(owner, ChannelType.DISCORD, {}, bot_id=bot_id)
        assert result.ok and result.message == "Connected as @helper."
        typed = await service.test_channel(
            owner, ChannelType.DISCORD, {"discord.token": TOKEN.replace("fake", "nope")}, bot_id=bot_id
        )
        assert typed.message.startswith("Discord refused the token")  # what is typed wins

        stranger = Principal.of(make_user(session, Role.OPERATOR))
        viewer = Principal.of(make_user(session, Role.VIEWER))
        session.commit()
        asked = len(discord.requests)
        for who in (stranger, viewer, None):
            with pytest.raises(PermissionDenied):
                await service.test_channel(who, ChannelType.DISCORD, {}, bot_id=bot_id)
        with pytest.raises(PermissionDenied):
            await service.test_channel(viewer, ChannelType.DISCORD, {"discord.token": TOKEN})
        assert len(discord.requests) == asked  # refused before any request


async def test_a_provider_is_tested_with_its_stored_key_by_admins_only(session, service):
    admin = Principal.of(make_user(session, Role.ADMIN))
    operator = Principal.of(make_user(session, Role.OPERATOR))
    session.commit()
    with FakeModelApi("sk-stored", ["acme-1"]) as api:
        inp = ProviderInput(
            ProviderKind.OPENAI_COMPATIBLE.value, "acme", "Acme", f"{api.url}/v1", "sk-stored", "acme-1"
        )
        provider_id = await service.save_provider(admin, inp)
        kept = ProviderInput(inp.kind, inp.name, inp.display_name, inp.base_url, "", inp.models_text)
        result = await service.test_provider(admin, kept, provider_id)
        assert result.ok and "Acme offers 1 models" in result.message
        assert api.requests[-1].headers["authorization"] == "Bearer sk-stored"
        with pytest.raises(PermissionDenied):
            await service.test_provider(operator, kept, provider_id)


# --- WhatsApp pairing ---------------------------------------------------------------------------


@pytest.fixture
def paired_bot(session) -> tuple[Principal, int]:
    owner_user = make_user(session, Role.OPERATOR)
    gateway = Gateway(name="g", owner_id=owner_user.id, base_port=30000, token_enc=GATEWAY_TOKEN.seal("t"))
    session.add(gateway)
    session.flush()
    bot = Bot(owner_id=owner_user.id, name="Pairer", agent_id="pairer", gateway_id=gateway.id)
    session.add(bot)
    session.commit()
    return Principal.of(owner_user), bot.id or 0


async def test_the_qr_code_appears_rotates_and_links(service, control, paired_bot):
    owner, bot_id = paired_bot
    caller = ScriptedCaller(
        {
            "web.login.start": [{"qrDataUrl": QR1, "message": "Scan this QR in WhatsApp → Linked Devices."}],
            "web.login.wait": [
                {"connected": False, "message": "QR refreshed. Scan the latest code.", "qrDataUrl": QR2},
                {"connected": False, "message": "Still waiting for the QR scan."},
                {"connected": True, "message": "✅ Linked! WhatsApp is ready."},
            ],
        }
    )
    control.api = GatewayApi(caller)
    first = await service.whatsapp_pairing_qr(owner, bot_id)
    assert (first.state, first.qr, first.valid_s) == ("qr", QR1, FIRST_QR_VALID_S)
    rotated = await service.whatsapp_pairing_wait(owner, bot_id, first)
    assert (rotated.state, rotated.qr, rotated.valid_s) == ("qr", QR2, NEXT_QR_VALID_S)
    same = await service.whatsapp_pairing_wait(owner, bot_id, rotated)
    assert same.state == "waiting"
    linked = await service.whatsapp_pairing_wait(owner, bot_id, rotated)
    assert linked.state == "linked"
    start, *waits = caller.calls
    assert start[1] == {"channel": "whatsapp", "accountId": "pairer", "force": False, "timeoutMs": 30000}
    assert [w[1].get("currentQrDataUrl") for w in waits] == [QR1, QR2, QR2]  # rotation is noticed


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (GatewayError("INVALID_REQUEST", "web login provider is not available"), NO_PLUGIN),
        ({"message": "Failed to get QR: Error: Timed out waiting for WhatsApp QR"}, UNREACHABLE),
        ({"message": ""}, "The gateway did not return a QR code."),  # ok, but no QR: a failure
    ],
)
async def test_no_qr_code_is_said_plainly(service, control, paired_bot, answer, expected):
    owner, bot_id = paired_bot
    control.api = GatewayApi(ScriptedCaller({"web.login.start": [answer]}))
    if isinstance(answer, Exception):
        with pytest.raises(UserError, match="no WhatsApp support installed"):
            await service.whatsapp_pairing_qr(owner, bot_id)
        return
    step = await service.whatsapp_pairing_qr(owner, bot_id)
    assert step == PairingStep("failed", expected)


async def test_an_expired_code_and_a_stopped_gateway_are_said_plainly(service, control, paired_bot):
    owner, bot_id = paired_bot
    shown = PairingStep("qr", "", QR1, FIRST_QR_VALID_S)
    control.api = GatewayApi(
        ScriptedCaller({"web.login.wait": [{"connected": False, "message": "The login QR expired. Ask me."}]})
    )
    assert (await service.whatsapp_pairing_wait(owner, bot_id, shown)) == PairingStep("failed", EXPIRED)
    control.api = None
    with pytest.raises(UserError, match="not running"):
        await service.whatsapp_pairing_qr(owner, bot_id)


async def test_only_those_who_configure_the_bot_may_pair_it(session, service, control, paired_bot):
    _, bot_id = paired_bot
    caller = ScriptedCaller({"web.login.start": []})
    control.api = GatewayApi(caller)
    viewer = Principal.of(make_user(session, Role.VIEWER))
    session.commit()
    for who in (viewer, None):
        with pytest.raises(PermissionDenied):
            await service.whatsapp_pairing_qr(who, bot_id)
    assert caller.calls == []


@pytest.mark.parametrize(
    ("message", "detail"),
    [
        (
            "WhatsApp login failed: WebSocket Error (getaddrinfo ENOTFOUND web.whatsapp.com)",
            "getaddrinfo ENOTFOUND web.whatsapp.com",
        ),
        (
            "WhatsApp login failed: WebSocket Error (connect ECONNREFUSED 127.0.0.1:1)",
            "connect ECONNREFUSED 127.0.0.1:1",
        ),
    ],
)
def test_a_gateway_without_network_is_said_plainly(message, detail):
    """The plugin's own words when WhatsApp Web cannot be reached (seen with a real gateway)."""
    step = whatsapp.started(WebLogin("", "", message))
    assert step.state == "failed"
    assert step.message.startswith("WhatsApp could not be reached from the gateway host (")
    assert f"({detail}), so no QR code could be made" in step.message


async def test_signal_says_how_it_reaches_signal_cli_and_the_form_shows_it_back(session, service):
    owner = Principal.of(make_user(session, Role.OPERATOR))
    ensure_local_echo_provider(session)
    session.commit()
    form = BotForm(
        name="Signaller", agent_id="signaller", model=(await service.model_choices(owner))[0].value
    ).with_channel("signal", True)
    typed = {"signal.account": "+15555550123", "signal.transport": "external-native", "signal.url": "ftp://x"}
    checked = await service.check_form(owner, form, typed)
    assert checked.errors["channels.signal.url"].startswith("The address signal-cli's HTTP daemon listens on")
    typed["signal.url"] = "http://127.0.0.1:8080"
    assert (await service.check_form(owner, form, typed)).errors == {}
    bot_id = await service.create_bot(owner, form.to_input(typed))
    # How signal-cli is reached is a setting, shown again when editing; the number is not.
    assert await service.plain_settings(owner, bot_id) == {
        "signal.transport": "external-native",
        "signal.url": "http://127.0.0.1:8080",
    }
    viewer = Principal.of(make_user(session, Role.VIEWER))
    session.commit()
    with pytest.raises(PermissionDenied):
        await service.plain_settings(viewer, bot_id)
