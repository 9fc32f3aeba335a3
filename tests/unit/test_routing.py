"""Routing rules and groups without a gateway: each channel's id formats, the config each group
setting becomes, OpenClaw's order of rules, and saving rules and groups (OpenClaw's own check is
stood in for here; tests/integration runs the real one)."""

from __future__ import annotations

import dataclasses

import pytest
from sqlmodel import select

from clawnet.bots import config_check
from clawnet.bots.forms import BindingInput
from clawnet.bots.routing_rules import GroupRow, rule_rows, tier_of
from clawnet.bots.service import BotsService
from clawnet.bots.store import stored_input
from clawnet.bots.validation import group_id_problem, peer_id_problem
from clawnet.controlplane.channel_groups import group_settings, groups_of
from clawnet.controlplane.openclaw_cli import ValidationResult
from clawnet.enums import ChannelType, MentionPolicy, Role
from clawnet.errors import PermissionDenied, UserError
from clawnet.events import EventBus
from clawnet.models import AuditEvent, Binding, Bot, BotChannel
from clawnet.security.permissions import Principal
from clawnet.settings import get_settings
from tests.factories import make_provider, make_user
from tests.unit.test_bot_editing import RecordingControl

TG, DC, SL, WA, SG = (ChannelType.TELEGRAM, ChannelType.DISCORD, ChannelType.SLACK, ChannelType.WHATSAPP,
                      ChannelType.SIGNAL)  # fmt: skip
SIGNAL_GROUP = "EjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJCrze8="

# Two agents with Telegram accounts, a Discord and a Slack one; groups and rules of every kind.
CONFIG = """
{
  models: {mode: "merge", providers: {
    acme: {baseUrl: "http://127.0.0.1:9/v1", apiKey: "sk-acme", api: "openai-completions",
           models: [{id: "acme-1", name: "Acme"}]},
  }},
  agents: {defaults: {model: "acme/acme-1"}, entries: {
    alpha: {name: "Alpha"},
    beta: {name: "Beta"},
  }},
  channels: {
    telegram: {accounts: {
      alpha: {botToken: "123456789:AAH0f2l4xmPBtFakeTokenForTests_abcdefg", dmPolicy: "pairing",
              groupPolicy: "allowlist", groupAllowFrom: ["*"],
              groups: {"-1001234567890": {requireMention: false}, "-1009876543210": {requireMention: true}}},
      beta: {botToken: "223456789:AAH0f2l4xmPBtFakeTokenForTests_bcdefgh", dmPolicy: "pairing",
             groupPolicy: "open", groups: {"*": {requireMention: false}}},
    }},
    discord: {token: "%s", applicationId: "123456789012345678", dmPolicy: "pairing",
              groupPolicy: "allowlist", guilds: {"345678901234567890": {requireMention: true}}},
  },
  bindings: [
    {agentId: "alpha", match: {channel: "telegram", accountId: "alpha"}},
    {agentId: "beta", match: {channel: "telegram", accountId: "beta"}},
    {agentId: "beta", match: {channel: "discord"}},
    {agentId: "beta", match: {channel: "telegram", accountId: "alpha", peer: {kind: "direct", id: "111111111"}}},
    {agentId: "beta", match: {channel: "discord", guildId: "345678901234567890", roles: ["456789012345678901"]}},
  ],
}
""" % ("d" * 70)


# --- ids in each channel's own format ------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "good", "bad", "says"),
    [
        (TG, "-1001234567890", "1001234567890", "negative numbers"),
        (TG, "-4001234567", "@mygroup", "Telegram group id"),
        (DC, "123456789012345678", "42", "17 to 20 digits"),
        (SL, "C0123ABCD", "#general", "starts with C"),
        (SL, "G0123ABCD", "U0123ABCD", "Slack channel id"),
        (WA, "120363012345678901@g.us", "+15555550123", "ends in @g.us"),
        (WA, "15551234567-1600000000@g.us", "120363012345678901@s.whatsapp.net", "@g.us"),
        (SG, SIGNAL_GROUP, "+15555550123", "base64"),
        (SG, "group:" + SIGNAL_GROUP, "not a group", "signal-cli listGroups"),
    ],
)
def test_group_ids_are_checked_in_each_channels_own_format(channel, good, bad, says):
    assert group_id_problem(channel, good) is None
    problem = group_id_problem(channel, bad)
    assert problem is not None and f"'{bad}'" in problem and says in problem


