"""Routing rules (OpenClaw bindings) and groups of a bot, as the bot page edits them.

Every change is checked three ways before it is saved: ClawNet's own field checks (ids in each
channel's format, `validation.py`), permission (a rule taking messages from another bot's
account needs the right to configure that bot too), and the real `openclaw config validate`
on the whole config the bot's gateway would run (`config_check.py`). Only then is it written,
with an audit event, and the gateway told.
"""

from __future__ import annotations

from dataclasses import replace

from sqlmodel import Session, col, select

from clawnet import audit
from clawnet.bots.base import BotsBase
from clawnet.bots.config_check import Candidate, candidate, check_with_openclaw
from clawnet.bots.forms import BindingInput, BotInput, ChannelInput, channel_creds
from clawnet.bots.routing_rules import (
    AccountChoice,
    GroupRow,
    RoutingView,
    RuleRow,
    channel_groups,
    channel_name,
    rule_rows,
    summary_of,
    where_of,
)
from clawnet.bots.store import (
    binding_input,
    replace_bindings,
    replace_channels,
    stored_credentials,
    stored_input,
)
from clawnet.bots.validation import validate_bot_input
from clawnet.enums import ChannelType
from clawnet.errors import NotFound, UserError
from clawnet.models import Binding, Bot, BotChannel
from clawnet.security.permissions import Action, Principal, can, require

MAX_RULES = 200
MAX_GROUPS = 200


def _bot(session: Session, bot_id: int) -> Bot:
    bot = session.get(Bot, bot_id)
    if bot is None:
        raise NotFound("No such bot.")
    return bot


def _with_credentials(session: Session, bot: Bot, inp: BotInput) -> BotInput:
    """`inp` with the stored channel credentials (the config to check needs them)."""
    stored = stored_credentials(session, bot.id or 0)
    return replace(
        inp, channels=[replace(c, credentials=channel_creds(stored, c.type)) for c in inp.channels]
    )


def _where_choices(
    session: Session, actor: Principal, bot: Bot, rules: list[BindingInput]
) -> list[AccountChoice]:
    """The accounts a rule of `bot` may listen on: its own, those of the other bots the person
    may configure, any account; and whatever its rules already name."""
    own = [c.type for c in session.exec(select(BotChannel).where(BotChannel.bot_id == bot.id)).all()]
    choices: list[AccountChoice] = []
    for ctype in own:
        choices.append(
            AccountChoice(f"{ctype}|", f"{channel_name(ctype)}: this bot's own account", ctype, "")
        )
    others = session.exec(
        select(Bot, BotChannel)
        .join(BotChannel, col(BotChannel.bot_id) == col(Bot.id))
        .where(Bot.id != bot.id)
        .order_by(col(Bot.name))
    ).all()
    for other, channel in others:
        if not can(session, actor, Action.CONFIGURE_BOT, other.id):
            continue
        elsewhere = "" if other.gateway_id == bot.gateway_id else " (on another gateway)"
        label = f"{channel_name(channel.type)}: {other.name}'s account{elsewhere}"
        choices.append(AccountChoice(f"{channel.type}|{other.agent_id}", label, channel.type, other.agent_id))
    for ctype in [c.value for c in ChannelType if c.value in {ch.channel for ch in choices}]:
        choices.append(AccountChoice(f"{ctype}|*", f"{channel_name(ctype)}: any account", ctype, "*"))
    known = {c.value for c in choices}
    for rule in rules:
        if where_of(rule) not in known:
            known.add(where_of(rule))
            label = f"{channel_name(rule.channel)}: account {rule.account_id or '(own)'}"
            choices.append(AccountChoice(where_of(rule), label, rule.channel, rule.account_id))
    order = {c.value: n for n, c in enumerate(ChannelType)}
    return sorted(choices, key=lambda c: order.get(c.channel, 99))


def _notes(session: Session, bot: Bot, rules: list[BindingInput]) -> dict[int, str]:
    notes: dict[int, str] = {}
    for i, rule in enumerate(rules):
        account = rule.account_id.strip()
        if account in ("", "*", bot.agent_id):
            continue
        other = session.exec(select(Bot).where(Bot.agent_id == account)).first()
        if other is None:
            notes[i] = "No bot has this account any more: the rule does nothing."
        elif other.gateway_id != bot.gateway_id:
            notes[i] = (
                f"{other.name} runs on another gateway: this rule takes effect only while both bots share one."
            )
    return notes


