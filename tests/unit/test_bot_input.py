"""Bot input: each mistake is named on its field, with how to fix it."""

from __future__ import annotations

import pytest

from clawnet.bots.forms import BotInput, ChannelInput
from clawnet.bots.providers import ensure_local_echo_provider
from clawnet.bots.validation import risky_tool_warnings, slugify, validate_bot_input
from clawnet.enums import Role
from clawnet.settings import get_settings
from tests.factories import make_bot, make_user

GOOD_TELEGRAM = "123456789:AAH0f2l4xmPBtFakeTokenForTests_abcdefg"


@pytest.fixture
def ctx(session):
    owner = make_user(session, Role.OPERATOR)
    provider = ensure_local_echo_provider(session)
    return session, owner, provider


def check(ctx, **kw) -> dict[str, str]:
    session, owner, provider = ctx
    base = {"name": "Helper", "provider_id": provider.id, "model_id": "echo-1", "agent_id": "helper"}
    return validate_bot_input(session, get_settings(), BotInput(**{**base, **kw}), owner_id=owner.id)


def test_a_good_bot_has_no_problems(ctx):
    assert (
        check(
            ctx,
            channels=[
                ChannelInput("telegram", {"botToken": GOOD_TELEGRAM}, "allowlist", ["111111111", "@alice_b"])
            ],
        )
        == {}
    )


def test_name_model_and_id_problems_are_named(ctx):
    session, owner, _ = ctx
    make_bot(session, owner, name="Taken")
    errors = check(ctx, name="Taken", agent_id="Bad Id", model_id="gpt-9")
    assert errors["name"] == "You already have a bot called 'Taken'."
    assert errors["agent_id"].startswith("Use 1-64 lower-case letters")
    assert errors["model_id"] == "Local echo (no API key) has no model 'gpt-9'."
    assert "provider" in check(ctx, provider_id=None)["provider_id"]
    assert check(ctx, agent_id="main")["agent_id"] == "'main' is reserved; choose another."
    # A warm spare's hidden agents stay on the gateway it becomes: no bot may take their ids.
    for hidden in ("clawnet-warmup", "clawnet-warmup-2"):
        assert check(ctx, agent_id=hidden)["agent_id"] == f"'{hidden}' is reserved; choose another."


@pytest.mark.parametrize(
    ("channel", "field", "message"),
    [
        (
            ChannelInput("telegram", {"botToken": "12345"}),
            "channels.telegram.botToken",
            "not a Telegram bot token",
        ),
        (ChannelInput("telegram", {}), "channels.telegram.botToken", "@BotFather"),
        (
            ChannelInput("discord", {"token": "short", "applicationId": "x"}),
            "channels.discord.token",
            "Developer Portal",
        ),
        (
            ChannelInput("discord", {"token": "x" * 70, "applicationId": "app"}),
            "channels.discord.applicationId",
            "General Information",
        ),
        (
            ChannelInput("slack", {"botToken": "abc", "appToken": "xapp-1"}),
            "channels.slack.botToken",
            "xoxb-",
        ),
        (
            ChannelInput("slack", {"botToken": "xoxb-1", "appToken": "nope"}),
            "channels.slack.appToken",
            "xapp-",
        ),
        (ChannelInput("signal", {"account": "5555"}), "channels.signal.account", "international format"),
        (
            ChannelInput("telegram", {"botToken": GOOD_TELEGRAM}, "allowlist", []),
            "channels.telegram.allow_from",
            "at least one entry",
        ),
        (
            ChannelInput("telegram", {"botToken": GOOD_TELEGRAM}, "allowlist", ["alice"]),
            "channels.telegram.allow_from",
            "@username",
        ),
        (
            ChannelInput("whatsapp", {}, "allowlist", ["555-0123"]),
            "channels.whatsapp.allow_from",
            "+15555550123",
        ),
        (
            ChannelInput("telegram", {"botToken": GOOD_TELEGRAM}, "sometimes"),
            "channels.telegram.dm_policy",
            "pairing, allowlist",
        ),
        (ChannelInput("fax", {}), "channels.fax", "Unknown channel type"),
    ],
)
def test_channel_mistakes_are_named_on_their_field(ctx, channel, field, message):
    errors = check(ctx, channels=[channel])
    assert message in errors[field], errors


def test_session_and_tool_settings_are_checked(ctx):
    errors = check(
        ctx,
        session_scope="forever",
        reset_mode="weekly",
        reset_at_hour=25,
        reset_idle_minutes=0,
        tools_profile="root",
        tools_allow=["rm -rf"],
    )
    assert set(errors) >= {
        "session_scope",
        "reset_mode",
        "reset_at_hour",
        "reset_idle_minutes",
        "tools_profile",
        "tools_allow",
    }


def test_slugs_are_valid_agent_ids():
    assert slugify("Support Bot #2") == "support-bot-2"
    assert slugify("Émilie's  Café") == "emilie-s-cafe"
    assert slugify("🤖🤖") == "bot"


def test_risky_tool_settings_are_warned_about():
    inp = BotInput(
        name="x",
        provider_id=1,
        model_id="m",
        tools_profile="full",
        channels=[ChannelInput("telegram", {}, "open")],
    )
    warnings = risky_tool_warnings(inp)
    assert any("run commands" in w for w in warnings)
    assert any("open to everyone" in w for w in warnings)
    assert risky_tool_warnings(BotInput(name="x", provider_id=1, model_id="m", tools_profile="minimal")) == []


def test_an_edit_of_what_an_imported_file_covers_takes_effect():
    from clawnet.bots.store import apply_input
    from clawnet.models import Bot

    bot = Bot(owner_id=1, name="Writer", agent_id="writer", persona="Old soul", tools_profile="coding")
    bot.persona_files = {"SOUL.md": "Old soul", "IDENTITY.md": "# Writer", "AGENTS.md": "# Rules"}
    bot.tools_allow_only = ["read"]
    same = BotInput(name="Writer", provider_id=1, model_id="m", persona="Old soul", tools_profile="coding")
    apply_input(bot, same)  # nothing the files cover changed: they stay
    assert set(bot.persona_files) == {"SOUL.md", "IDENTITY.md", "AGENTS.md"} and bot.tools_allow_only == [
        "read"
    ]
    apply_input(
        bot, BotInput(name="Writer", provider_id=1, model_id="m", persona="New soul", tools_profile="coding")
    )
    assert set(bot.persona_files) == {"IDENTITY.md", "AGENTS.md"} and bot.persona == "New soul"
    apply_input(
        bot, BotInput(name="Author", provider_id=1, model_id="m", persona="New soul", tools_profile="full")
    )
    assert set(bot.persona_files) == {"AGENTS.md"} and bot.tools_allow_only == []