@pytest.mark.parametrize(
    ("channel", "kind", "good", "bad", "says"),
    [
        (TG, "direct", "111111111", "-1001234567890", "positive number"),
        (TG, "group", "-1001234567890", "111111111", "negative"),
        (DC, "channel", "123456789012345678", "general", "17 to 20 digits"),
        (SL, "direct", "U0123ABCD", "C0123ABCD", "starts with U or W"),
        (SL, "channel", "C0123ABCD", "U0123ABCD", "starts with C"),
        (WA, "direct", "+15555550123", "15555550123", "international format"),
        (WA, "channel", None, "120363012345678901@g.us", "WhatsApp has no channels"),
        (SG, "direct", "uuid:12345678-1234-1234-1234-123456789abc", "alice", "uuid:"),
    ],
)
def test_conversation_ids_of_rules_are_checked_per_channel_and_kind(channel, kind, good, bad, says):
    if good is not None:
        assert peer_id_problem(channel, kind, good) is None
    assert says in (peer_id_problem(channel, kind, bad) or "")
    assert peer_id_problem(channel, kind, "*") is None or channel in (WA, SG)  # every conversation


# --- what each group setting becomes -------------------------------------------------------------


def test_listed_telegram_groups_are_the_groups_key_and_any_member_may_talk():
    ids, mentions = ("-1001", "-1002"), {"-1002": "always"}
    allow = group_settings(TG, "allowlist", ids, MentionPolicy.MENTION, mentions)
    assert allow == {
        "groupPolicy": "allowlist",
        "groups": {"-1001": {"requireMention": True}, "-1002": {"requireMention": False}},
        "groupAllowFrom": ["*"],  # senders: not the group ids, which OpenClaw would ignore there
    }
    open_ = group_settings(TG, "open", ids, MentionPolicy.ALWAYS, {})
    assert open_["groups"] == {
        "*": {"requireMention": False},
        "-1001": {"requireMention": False},
        "-1002": {"requireMention": False},
    }
    assert "groupAllowFrom" not in open_
    assert group_settings(TG, "disabled", ids, MentionPolicy.MENTION, {}) == {
        "groupPolicy": "disabled",
        "groups": {"*": {"requireMention": True}},
    }


def test_signal_discord_and_slack_groups_in_their_own_terms():
    signal = group_settings(SG, "allowlist", (SIGNAL_GROUP,), MentionPolicy.MENTION, {})
    assert signal["groupAllowFrom"] == ["group:" + SIGNAL_GROUP]
    assert signal["groups"] == {SIGNAL_GROUP: {"requireMention": True}}
    discord = group_settings(DC, "allowlist", ("123456789012345678",), MentionPolicy.MENTION, {})
    assert discord == {"groupPolicy": "allowlist", "guilds": {"123456789012345678": {"requireMention": True}}}
    slack = group_settings(SL, "open", ("C0123ABCD",), MentionPolicy.ALWAYS, {"C0123ABCD": "mention"})
    assert slack == {
        "groupPolicy": "open",
        "requireMention": False,
        "channels": {"C0123ABCD": {"requireMention": True}},
    }


def test_imported_groups_read_back_what_was_written():
    for channel, ids in ((TG, ("-1001", "-1002")), (SG, (SIGNAL_GROUP,)), (DC, ("123456789012345678",))):
        written = group_settings(channel, "allowlist", ids, MentionPolicy.MENTION, {ids[0]: "always"})
        assert groups_of(channel, written) == (
            list(ids),
            {i: ("always" if i == ids[0] else "mention") for i in ids},
        )
    # Older ClawNet configs put Telegram group ids in groupAllowFrom.
    assert groups_of(TG, {"groupAllowFrom": ["-100200300", "111"]}) == (["-100200300"], {})