def _incoming(session: Session, actor: Principal, bot: Bot) -> list[str]:
    """Other bots' rules that take some of this bot's messages (theirs on its accounts, or on
    any account of its gateway), in words; bots the person may not see stay unnamed."""
    found = session.exec(
        select(Binding, Bot)
        .join(Bot, col(Bot.id) == col(Binding.bot_id))
        .where(Binding.bot_id != bot.id)
        .where(
            (col(Binding.account_id) == bot.agent_id)
            | ((col(Binding.account_id) == "*") & (col(Bot.gateway_id) == bot.gateway_id))
        )
        .order_by(col(Bot.name), col(Binding.id))
    ).all()
    out = []
    for row, other in found:
        rule = binding_input(row)
        name = other.name if can(session, actor, Action.VIEW_BOT, other.id) else "Another bot you cannot see"
        where = "any account" if rule.account_id == "*" else "this bot's account"
        out.append(f"{name}: {summary_of(rule, f'{channel_name(rule.channel)}: {where}')}")
    return out


def _permission_problems(
    session: Session, actor: Principal, bot: Bot, rules: list[BindingInput], stored: list[BindingInput]
) -> dict[str, str]:
    """Rules that would take messages from bots the person may not configure (rules already
    saved are not asked again: an imported rule survives an edit by someone else)."""
    errors: dict[str, str] = {}
    for i, rule in enumerate(rules):
        account = rule.account_id.strip()
        if rule in stored or account in ("", bot.agent_id):
            continue
        if account == "*":
            others = session.exec(
                select(Bot.id).where(Bot.gateway_id == bot.gateway_id, Bot.id != bot.id)
            ).all()
            if bot.gateway_id is not None and not all(
                can(session, actor, Action.CONFIGURE_BOT, o) for o in others
            ):
                errors[f"bindings.{i}.account_id"] = (
                    "Any account would take messages from bots you may not change: choose one account."
                )
            continue
        other = session.exec(select(Bot).where(Bot.agent_id == account)).first()
        if other is not None and not can(session, actor, Action.CONFIGURE_BOT, other.id):
            errors[f"bindings.{i}.account_id"] = (
                f"You may not change {other.name}, so you cannot take its messages."
            )
    return errors


