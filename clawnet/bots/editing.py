"""What the setup wizard needs from the bots domain: the form (new, from a draft, or from a saved
bot), checks of each step, the real `openclaw config validate` before launch, drafts, the channels'
credential tests and avatar uploads. Secrets typed into the wizard stay server-side: they come in as
`creds` ("<channel>.<field>" -> value) and never go back out."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlmodel import Session

from clawnet import media
from clawnet.bots import drafts
from clawnet.bots.base import BotsBase
from clawnet.bots.checks import CheckResult, test_discord_token, test_slack_tokens, test_telegram_token
from clawnet.bots.config_check import Candidate, candidate, check_with_openclaw
from clawnet.bots.forms import BotForm, BotInput, apply_form_changes, form_of
from clawnet.bots.placement import placement_choices
from clawnet.bots.providers import model_choices
from clawnet.bots.signal_check import test_signal
from clawnet.bots.store import stored_credentials, stored_input
from clawnet.bots.validation import available_agent_id, risky_tool_warnings, validate_bot_input
from clawnet.bots.views import ConfigCheck, DraftRow, FormCheck, ModelChoice, PlacementChoice
from clawnet.enums import ChannelType
from clawnet.errors import NotFound
from clawnet.models import Bot
from clawnet.security.permissions import Action, Principal, require

AVATAR_MAX_BYTES = 2 * 2**20
# Credential fields that are settings, not secrets: a form may show their stored values.
PLAIN_CREDENTIALS = frozenset({"signal.transport", "signal.url"})


class Editing(BotsBase):
    async def model_choices(self, actor: Principal | None) -> list[ModelChoice]:
        def read(session: Session) -> list[ModelChoice]:
            require(session, actor, Action.VIEW_FLEET)
            return model_choices(session)

        return await self._db(read)

    async def placement_choices(self, actor: Principal | None) -> list[PlacementChoice]:
        """Where a bot can run: this machine (shared or its own gateway) or a remote gateway."""

        def read(session: Session) -> list[PlacementChoice]:
            require(session, actor, Action.VIEW_FLEET)
            return placement_choices(session)

        return await self._db(read)

    async def new_form(self, actor: Principal | None) -> BotForm:
        """An empty form with the first model picked (the local echo model on a new install)."""
        choices = await self.model_choices(actor)
        await self._db(lambda s: require(s, actor, Action.CREATE_BOT))
        return BotForm(model=choices[0].value if choices else "")

    async def edit_form(self, actor: Principal | None, bot_id: int) -> tuple[BotForm, list[str]]:
        """The saved bot as a form, and which credentials are stored ("<channel>.<field>"; the
        values stay on the server)."""

        def read(session: Session) -> tuple[BotForm, list[str]]:
            require(session, actor, Action.CONFIGURE_BOT, bot_id)
            bot = session.get(Bot, bot_id)
            if bot is None:
                raise NotFound("No such bot.")
            return form_of(stored_input(session, bot)), sorted(stored_credentials(session, bot_id))

        return await self._db(read)

    async def plain_settings(self, actor: Principal | None, bot_id: int) -> dict[str, str]:
        """The channel settings stored beside the credentials that are no secret (how Signal's
        gateway reaches signal-cli), so a form can show them."""

        def read(session: Session) -> dict[str, str]:
            require(session, actor, Action.CONFIGURE_BOT, bot_id)
            stored = stored_credentials(session, bot_id)
            return {k: v for k, v in stored.items() if k in PLAIN_CREDENTIALS}

        return await self._db(read)

    async def suggest_agent_id(self, actor: Principal | None, name: str) -> str:
        def suggest(session: Session) -> str:
            require(session, actor, Action.CREATE_BOT)
            return available_agent_id(session, self.settings, name)

        return await self._db(suggest)

    def _input(self, session: Session, form: BotForm, creds: dict[str, str], bot_id: int | None) -> BotInput:
        """The bot the form describes, with stored credentials filling fields left empty."""
        stored = stored_credentials(session, bot_id) if bot_id else {}
        return form.to_input({**stored, **{k: v for k, v in creds.items() if v}})

    async def check_form(
        self, actor: Principal | None, form: BotForm, creds: dict[str, str], *, bot_id: int | None = None
    ) -> FormCheck:
        """Every problem with the form, by field, and warnings about risky tool settings."""

        def check(session: Session) -> FormCheck:
            who = require(session, actor, Action.CONFIGURE_BOT if bot_id else Action.CREATE_BOT, bot_id)
            inp = self._input(session, form, creds, bot_id)
            owner = who.user_id
            if bot_id:
                bot = session.get(Bot, bot_id)
                if bot is None:
                    raise NotFound("No such bot.")
                owner, inp.agent_id = bot.owner_id, bot.agent_id
            errors = validate_bot_input(session, self.settings, inp, owner_id=owner, bot_id=bot_id)
            return FormCheck(errors, risky_tool_warnings(inp))

        return await self._db(check)

    @staticmethod
    def tool_warnings(form: BotForm) -> list[str]:
        return risky_tool_warnings(form.to_input({}))

    async def check_config(
        self, actor: Principal | None, form: BotForm, creds: dict[str, str], *, bot_id: int | None = None
    ) -> ConfigCheck:
        """Ask the real `openclaw config validate` whether it accepts the bot's configuration."""
        checked = await self.check_form(actor, form, creds, bot_id=bot_id)
        if checked.errors:
            return ConfigCheck(False, f"{len(checked.errors)} setting(s) need attention (marked below).")

        def build(session: Session) -> Candidate:
            bot = session.get(Bot, bot_id) if bot_id else None
            if bot is None:
                return candidate(session, self.settings, self._input(session, form, creds, None), None)
            # An edit keeps what the form does not show (routing rules, a disabled channel...).
            stored = stored_input(session, bot)
            filled = {**stored_credentials(session, bot_id or 0), **{k: v for k, v in creds.items() if v}}
            inp = apply_form_changes(stored, form_of(stored), form, filled)
            return candidate(session, self.settings, inp, bot_id)

        result, _ = await check_with_openclaw(self.settings, await self._db(build))
        if result.valid:
            return ConfigCheck(True, "OpenClaw accepts this configuration.")
        return ConfigCheck(False, f"OpenClaw would refuse this configuration: {result.describe()}")

    async def test_channel(
        self, actor: Principal | None, channel: str, creds: dict[str, str], *, bot_id: int | None = None
    ) -> CheckResult:
        """Try one channel's credentials against its service: the ones typed (`creds`,
        "<channel>.<field>"), or for a bot being edited the stored ones where nothing was typed."""

        def stored(session: Session) -> dict[str, str]:
            require(session, actor, Action.CONFIGURE_BOT if bot_id else Action.CREATE_BOT, bot_id)
            return stored_credentials(session, bot_id) if bot_id else {}

        known = await self._db(stored)  # also the permission check, before any request
        prefix = f"{channel}."
        value = {
            k.removeprefix(prefix): v
            for k, v in {**known, **{k: v for k, v in creds.items() if v}}.items()
            if k.startswith(prefix)
        }
        if channel == ChannelType.TELEGRAM:
            return await test_telegram_token(self.settings, value.get("botToken", ""))
        if channel == ChannelType.DISCORD:
            return await test_discord_token(
                self.settings, value.get("token", ""), value.get("applicationId", "")
            )
        if channel == ChannelType.SLACK:
            return await test_slack_tokens(
                self.settings, value.get("botToken", ""), value.get("appToken", "")
            )
        if channel == ChannelType.SIGNAL:
            return await test_signal(
                self.settings, value.get("transport", ""), value.get("url", ""), value.get("account", "")
            )
        return CheckResult(False, "There is nothing to test for this channel before the bot runs.")

    async def drafts(self, actor: Principal | None) -> list[DraftRow]:
        return await self._db(lambda s: drafts.list_drafts(s, actor))

    async def load_draft(
        self, actor: Principal | None, draft_id: int
    ) -> tuple[BotForm, dict[str, str], int] | None:
        loaded = await self._db(lambda s: drafts.load_draft(s, actor, draft_id))
        if loaded is None:
            return None
        data, step = loaded
        stored_form = data.get("form")
        form_data: dict[str, Any] = stored_form if isinstance(stored_form, dict) else data
        creds = {str(k): str(v) for k, v in (data.get("creds") or {}).items()}
        return BotForm.from_data(form_data), creds, step

    async def save_draft(
        self,
        actor: Principal | None,
        form: BotForm,
        creds: dict[str, str],
        *,
        step: int,
        draft_id: int | None,
    ) -> int:
        data = {"form": form.to_data(), "creds": dict(creds), "name": form.name}
        return await self._db(lambda s: drafts.save_draft(s, actor, data, step=step, draft_id=draft_id))

    async def delete_draft(self, actor: Principal | None, draft_id: int) -> None:
        await self._db(lambda s: drafts.delete_draft(s, actor, draft_id))

    async def save_avatar(self, actor: Principal | None, data: bytes) -> str:
        """Store an uploaded bot avatar (checked by its content); returns its media path."""
        await self._db(lambda s: require(s, actor, Action.CREATE_BOT))  # only who can make or edit bots
        relative, _mime, _size = await asyncio.to_thread(
            media.save_image, self.settings, data, "avatars", max_bytes=AVATAR_MAX_BYTES
        )
        return relative