# --- OpenClaw's order ------------------------------------------------------------------------------


def test_rules_are_listed_in_openclaws_order():
    rules = [
        BindingInput("slack", account_id="*"),
        BindingInput("discord", guild_id="123456789012345678"),
        BindingInput("telegram", account_id="beta"),
        BindingInput("telegram", peer_kind="direct", peer_id="*"),
        BindingInput("discord", guild_id="123456789012345678", roles=["234567890123456789"]),
        BindingInput("slack", team_id="T0123ABCD"),
        BindingInput("telegram", peer_kind="direct", peer_id="111111111"),
    ]
    assert [tier_of(r) for r in rules] == [8, 5, 7, 3, 4, 6, 1]
    rows = rule_rows(rules, [], {"bindings.6.peer_id": "Wrong."}, {})
    assert [r.index for r in rows] == [6, 3, 4, 1, 5, 2, 0]
    assert [r.tier_label for r in rows][:2] == ["Exact conversation", "Every conversation of a kind"]
    assert rows[0].error == "Wrong." and rows[0].summary.startswith("Direct chat 111111111, on ")


# --- the service ----------------------------------------------------------------------------------


class Verdicts:
    """Stands in for `openclaw config validate`: accepts, or refuses with the issues given."""

    def __init__(self) -> None:
        self.issues: tuple[tuple[str, str], ...] = ()
        self.configs: list[dict] = []

    async def __call__(self, settings, config, timeout=60.0):
        self.configs.append(config)
        return ValidationResult(not self.issues, self.issues)


@pytest.fixture
def verdicts(monkeypatch) -> Verdicts:
    fake = Verdicts()
    monkeypatch.setattr(config_check, "validate_config", fake)
    return fake


@pytest.fixture
def control() -> RecordingControl:
    return RecordingControl()


@pytest.fixture
def service(migrated, control) -> BotsService:
    return BotsService(get_settings(), EventBus(), control)


@pytest.fixture
async def fleet(session, service) -> tuple[Principal, dict[str, int]]:
    owner = Principal.of(make_user(session, Role.OPERATOR))
    make_provider(session)  # an admin's; the operator imports onto it
    session.commit()
    result = await service.import_config(owner, CONFIG)
    assert result.errors == []
    session.expire_all()
    return owner, {b.agent_id: b.id for b in session.exec(select(Bot)).all()}


def everything(session, bot_id: int):
    session.expire_all()
    return stored_input(session, session.get(Bot, bot_id))


async def test_imported_groups_and_rules_show_up_in_the_editor(fleet, service):
    owner, ids = fleet
    alpha = await service.routing(owner, ids["alpha"])
    (telegram,) = alpha.groups
    assert (telegram.policy, telegram.mention) == ("allowlist", "mention")
    assert [(g.id, g.mention) for g in telegram.groups] == [
        ("-1001234567890", "always"),
        ("-1009876543210", "mention"),
    ]
    beta = await service.routing(owner, ids["beta"])
    assert {(g.type, g.policy, g.mention) for g in beta.groups} == {
        ("telegram", "open", "always"),
        ("discord", "allowlist", "mention"),
    }
    assert beta.rules == [
        BindingInput("telegram", "direct", "111111111", account_id="alpha", priority=2),
        BindingInput("discord", guild_id="345678901234567890", roles=["456789012345678901"], priority=1),
    ]
    assert "telegram|alpha" in {c.value for c in beta.where}  # Alpha's account, offered to Beta's rules
    rows = await service.describe_rules(owner, ids["beta"], beta.rules)
    assert [(r.tier, r.where_label) for r in rows] == [
        (1, "Telegram: Alpha's account"),
        (4, "Discord: this bot's own account"),
    ]