class Routing(BotsBase):
    async def routing(self, actor: Principal | None, bot_id: int) -> RoutingView:
        """The bot's routing rules and groups, and the accounts its rules may listen on."""

        def read(session: Session) -> RoutingView:
            who = require(session, actor, Action.VIEW_BOT, bot_id)
            bot = _bot(session, bot_id)
            inp = stored_input(session, bot)
            groups = [
                channel_groups(
                    ChannelType(c.type),
                    c.group_policy,
                    c.mention_policy,
                    list(c.group_allow_from),
                    c.group_mentions,
                )
                for c in inp.channels
            ]
            return RoutingView(
                rules=inp.bindings,
                where=_where_choices(session, who, bot, inp.bindings),
                groups=groups,
                can_configure=can(session, who, Action.CONFIGURE_BOT, bot_id),
                incoming=_incoming(session, who, bot),
            )

        return await self._db(read)

    async def describe_rules(
        self, actor: Principal | None, bot_id: int, rules: list[BindingInput]
    ) -> list[RuleRow]:
        """`rules` (not saved) in OpenClaw's order, each with what is wrong with it."""

        def read(session: Session) -> list[RuleRow]:
            who = require(session, actor, Action.VIEW_BOT, bot_id)
            bot = _bot(session, bot_id)
            stored = stored_input(session, bot)
            errors = self._rule_errors(session, who, bot, rules, stored)
            choices = _where_choices(session, who, bot, rules)
            return rule_rows(rules, choices, errors, _notes(session, bot, rules))

        return await self._db(read)

    def _rule_errors(
        self, session: Session, who: Principal, bot: Bot, rules: list[BindingInput], stored: BotInput
    ) -> dict[str, str]:
        inp = replace(stored, bindings=rules)
        errors = validate_bot_input(session, self.settings, inp, owner_id=bot.owner_id, bot_id=bot.id)
        found = {k: v for k, v in errors.items() if k.startswith("bindings.")}
        found.update(_permission_problems(session, who, bot, rules, stored.bindings))
        return found

    async def save_rules(self, actor: Principal | None, bot_id: int, rules: list[BindingInput]) -> str:
        """Replace the bot's routing rules, once OpenClaw accepts them (raises UserError)."""
        if len(rules) > MAX_RULES:
            raise UserError(f"At most {MAX_RULES} rules per bot.")
        rules = [replace(r, roles=list(r.roles)) for r in rules]

        def check(session: Session) -> Candidate:
            who = require(session, actor, Action.CONFIGURE_BOT, bot_id)
            bot = _bot(session, bot_id)
            stored = stored_input(session, bot)
            errors = self._rule_errors(session, who, bot, rules, stored)
            if errors:
                raise UserError(field_errors=errors)
            return candidate(
                session,
                self.settings,
                _with_credentials(session, bot, replace(stored, bindings=rules)),
                bot_id,
            )

        result, rule_errors = await check_with_openclaw(self.settings, await self._db(check))
        if not result.valid:
            raise UserError(f"OpenClaw would refuse these rules: {result.describe()}", rule_errors)

        def save(session: Session) -> None:
            who = require(session, actor, Action.CONFIGURE_BOT, bot_id)
            bot = _bot(session, bot_id)
            before = stored_input(session, bot).bindings
            replace_bindings(session, bot, rules)
            bot.config_version += 1
            session.add(bot)
            audit.record(
                session, who, "bot.routing", "bot", bot.id, f"changed the routing rules of {bot.name}",
                before={"rules": [_audit_rule(r) for r in before]}, after={"rules": [_audit_rule(r) for r in rules]},
            )  # fmt: skip

        await self._db(save)
        self._changed(bot_id)
        return "OpenClaw accepts these rules. Saved: the gateway applies them in a moment."

    async def save_groups(
        self,
        actor: Principal | None,
        bot_id: int,
        channel: str,
        *,
        policy: str,
        mention: str,
        groups: list[GroupRow],
    ) -> str:
        """Change one channel's group policy, its listed groups and their mention settings, once
        OpenClaw accepts them (raises UserError with `channels.<type>.<field>` errors)."""
        if len(groups) > MAX_GROUPS:
            raise UserError(f"At most {MAX_GROUPS} groups per channel.")

        def check(session: Session) -> Candidate:
            require(session, actor, Action.CONFIGURE_BOT, bot_id)
            bot = _bot(session, bot_id)
            stored = stored_input(session, bot)
            inp = _with_groups(stored, channel, policy, mention, groups)
            errors = validate_bot_input(
                session,
                self.settings,
                _with_credentials(session, bot, inp),
                owner_id=bot.owner_id,
                bot_id=bot.id,
            )
            errors = {
                k: v
                for k, v in errors.items()
                if k.startswith(f"channels.{channel}.group") or k == f"channels.{channel}.mention_policy"
            }
            if errors:
                raise UserError(field_errors=errors)
            return candidate(session, self.settings, _with_credentials(session, bot, inp), bot_id)

        result, _ = await check_with_openclaw(self.settings, await self._db(check))
        if not result.valid:
            raise UserError(f"OpenClaw would refuse these group settings: {result.describe()}")

        def save(session: Session) -> None:
            who = require(session, actor, Action.CONFIGURE_BOT, bot_id)
            bot = _bot(session, bot_id)
            stored = stored_input(session, bot)
            before = next((c for c in stored.channels if c.type == channel), None)
            inp = _with_groups(stored, channel, policy, mention, groups)
            replace_channels(session, bot, inp.channels)
            bot.config_version += 1
            session.add(bot)
            audit.record(
                session, who, "bot.groups", "bot", bot.id, f"changed the {channel_name(channel)} groups of {bot.name}",
                before=_audit_groups(before), after={"policy": policy, "mention": mention, "groups": [(g.id, g.mention) for g in groups]},
            )  # fmt: skip

        await self._db(save)
        self._changed(bot_id)
        return "OpenClaw accepts these group settings. Saved."


def _with_groups(
    stored: BotInput, channel: str, policy: str, mention: str, groups: list[GroupRow]
) -> BotInput:
    if channel not in {c.type for c in stored.channels}:
        raise NotFound(f"The bot has no {channel_name(channel)} channel.")
    ids = [g.id.strip() for g in groups if g.id.strip()]
    channels = [
        replace(
            c,
            group_policy=policy,
            mention_policy=mention,
            group_allow_from=ids,
            group_mentions={g.id.strip(): g.mention for g in groups if g.id.strip()},
        )
        if c.type == channel
        else c
        for c in stored.channels
    ]
    return replace(stored, channels=channels)


def _audit_rule(rule: BindingInput) -> dict[str, object]:
    return {
        "channel": rule.channel,
        "account": rule.account_id or "(own)",
        "peer": f"{rule.peer_kind}:{rule.peer_id}" if rule.peer_kind else "",
        "guild": rule.guild_id,
        "roles": list(rule.roles),
        "team": rule.team_id,
    }


def _audit_groups(channel: ChannelInput | None) -> dict[str, object]:
    if channel is None:
        return {}
    return {
        "policy": channel.group_policy,
        "mention": channel.mention_policy,
        "groups": list(channel.group_allow_from),
    }
