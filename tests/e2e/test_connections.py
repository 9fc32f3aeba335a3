"""Trying credentials before anything uses them, and pairing WhatsApp, in a real Chromium against
a real ClawNet with real OpenClaw gateways. Discord, Slack, signal-cli and a model provider are
fakes on loopback (their real services cannot be reached from here); ClawNet is pointed at them
through its settings, as only tests do."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from clawnet.bots.forms import BotInput, ChannelInput
from clawnet.bots.service import BotsService
from clawnet.bots.whatsapp import UNREACHABLE_AS
from clawnet.controlplane.access import RemoteControl
from clawnet.enums import ProviderKind
from clawnet.events import EventBus
from clawnet.models import Gateway, ModelProvider, User
from clawnet.security.permissions import Principal
from clawnet.settings import load_settings
from tests.e2e.helpers import bot_id_from_url, register, server_db, sign_in
from tests.support.fake_http import closed_port_url
from tests.support.fake_services import FakeDiscord, FakeModelApi, FakeSignalCli, FakeSlack
from tests.support.reflex_client import run_in_thread
from tests.support.server import running_clawnet
from tests.support.standalone_gateway import standalone_gateway
from tests.support.whatsapp_standin import WhatsAppStandIn

pytestmark = pytest.mark.e2e
ADMIN = "ops@example.com"
DISCORD_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GAbCdE.fake-token-for-tests_0123456789abcdefghijklmn"
APP_ID = "123456789012345678"
SIGNAL_NUMBER = "+15555550123"


@pytest.fixture(scope="module")
def discord():
    with FakeDiscord() as fake:
        fake.add_bot(DISCORD_TOKEN, "helper", APP_ID)
        yield fake


@pytest.fixture(scope="module")
def slack():
    with FakeSlack() as fake:
        fake.add_app("xoxb-1111-2222-fakebottoken", "xapp-1-A111-2222-fakeapptoken", "clawbot", "Acme")
        yield fake


@pytest.fixture(scope="module")
def server(tmp_path_factory, discord, slack):
    env = {
        "CLAWNET_DISCORD_API_URL": discord.api_url,
        "CLAWNET_SLACK_API_URL": slack.api_url,
        # Where gateways find WhatsApp Web: nothing listens there, as on a host without internet.
        "CLAWNET_WHATSAPP_WEB_SOCKET_URL": closed_port_url().replace("http://", "ws://") + "/ws/chat",
    }
    with running_clawnet(tmp_path_factory.mktemp("clawnet-connections"), env) as srv:
        yield srv


@pytest.fixture(scope="module")
def admin_ready(server, browser):
    context = browser.new_context()
    page = context.new_page()
    register(page, server.url, ADMIN, "Ops Admin", "ops")
    expect(page.get_by_test_id("dashboard-page")).to_be_visible()
    context.close()
    return ADMIN


def type_secret(page, testid: str, value: str) -> None:
    field = page.get_by_test_id(testid)
    field.fill(value)
    field.blur()  # a secret reaches the server when the field loses focus


def test_test_connection_tries_discord_slack_and_signal_from_the_wizard(
    server, admin_ready, new_page, discord
):
    page = new_page()
    sign_in(page, server.url, ADMIN)
    page.goto(f"{server.url}/bots/new")
    page.get_by_label("Name").fill("Connector")
    page.get_by_test_id("wizard-next").click()

    page.get_by_test_id("wizard-channel-discord").click()
    type_secret(page, "wizard-cred-discord-token", DISCORD_TOKEN.replace("fake", "wrong"))
    type_secret(page, "wizard-cred-discord-applicationid", APP_ID)
    page.get_by_test_id("wizard-discord-test").click()
    expect(page.get_by_test_id("wizard-discord-check")).to_contain_text("Discord refused the token")
    type_secret(page, "wizard-cred-discord-token", DISCORD_TOKEN)
    expect(page.get_by_test_id("wizard-discord-check")).to_have_count(0)  # a new token: the old verdict goes
    page.get_by_test_id("wizard-discord-test").click()
    expect(page.get_by_test_id("wizard-discord-check")).to_have_text("Connected as @helper.")

    page.get_by_test_id("wizard-channel-slack").click()
    type_secret(page, "wizard-cred-slack-bottoken", "xoxb-1111-2222-fakebottoken")
    type_secret(page, "wizard-cred-slack-apptoken", "xapp-1-A111-2222-fakeapptoken")
    page.get_by_test_id("wizard-slack-test").click()
    expect(page.get_by_test_id("wizard-slack-check")).to_have_text(
        "Connected as @clawbot in Acme. The app-level token opens Socket Mode."
    )

    page.get_by_test_id("wizard-channel-signal").click()
    type_secret(page, "wizard-cred-signal-account", SIGNAL_NUMBER)
    expect(page.get_by_test_id("wizard-cred-signal-url")).to_have_count(0)  # the gateway starts signal-cli
    needs = page.get_by_test_id("wizard-cred-signal-transport-needs")  # what signal-cli must provide
    expect(needs).to_contain_text("installed on the gateway's machine")
    page.get_by_test_id("wizard-cred-signal-transport").select_option("external-native")
    expect(needs).to_contain_text("signal-cli -a <number> daemon --http 127.0.0.1:8080")
    with FakeSignalCli([SIGNAL_NUMBER]) as daemon:
        type_secret(page, "wizard-cred-signal-url", daemon.url)
        page.get_by_test_id("wizard-signal-test").click()
        expect(page.get_by_test_id("wizard-signal-check")).to_have_text(
            f"signal-cli 0.13.22 answers at {daemon.url}."
        )
    page.get_by_test_id("wizard-signal-test").click()  # the daemon is gone now
    expect(page.get_by_test_id("wizard-signal-check")).to_contain_text(
        f"signal-cli could not be reached at {daemon.url}"
    )

    discord.__exit__(None, None, None)  # Discord goes away: the same token cannot be tried
    page.get_by_test_id("wizard-discord-test").click()
    expect(page.get_by_test_id("wizard-discord-check")).to_contain_text("Discord could not be reached")
    assert [r.headers["authorization"] for r in discord.requests if r.path.endswith("/users/@me")][-1] == (
        f"Bot {DISCORD_TOKEN}"
    )


def test_a_model_providers_key_is_tested_before_and_after_saving(server, admin_ready, new_page):
    page = new_page()
    sign_in(page, server.url, ADMIN)
    with FakeModelApi("sk-good", ["acme-1", "acme-2"]) as api:
        page.goto(f"{server.url}/settings")
        page.get_by_test_id("provider-add").click()
        page.get_by_test_id("provider-kind").select_option("openai_compatible")
        page.get_by_test_id("provider-name").fill("acme")
        page.get_by_test_id("provider-display").fill("Acme")
        page.get_by_test_id("provider-base-url").fill(f"{api.url}/v1")
        page.get_by_test_id("provider-models").fill("acme-1 | fast")
        type_secret(page, "provider-api-key", "sk-wrong")
        page.get_by_test_id("provider-test").click()
        expect(page.get_by_test_id("provider-check")).to_contain_text("Acme refused the key (HTTP 401)")
        type_secret(page, "provider-api-key", "sk-good")
        page.get_by_test_id("provider-test").click()
        expect(page.get_by_test_id("provider-check")).to_have_text(
            "Connected: the key works and Acme offers 2 models."
        )
        page.get_by_test_id("provider-save").click()
        page.get_by_test_id("provider-test-acme").click()  # the stored key, never shown again
        expect(page.get_by_test_id("provider-row-check-acme")).to_contain_text("Acme: Connected")
    page.get_by_test_id("provider-test-acme").click()
    expect(page.get_by_test_id("provider-row-check-acme")).to_contain_text("Acme could not be reached")


def test_whatsapp_pairing_says_plainly_why_no_qr_code_came(server, admin_ready, new_page):
    """A real gateway with the WhatsApp plugin, on a host where WhatsApp Web cannot be reached
    (nothing listens where the gateway looks for it): no code, and why."""
    page = new_page()
    sign_in(page, server.url, ADMIN)
    page.goto(f"{server.url}/bots/new")
    page.get_by_label("Name").fill("Phone Bot")
    page.get_by_test_id("wizard-next").click()
    page.get_by_test_id("wizard-channel-whatsapp").click()
    for _ in range(3):
        page.get_by_test_id("wizard-next").click()
    expect(page.get_by_test_id("review-config-check")).to_contain_text(
        "OpenClaw accepts this configuration", timeout=90_000
    )
    page.get_by_test_id("wizard-launch").click()
    expect(page.get_by_test_id("launch-progress-line").last).to_contain_text("Running", timeout=180_000)
    pairing = page.get_by_test_id("whatsapp-pairing")
    why = re.compile(re.escape(UNREACHABLE_AS.split("{}")[0]) + r" \(.*ECONNREFUSED.*\), so no QR code")
    pairing.get_by_test_id("whatsapp-pair").click()
    expect(pairing.get_by_test_id("whatsapp-status")).to_have_text(why, timeout=90_000)
    expect(pairing.get_by_test_id("whatsapp-qr")).to_have_count(0)

    page.get_by_test_id("launch-open").click()
    expect(page.get_by_test_id("bot-detail-page")).to_be_visible()
    bot_id = bot_id_from_url(page.url)
    page.goto(f"{server.url}/bots/{bot_id}?tab=channels")
    pairing = page.get_by_test_id("whatsapp-pairing")
    pairing.get_by_test_id("whatsapp-pair").click()
    expect(pairing.get_by_test_id("whatsapp-status")).to_have_text(why, timeout=90_000)


def create_bot_on_gateway(server, email: str, gateway_id: int, name: str) -> int:
    """A WhatsApp bot on `gateway_id`, made by the bots service as another ClawNet process would
    (one that does not run the control plane: the change reaches it through the database)."""
    settings = load_settings({"CLAWNET_DATA_DIR": str(server.data_dir), "DATABASE_URL": server.database_url})
    with server_db(server) as s:
        owner = Principal.of(s.exec(select(User).where(User.email == email)).one())
        echo = s.exec(select(ModelProvider).where(ModelProvider.kind == ProviderKind.LOCAL_ECHO.value)).one()
    bus = EventBus()
    service = BotsService(settings, bus, RemoteControl(bus, server.database_url))
    inp = BotInput(
        name=name,
        provider_id=echo.id,
        model_id="echo-1",
        channels=[ChannelInput("whatsapp", {}, "pairing", [])],
        remote_gateway_id=gateway_id,
    )
    return run_in_thread(lambda: service.create_bot(owner, inp))


def test_the_qr_code_appears_counts_down_is_replaced_when_whatsapp_rotates_it_then_links(
    server, admin_ready, new_page, tmp_path
):
    """A real gateway adopted as a remote one, through a stand-in for WhatsApp's side (which cannot
    be faked below the gateway: Baileys pins WhatsApp's certificate)."""
    page = new_page()
    sign_in(page, server.url, ADMIN)
    with (
        standalone_gateway(load_settings({}), tmp_path / "phone-box") as (url, token, _proc),
        WhatsAppStandIn(url, rotate_s=8) as whatsapp,
    ):
        page.goto(f"{server.url}/settings")
        page.get_by_test_id("remote-name").fill("Phone box")
        page.get_by_test_id("remote-url").fill(whatsapp.url)
        page.get_by_test_id("remote-token").fill(token)
        page.get_by_test_id("remote-adopt").click()
        expect(page.get_by_test_id("settings-gateways-table")).to_contain_text("Phone box")
        with server_db(server) as s:
            gateway_id = s.exec(select(Gateway.id).where(Gateway.name == "Phone box")).one()
        bot_id = create_bot_on_gateway(server, ADMIN, gateway_id, "Paired Bot")

        page.goto(f"{server.url}/bots/{bot_id}?tab=channels")
        expect(page.get_by_test_id("bot-status")).to_have_text("Running", timeout=180_000)
        pairing = page.get_by_test_id("whatsapp-pairing")
        pairing.get_by_test_id("whatsapp-pair").click()
        qr = pairing.get_by_test_id("whatsapp-qr")
        expect(qr).to_have_attribute("src", re.compile("^data:image/png;base64,"))
        assert qr.get_attribute("src") == whatsapp.codes[0]
        valid = pairing.get_by_test_id("whatsapp-qr-valid")
        expect(valid).to_have_text(re.compile(r"^This code stays valid for (60|5\d) s\.$"))
        first = int(re.findall(r"\d+", valid.inner_text())[0])
        expect(valid).not_to_have_text(f"This code stays valid for {first} s.")  # it counts down
        page.screenshot(path=str(tmp_path / "whatsapp-qr.png"))

        expect(qr).to_have_attribute("data-rotation", "1", timeout=30_000)  # WhatsApp rotated it
        assert qr.get_attribute("src") == whatsapp.codes[1] != whatsapp.codes[0]
        expect(valid).to_have_text(re.compile(r"^This code stays valid for (20|1\d) s\.$"))
        expect(pairing).to_contain_text("WhatsApp made a new code: scan this one.")

        whatsapp.scan()
        expect(pairing.get_by_test_id("whatsapp-status")).to_have_text(
            "WhatsApp is linked: the bot now answers on this phone's WhatsApp.", timeout=30_000
        )
        expect(qr).to_have_count(0)
        waits = [params for method, params in whatsapp.calls if method == "web.login.wait"]
        assert waits and all(p["channel"] == "whatsapp" and p["accountId"] for p in waits)
        assert {p.get("currentQrDataUrl") for p in waits} >= set(whatsapp.codes[:2])  # the code on screen