async def test_wizard_edits_keep_imported_rules_and_groups(session, fleet, service):
    owner, ids = fleet
    before = everything(session, ids["beta"])
    form, _ = await service.edit_form(owner, ids["beta"])
    await service.update_from_form(owner, ids["beta"], form, dataclasses.replace(form, persona="New."), {})
    after = everything(session, ids["beta"])
    assert after.bindings == before.bindings and after.channels == before.channels
    # Dropping Discord drops the rule for Beta's own Discord account, not the one on Alpha's.
    form, _ = await service.edit_form(owner, ids["beta"])
    await service.update_from_form(owner, ids["beta"], form, form.with_channel("discord", False), {})
    assert [(b.channel, b.account_id) for b in everything(session, ids["beta"]).bindings] == [
        ("telegram", "alpha")
    ]
    # A group's own mention setting, changed in the wizard, changes only that group.
    form, _ = await service.edit_form(owner, ids["alpha"])
    edited = dataclasses.replace(
        form, group_mention={"telegram": {**form.group_mention["telegram"], "-1009876543210": "always"}}
    )
    await service.update_from_form(owner, ids["alpha"], form, edited, {})
    (channel,) = everything(session, ids["alpha"]).channels
    assert channel.group_mentions == {"-1001234567890": "always", "-1009876543210": "always"}


async def test_saving_rules_asks_openclaw_first_then_saves_audits_and_tells_the_gateway(
    session, fleet, service, control, verdicts
):
    owner, ids = fleet
    rules = [
        *((await service.routing(owner, ids["beta"])).rules),
        BindingInput("telegram", "group", "-1001234567890", account_id="alpha"),
    ]
    kicks = control.kicks
    message = await service.save_rules(owner, ids["beta"], rules)
    assert "OpenClaw accepts" in message and control.kicks == kicks + 1
    (checked,) = verdicts.configs
    assert {"agentId": "beta", "match": {"channel": "telegram", "accountId": "alpha",
            "peer": {"kind": "group", "id": "-1001234567890"}}} in checked["bindings"]  # fmt: skip
    assert everything(session, ids["beta"]).bindings == rules
    audit = session.exec(select(AuditEvent).where(AuditEvent.action == "bot.routing")).one()
    assert len(audit.after["rules"]) == 3


async def test_openclaws_refusal_is_shown_on_the_rule_it_names_and_nothing_is_saved(
    session, fleet, service, verdicts
):
    owner, ids = fleet
    before = everything(session, ids["beta"]).bindings
    rules = [BindingInput("telegram", "direct", "222222222", account_id="alpha")]
    verdicts.issues = (("bindings.0", "placeholder"),)
    # Which entry of the gateway's bindings is this rule: the first one OpenClaw gets.
    with pytest.raises(UserError) as refused:
        await service.save_rules(owner, ids["beta"], rules)
    assert refused.value.message.startswith("OpenClaw would refuse these rules")
    assert refused.value.field_errors == {"bindings.0": "OpenClaw refuses this rule: placeholder"}
    assert everything(session, ids["beta"]).bindings == before


@pytest.mark.parametrize(
    ("rule", "key", "says"),
    [
        (BindingInput("telegram", "direct", "alice", account_id="alpha"), "peer_id", "Telegram user id"),
        (
            BindingInput("telegram", account_id="nobody"),
            "account_id",
            "No bot has a Telegram account called 'nobody'",
        ),
        (BindingInput("slack", team_id="T0123ABCD"), "account_id", "no Slack account of its own"),
        (BindingInput("telegram", guild_id="123456789012345678"), "guild_id", "only on Discord"),
        (BindingInput("discord", roles=["234567890123456789"]), "roles", "give the server id too"),
        (BindingInput("discord", team_id="T0123ABCD"), "team_id", "only on Slack"),
        (BindingInput("telegram", "direct", ""), "peer_id", "Give the direct conversation's id"),
        (BindingInput("telegram"), "", "only what the bot's own Telegram account already brings it"),
    ],
)
async def test_each_wrong_rule_says_what_is_wrong(fleet, service, verdicts, rule, key, says):
    owner, ids = fleet
    with pytest.raises(UserError) as refused:
        await service.save_rules(owner, ids["beta"], [rule])
    field = "bindings.0" + (f".{key}" if key else "")
    assert says in refused.value.field_errors[field], refused.value.field_errors
    assert verdicts.configs == []  # OpenClaw is not asked about a rule ClawNet already refuses


async def test_a_rule_cannot_take_the_messages_of_a_bot_the_person_may_not_change(
    session, fleet, service, verdicts
):
    _, ids = fleet
    stranger = Principal.of(make_user(session, Role.OPERATOR))
    session.commit()
    mine = await service.import_config(
        stranger,
        CONFIG.replace("alpha", "gamma")
        .replace("beta", "delta")
        .replace('"Alpha"', '"Gamma"')
        .replace('"Beta"', '"Delta"'),
    )
    assert mine.errors == []
    delta = next(b for b in session.exec(select(Bot).where(Bot.agent_id == "delta")))
    with pytest.raises(UserError) as refused:
        await service.save_rules(stranger, delta.id, [BindingInput("telegram", account_id="alpha")])
    assert "may not change Alpha" in refused.value.field_errors["bindings.0.account_id"]
    with pytest.raises(PermissionDenied):
        await service.save_rules(stranger, ids["beta"], [])
    viewer = Principal.of(make_user(session, Role.VIEWER))
    session.commit()
    with pytest.raises(PermissionDenied):
        await service.routing(viewer, ids["beta"])
    assert session.exec(select(Binding).where(Binding.bot_id == delta.id)).all() != []


async def test_saving_groups_checks_each_id_then_asks_openclaw(session, fleet, service, verdicts):
    owner, ids = fleet
    with pytest.raises(UserError) as refused:
        await service.save_groups(owner, ids["alpha"], "telegram", policy="allowlist", mention="mention",
                                  groups=[GroupRow("-1001234567890", "always"), GroupRow("12345", "mention")])  # fmt: skip
    assert (
        "'12345' is not a Telegram group id"
        in refused.value.field_errors["channels.telegram.group_allow_from"]
    )
    with pytest.raises(UserError) as refused:
        await service.save_groups(
            owner, ids["alpha"], "telegram", policy="allowlist", mention="mention", groups=[]
        )
    assert "none is listed" in refused.value.field_errors["channels.telegram.group_allow_from"]
    assert verdicts.configs == []
    await service.save_groups(owner, ids["alpha"], "telegram", policy="open", mention="always",
                              groups=[GroupRow("-1009876543210", "mention")])  # fmt: skip
    row = session.exec(select(BotChannel).where(BotChannel.bot_id == ids["alpha"])).one()
    session.refresh(row)
    assert (row.group_policy, row.mention_policy, row.group_allow_from, row.group_mentions) == (
        "open", "always", ["-1009876543210"], {"-1009876543210": "mention"},
    )  # fmt: skip
    account = verdicts.configs[-1]["channels"]["telegram"]["accounts"]["alpha"]
    assert account["groups"] == {"*": {"requireMention": False}, "-1009876543210": {"requireMention": True}}
    assert account["botToken"].startswith("123456789:")  # checked with its real credentials


async def test_a_rule_on_a_deleted_bots_account_does_nothing_but_does_not_block_edits(
    session, fleet, service
):
    owner, ids = fleet
    await service.delete_bot(owner, ids["alpha"])
    form, _ = await service.edit_form(owner, ids["beta"])
    await service.update_from_form(
        owner, ids["beta"], form, dataclasses.replace(form, persona="Still here."), {}
    )
    rules = everything(session, ids["beta"]).bindings
    assert [r.account_id for r in rules] == ["alpha", ""]  # kept as imported
    rows = await service.describe_rules(owner, ids["beta"], rules)
    assert rows[0].note == "No bot has this account any more: the rule does nothing." and rows[0].error == ""
    with pytest.raises(UserError) as refused:  # but a new rule on that account is refused
        await service.save_rules(
            owner, ids["beta"], [*rules, BindingInput("telegram", "direct", "5555", account_id="alpha")]
        )
    assert (
        "No bot has a Telegram account called 'alpha'" in refused.value.field_errors["bindings.2.account_id"]
    )
