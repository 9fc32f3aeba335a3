"""The bot setup wizard: basics, channels, access control, advanced, review & launch.

Also the way to edit a bot (`/bots/new?edit=<id>`): the same steps, filled in, applied hot.
Everything typed lives on the server; channel secrets in a backend-only var, so a token typed
here is never sent back to the browser. Each step is checked when leaving it; the review step
also asks the real OpenClaw whether it accepts the resulting config.
"""

from __future__ import annotations

import time
from typing import Any

import reflex as rx
from sqlmodel import select

from clawnet.bots import drafts
from clawnet.bots.checks import discord_invite_url, test_telegram_token
from clawnet.bots.providers import model_choices
from clawnet.bots.service import BotInputError, NotFound
from clawnet.bots.validation import (
    BotInput,
    ChannelInput,
    _allow_entry_problem,
    available_agent_id,
    risky_tool_warnings,
    validate_bot_input,
)
from clawnet.controlplane import openclaw_config as oc
from clawnet.controlplane.openclaw_cli import validate_config
from clawnet.controlplane.reconciler import preview_config
from clawnet.db import session_scope
from clawnet.enums import ChannelType
from clawnet.events import FleetEvent, Kind
from clawnet.models import Bot, BotChannel
from clawnet.security.permissions import Action, PermissionDenied, can, require
from clawnet.security.secret_fields import CHANNEL_CREDENTIALS, unseal_json
from clawnet.settings import get_settings
from clawnet.ui import live, media, routes, runtime
from clawnet.ui.components.forms import field_error, native_select
from clawnet.ui.components.layout import page_frame
from clawnet.ui.session import SessionState, current_principal

STEPS = ["Basics", "Channels", "Access", "Advanced", "Review"]
CHANNEL_INFO = {
    "telegram": ("Telegram", "A bot made with @BotFather."),
    "discord": ("Discord", "A bot application from the Discord Developer Portal."),
    "slack": ("Slack", "A Slack app with Socket Mode."),
    "whatsapp": ("WhatsApp", "Pair a phone by scanning a QR code once the bot runs."),
    "signal": ("Signal", "A phone number registered with signal-cli."),
}
CRED_LABELS = {
    "telegram.botToken": ("Bot token", "From @BotFather: /newbot, then copy the token."),
    "discord.token": ("Bot token", "Developer Portal → your app → Bot → Reset Token."),
    "discord.applicationId": ("Application id", "Developer Portal → General Information."),
    "slack.botToken": ("Bot token (xoxb-…)", "OAuth & Permissions → Bot User OAuth Token."),
    "slack.appToken": (
        "App-level token (xapp-…)",
        "Basic Information → App-Level Tokens (connections:write).",
    ),
    "slack.signingSecret": ("Signing secret (optional)", "Basic Information → App Credentials."),
    "signal.account": ("Signal number", "International format, like +15555550123."),
}
PERSONA_EXAMPLES = {
    "Support": "You are a patient support assistant for our product. Answer from what you know, ask one "
    "clarifying question when a request is unclear, and say so when you cannot help.",
    "Concierge": "You are a warm concierge for our community. Greet newcomers, point them to the right "
    "channels, and keep answers short and friendly.",
    "Tutor": "You are a tutor who explains ideas step by step with small examples, then checks "
    "understanding with one question.",
}
DM_POLICIES = [
    ("pairing", "Pairing: strangers get a code you approve"),
    ("allowlist", "Allowlist: only people listed below"),
    ("open", "Open: anyone can message the bot"),
    ("disabled", "Disabled: no direct messages"),
]
GROUP_POLICIES = [
    ("disabled", "Not in groups"),
    ("allowlist", "Only listed groups"),
    ("open", "Any group it is added to"),
]
MENTIONS = [("mention", "Only when mentioned"), ("always", "Every message")]
SESSION_SCOPES = [("per-sender", "Per person (recommended)"), ("global", "One shared conversation")]
DM_SCOPES = [
    ("per-channel-peer", "Per person and channel"),
    ("per-peer", "Per person across channels"),
    ("per-account-channel-peer", "Per account, channel and person"),
    ("main", "One conversation for all DMs"),
]
RESET_MODES = [("idle", "After idle time"), ("daily", "Daily at an hour"), ("none", "Never")]
TOOL_PROFILES = [
    ("minimal", "Minimal: answers only"),
    ("messaging", "Messaging (recommended)"),
    ("coding", "Coding: runs commands, writes files"),
    ("full", "Full: every tool"),
]
PLACEMENTS = [("pooled", "Shared gateway (efficient)"), ("dedicated", "Own gateway (isolated, ~1 GB)")]
EXTRA_TOOLS = ["web_search", "web_fetch", "exec", "write", "browser"]

STEP_FIELDS = {
    1: ("name", "agent_id", "provider_id", "model_id", "persona", "emoji"),
    2: ("botToken", "token", "applicationId", "appToken", "signingSecret", "account"),
    3: ("dm_policy", "allow_from", "group_policy", "group_allow_from", "mention_policy"),
    4: (
        "session_scope",
        "dm_scope",
        "reset_mode",
        "reset_at_hour",
        "reset_idle_minutes",
        "tools_profile",
        "tools_allow",
        "tools_deny",
        "placement",
    ),
}


def _step_of(field: str) -> int:
    last = field.split(".")[-1]
    if field.startswith("channels.") and field.count(".") == 1:
        return 2
    for step, names in STEP_FIELDS.items():
        if last in names or field in names:
            return step
    return 5


class WizardState(rx.State):
    step: int = 1
    edit_bot_id: int = 0
    draft_id: int = 0
    drafts: list[dict[str, str]] = []
    # Basics
    name: str = ""
    agent_id: str = ""
    agent_id_touched: bool = False
    persona: str = ""
    emoji: str = "🤖"
    avatar_path: str = ""
    model: str = ""
    models: list[dict[str, str]] = []
    # Channels
    channels: list[str] = []
    creds_set: dict[str, bool] = {}
    _creds: dict[str, str] = {}
    telegram_check: str = ""
    telegram_check_ok: bool = False
    # Access
    dm_policy: dict[str, str] = {}
    allow: dict[str, list[str]] = {}
    group_policy: dict[str, str] = {}
    group_allow: dict[str, list[str]] = {}
    mention: dict[str, str] = {}
    chip_errors: dict[str, str] = {}
    # Advanced
    session_scope: str = "per-sender"
    dm_scope: str = "per-channel-peer"
    reset_mode: str = "idle"
    reset_at_hour: str = "4"
    reset_idle_minutes: str = "120"
    tools_profile: str = "messaging"
    tools_allow: list[str] = []
    placement: str = "pooled"
    # Checks and launch
    errors: dict[str, str] = {}
    warnings: list[str] = []
    config_check: str = ""
    config_ok: bool = False
    checking: bool = False
    launched_bot_id: int = 0
    progress: list[str] = []
    launch_status: str = ""
    launch_error: str = ""
    _watch_gen: int = 0

    # --- loading ---------------------------------------------------------------------------

    def _reset_form(self) -> None:
        for name, value in {
            "step": 1,
            "edit_bot_id": 0,
            "draft_id": 0,
            "name": "",
            "agent_id": "",
            "agent_id_touched": False,
            "persona": "",
            "emoji": "🤖",
            "avatar_path": "",
            "model": "",
            "channels": [],
            "creds_set": {},
            "telegram_check": "",
            "telegram_check_ok": False,
            "dm_policy": {},
            "allow": {},
            "group_policy": {},
            "group_allow": {},
            "mention": {},
            "chip_errors": {},
            "session_scope": "per-sender",
            "dm_scope": "per-channel-peer",
            "reset_mode": "idle",
            "reset_at_hour": "4",
            "reset_idle_minutes": "120",
            "tools_profile": "messaging",
            "tools_allow": [],
            "placement": "pooled",
            "errors": {},
            "warnings": [],
            "config_check": "",
            "config_ok": False,
            "checking": False,
            "launched_bot_id": 0,
            "progress": [],
            "launch_status": "",
            "launch_error": "",
        }.items():
            setattr(self, name, value)
        self._creds = {}

    @rx.event
    async def on_load(self):
        principal = await current_principal(self)
        if principal is None:
            return None
        params = self.router.url.query_parameters
        self._reset_form()
        with session_scope() as session:
            self.models = model_choices(session)
            if params.get("edit", "").isdigit():
                bot_id = int(params["edit"])
                try:
                    require(session, principal, Action.CONFIGURE_BOT, bot_id)
                except PermissionDenied as exc:
                    return rx.toast.error(str(exc))
                bot = session.get(Bot, bot_id)
                if bot is None:
                    return rx.redirect(routes.BOTS)
                self._load_bot(session, bot)
                return None
            if not can(session, principal, Action.CREATE_BOT):
                return rx.redirect(routes.DASHBOARD, replace=True)
            self.drafts = drafts.list_drafts(session, principal)
            if params.get("draft", "").isdigit():
                loaded = drafts.load_draft(session, principal, int(params["draft"]))
                if loaded is not None:
                    self._apply_data(loaded[0])
                    self.step = min(max(loaded[1], 1), 5)
                    self.draft_id = int(params["draft"])
        if not self.model and self.models:
            self.model = self.models[0]["value"]
        return None

    def _load_bot(self, session: Any, bot: Bot) -> None:
        self.edit_bot_id = bot.id or 0
        self.name, self.agent_id, self.agent_id_touched = bot.name, bot.agent_id, True
        self.persona, self.emoji, self.avatar_path = bot.persona, bot.emoji, bot.avatar_path
        self.model = f"{bot.provider_id}|{bot.model_id}" if bot.provider_id else ""
        self.session_scope, self.dm_scope, self.reset_mode = bot.session_scope, bot.dm_scope, bot.reset_mode
        self.reset_at_hour, self.reset_idle_minutes = str(bot.reset_at_hour), str(bot.reset_idle_minutes)
        self.tools_profile, self.tools_allow, self.placement = (
            bot.tools_profile,
            list(bot.tools_allow),
            bot.placement,
        )
        rows = session.exec(select(BotChannel).where(BotChannel.bot_id == bot.id)).all()
        self.channels = [c.type for c in rows]
        for c in rows:
            self.dm_policy[c.type], self.group_policy[c.type], self.mention[c.type] = (
                c.dm_policy,
                c.group_policy,
                c.mention_policy,
            )
            self.allow[c.type], self.group_allow[c.type] = list(c.allow_from), list(c.group_allow_from)
            for key in unseal_json(CHANNEL_CREDENTIALS, c.credentials_enc):
                self.creds_set[f"{c.type}.{key}"] = True  # stored; the value stays on the server

    def _data(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "agent_id": self.agent_id,
            "agent_id_touched": self.agent_id_touched,
            "persona": self.persona,
            "emoji": self.emoji,
            "avatar_path": self.avatar_path,
            "model": self.model,
            "channels": list(self.channels),
            "creds": dict(self._creds),
            "dm_policy": dict(self.dm_policy),
            "allow": {k: list(v) for k, v in self.allow.items()},
            "group_policy": dict(self.group_policy),
            "group_allow": {k: list(v) for k, v in self.group_allow.items()},
            "mention": dict(self.mention),
            "session_scope": self.session_scope,
            "dm_scope": self.dm_scope,
            "reset_mode": self.reset_mode,
            "reset_at_hour": self.reset_at_hour,
            "reset_idle_minutes": self.reset_idle_minutes,
            "tools_profile": self.tools_profile,
            "tools_allow": list(self.tools_allow),
            "placement": self.placement,
        }

    def _apply_data(self, data: dict[str, Any]) -> None:
        for key in (
            "name",
            "agent_id",
            "agent_id_touched",
            "persona",
            "emoji",
            "avatar_path",
            "model",
            "channels",
            "dm_policy",
            "allow",
            "group_policy",
            "group_allow",
            "mention",
            "session_scope",
            "dm_scope",
            "reset_mode",
            "reset_at_hour",
            "reset_idle_minutes",
            "tools_profile",
            "tools_allow",
            "placement",
        ):
            if key in data:
                setattr(self, key, data[key])
        self._creds = dict(data.get("creds") or {})
        self.creds_set = {k: bool(v) for k, v in self._creds.items()}

    # --- building and checking -----------------------------------------------------------

    def _bot_input(self, *, with_stored_secrets: bool) -> BotInput:
        provider, _, model_id = self.model.partition("|")
        stored: dict[str, dict[str, str]] = {}
        if with_stored_secrets and self.edit_bot_id:
            with session_scope() as session:
                for c in session.exec(select(BotChannel).where(BotChannel.bot_id == self.edit_bot_id)).all():
                    stored[c.type] = unseal_json(CHANNEL_CREDENTIALS, c.credentials_enc)
        channels = []
        for ctype in self.channels:
            fields = oc.CHANNEL_CREDENTIAL_FIELDS[ChannelType(ctype)]
            creds = {
                f: self._creds.get(f"{ctype}.{f}", "") or stored.get(ctype, {}).get(f, "") for f in fields
            }
            channels.append(
                ChannelInput(
                    type=ctype,
                    credentials=creds,
                    dm_policy=self.dm_policy.get(ctype, "pairing"),
                    allow_from=list(self.allow.get(ctype, [])),
                    group_policy=self.group_policy.get(ctype, "disabled"),
                    group_allow_from=list(self.group_allow.get(ctype, [])),
                    mention_policy=self.mention.get(ctype, "mention"),
                )
            )
        return BotInput(
            name=self.name,
            provider_id=int(provider) if provider.isdigit() else None,
            model_id=model_id,
            agent_id=self.agent_id,
            persona=self.persona,
            emoji=self.emoji,
            avatar_path=self.avatar_path,
            placement=self.placement,
            session_scope=self.session_scope,
            dm_scope=self.dm_scope,
            reset_mode=self.reset_mode,
            reset_at_hour=int(self.reset_at_hour) if self.reset_at_hour.lstrip("-").isdigit() else -1,
            reset_idle_minutes=int(self.reset_idle_minutes) if self.reset_idle_minutes.isdigit() else 0,
            tools_profile=self.tools_profile,
            tools_allow=list(self.tools_allow),
            channels=channels,
        )

    async def _check(self, principal: Any) -> dict[str, str]:
        inp = self._bot_input(with_stored_secrets=True)
        with session_scope() as session:
            owner = principal.user_id
            if self.edit_bot_id:
                bot = session.get(Bot, self.edit_bot_id)
                owner = bot.owner_id if bot else owner
            errors = validate_bot_input(
                session, get_settings(), inp, owner_id=owner, bot_id=self.edit_bot_id or None
            )
        self.warnings = risky_tool_warnings(inp)
        return errors

    # --- navigation ------------------------------------------------------------------------

    @rx.event
    async def go(self, target: int):
        principal = await current_principal(self)
        if principal is None:
            return None
        target = min(max(int(target), 1), 5)
        if target > self.step:
            errors = await self._check(principal)
            blocking = {k: v for k, v in errors.items() if _step_of(k) <= self.step}
            self.errors = errors if target == 5 else blocking
            if blocking:
                return rx.toast.error("Please fix the fields marked in red.")
        else:
            self.errors = {}
        self.step = target
        if not self.edit_bot_id:
            self._save_draft(principal)
        if target == 5:
            return WizardState.check_config
        return None

    def _save_draft(self, principal: Any) -> None:
        try:
            with session_scope() as session:
                self.draft_id = drafts.save_draft(
                    session, principal, self._data(), step=self.step, draft_id=self.draft_id or None
                )
        except PermissionDenied:
            pass

    @rx.event
    async def save_draft(self):
        principal = await current_principal(self)
        if principal is None or self.edit_bot_id:
            return None
        self._save_draft(principal)
        return rx.toast.success("Draft saved. Find it under Bots → New bot.")

    @rx.event
    async def discard_draft(self, draft_id: str):
        principal = await current_principal(self)
        with session_scope() as session:
            drafts.delete_draft(session, principal, int(draft_id))
            self.drafts = drafts.list_drafts(session, principal)

    # --- field handlers --------------------------------------------------------------------

    @rx.event
    def set_name(self, value: str) -> None:
        self.name = value.strip()[:80]
        if not self.agent_id_touched and not self.edit_bot_id and self.name:
            with session_scope() as session:
                self.agent_id = available_agent_id(session, get_settings(), self.name)

    @rx.event
    def set_agent_id(self, value: str) -> None:
        if self.edit_bot_id:
            return
        self.agent_id = value.strip().lower()[:64]
        self.agent_id_touched = True

    @rx.event
    def set_field(self, field: str, value: str) -> None:
        """Plain text and choice fields (whitelisted: a client cannot set anything else)."""
        allowed = {
            "persona": 20000,
            "emoji": 16,
            "model": 300,
            "session_scope": 40,
            "dm_scope": 40,
            "reset_mode": 16,
            "reset_at_hour": 4,
            "reset_idle_minutes": 6,
            "tools_profile": 16,
            "placement": 16,
        }
        if field in allowed:
            setattr(self, field, str(value)[: allowed[field]])
            if field == "tools_profile":
                self.warnings = risky_tool_warnings(self._bot_input(with_stored_secrets=False))

    @rx.event
    def use_example(self, name: str) -> None:
        self.persona = PERSONA_EXAMPLES.get(name, self.persona)

    @rx.event
    def toggle_channel(self, ctype: str, checked: bool) -> None:
        if ctype not in CHANNEL_INFO:
            return
        chosen = [c for c in self.channels if c != ctype]
        if checked:
            chosen.append(ctype)
            self.dm_policy.setdefault(ctype, "pairing")
            self.group_policy.setdefault(ctype, "disabled")
            self.mention.setdefault(ctype, "mention")
        self.channels = [c for c in CHANNEL_INFO if c in chosen]

    @rx.event
    def set_credential(self, key: str, value: str) -> None:
        if key in CRED_LABELS and value.strip():
            self._creds[key] = value.strip()[:500]
            self.creds_set[key] = True
            if key == "telegram.botToken":
                self.telegram_check = ""

    @rx.event
    async def test_telegram(self):
        token = self._creds.get("telegram.botToken", "")
        if not token and self.edit_bot_id:
            token = (
                self._bot_input(with_stored_secrets=True)
                .channels[self.channels.index("telegram")]
                .credentials["botToken"]
            )
        result = await test_telegram_token(get_settings(), token)
        self.telegram_check, self.telegram_check_ok = result.message, result.ok

    @rx.event
    def set_policy(self, kind: str, ctype: str, value: str) -> None:
        target = {"dm": self.dm_policy, "group": self.group_policy, "mention": self.mention}.get(kind)
        if target is not None and ctype in CHANNEL_INFO:
            target[ctype] = value[:16]
            self.warnings = risky_tool_warnings(self._bot_input(with_stored_secrets=False))

    @rx.event
    def add_chip(self, list_name: str, ctype: str, form: dict[str, Any]) -> None:
        value = str(form.get("entry", "")).strip()
        key = f"{list_name}.{ctype}"
        if not value or ctype not in CHANNEL_INFO:
            return
        target = self.allow if list_name == "allow" else self.group_allow
        problem = (
            _allow_entry_problem(ChannelType(ctype), value)
            if list_name == "allow"
            else (
                None
                if value.lstrip("-").isdigit() or value.startswith(("+", "@"))
                else f"'{value}' is not a group id."
            )
        )
        if problem:
            self.chip_errors[key] = problem
            return
        self.chip_errors[key] = ""
        current = list(target.get(ctype, []))
        if value not in current:
            current.append(value)
        target[ctype] = current

    @rx.event
    def remove_chip(self, list_name: str, ctype: str, value: str) -> None:
        target = self.allow if list_name == "allow" else self.group_allow
        target[ctype] = [v for v in target.get(ctype, []) if v != value]

    @rx.event
    def toggle_tool(self, tool: str, checked: bool) -> None:
        if tool in EXTRA_TOOLS:
            tools = [t for t in self.tools_allow if t != tool]
            self.tools_allow = [*tools, tool] if checked else tools
            self.warnings = risky_tool_warnings(self._bot_input(with_stored_secrets=False))

    @rx.event
    async def upload_avatar(self, files: list[rx.UploadFile]):
        principal = await current_principal(self)
        if principal is None or not files:
            return None
        data = await files[0].read()
        try:
            relative, _mime, _size = media.save_image(get_settings(), data, "avatars", max_bytes=2 * 2**20)
        except media.MediaError as exc:
            self.errors = {**self.errors, "avatar": str(exc)}
            return None
        self.avatar_path = relative
        self.errors = {k: v for k, v in self.errors.items() if k != "avatar"}
        return None

    # --- review and launch -----------------------------------------------------------------

    @rx.event(background=True)
    async def check_config(self):
        """Ask the real `openclaw config validate` about this bot's configuration."""
        async with self:
            self.checking = True
            self.config_check = ""
            principal = await current_principal(self)
            errors = await self._check(principal)
            self.errors = errors
            inp = self._bot_input(with_stored_secrets=True)
        if errors:
            async with self:
                self.checking, self.config_ok = False, False
                self.config_check = f"{len(errors)} setting(s) need attention (marked below)."
            return
        with session_scope() as session:
            config = preview_config(session, get_settings(), inp)
        result = await validate_config(get_settings(), config)
        async with self:
            self.checking = False
            self.config_ok = result.valid
            self.config_check = (
                "OpenClaw accepts this configuration."
                if result.valid
                else f"OpenClaw would refuse this configuration: {result.describe()}"
            )

    @rx.event
    async def launch(self):
        principal = await current_principal(self)
        inp = self._bot_input(with_stored_secrets=False)
        service = runtime.service()
        try:
            if self.edit_bot_id:
                service.update_bot(principal, self.edit_bot_id, inp)
                bot_id = self.edit_bot_id
            else:
                bot_id = service.create_bot(principal, inp)
        except BotInputError as exc:
            self.errors = exc.errors
            first = min((_step_of(k) for k in exc.errors), default=5)
            self.step = first
            return rx.toast.error("Please fix the fields marked in red.")
        except (PermissionDenied, NotFound) as exc:
            return rx.toast.error(str(exc))
        if self.draft_id:
            with session_scope() as session:
                drafts.delete_draft(session, principal, self.draft_id)
            self.draft_id = 0
        self.launched_bot_id = bot_id
        self.step = 6
        self.progress = ["Saved." if self.edit_bot_id else "Bot created."]
        self.launch_status, self.launch_error = "starting", ""
        return WizardState.follow_launch

    @rx.event(background=True)
    async def follow_launch(self):
        async with self:
            self._watch_gen += 1
            bot_id = self.launched_bot_id
        started = time.monotonic()

        def apply(batch: list[FleetEvent]) -> None:
            for event in batch:
                if event.kind == Kind.BOT_STATUS and event.bot_id == bot_id:
                    status = event.payload["status"]
                    self.launch_status = status
                    if status == "running":
                        self.progress = [
                            *self.progress,
                            f"Running after {time.monotonic() - started:.0f} s. Say hello!",
                        ]
                    elif status == "error":
                        self.launch_error = event.payload.get("error", "")
                    elif status == "starting":
                        self.progress = [*self.progress, "Starting its gateway…"]
                elif event.kind == Kind.CONFIG_APPLIED:
                    self.progress = [
                        *self.progress,
                        f"Configuration applied ({event.payload.get('how', 'hot')}).",
                    ]

        await live.follow(
            self,
            kinds=[Kind.BOT_STATUS, Kind.CONFIG_APPLIED],
            where=lambda e: e.bot_id == bot_id or (e.kind == Kind.CONFIG_APPLIED),
            apply=apply,
            generation=lambda: self._watch_gen,
            on_page=lambda path: path == routes.NEW_BOT,
        )


# --- view ------------------------------------------------------------------------------------


def labelled(
    label: str, control: rx.Component, testid: str, hint: str = "", error_key: str = ""
) -> rx.Component:
    children: list[rx.Component] = [
        rx.el.label(label, html_for=testid, style={"fontWeight": "500", "fontSize": "var(--font-size-2)"}),
        control,
    ]
    if hint:
        children.append(rx.text(hint, size="1", color_scheme="gray"))
    if error_key:
        children.append(field_error(WizardState.errors.get(error_key, ""), testid))
    return rx.vstack(*children, spacing="1", width="100%", align="stretch")


def step_basics() -> rx.Component:
    return rx.vstack(
        labelled(
            "Name",
            rx.input(
                id="wizard-name",
                default_value=WizardState.name,
                on_blur=WizardState.set_name,
                data_testid="wizard-name",
                placeholder="Support Bot",
            ),
            "wizard-name",
            "Shown to people who talk to the bot.",
            "name",
        ),
        labelled(
            "Bot id",
            rx.input(
                id="wizard-agent-id",
                value=WizardState.agent_id,
                on_change=WizardState.set_agent_id,
                disabled=WizardState.edit_bot_id != 0,
                data_testid="wizard-agent-id",
            ),
            "wizard-agent-id",
            "Made from the name; lower-case letters, digits and dashes. It cannot change later.",
            "agent_id",
        ),
        labelled(
            "Model",
            native_select(
                "Model",
                WizardState.models,
                testid="wizard-model",
                value=WizardState.model,
                show_label=False,
                on_change=lambda v: WizardState.set_field("model", v),
            ),
            "wizard-model",
            "",
            "model_id",
        ),
        rx.foreach(
            WizardState.models,
            lambda m: rx.cond(
                m["value"] == WizardState.model, rx.text(m["description"], size="1", color_scheme="gray")
            ),
        ),
        field_error(WizardState.errors.get("provider_id", ""), "wizard-provider"),
        labelled(
            "Persona",
            rx.text_area(
                id="wizard-persona",
                default_value=WizardState.persona,
                rows="6",
                on_blur=lambda v: WizardState.set_field("persona", v),
                data_testid="wizard-persona",
                placeholder="Who is this bot, and how should it talk?",
            ),
            "wizard-persona",
            "",
            "persona",
        ),
        rx.hstack(
            rx.text("Examples:", size="1"),
            *[
                rx.button(
                    name,
                    size="1",
                    variant="soft",
                    on_click=WizardState.use_example(name),
                    data_testid=f"wizard-example-{name.lower()}",
                )
                for name in PERSONA_EXAMPLES
            ],
            spacing="2",
            align="center",
        ),
        rx.hstack(
            labelled(
                "Emoji",
                rx.input(
                    id="wizard-emoji",
                    default_value=WizardState.emoji,
                    max_length=16,
                    width="5em",
                    on_blur=lambda v: WizardState.set_field("emoji", v),
                    data_testid="wizard-emoji",
                ),
                "wizard-emoji",
                "",
                "emoji",
            ),
            rx.vstack(
                rx.text("Avatar", weight="medium", size="2"),
                rx.upload(
                    rx.button("Upload image", size="1", variant="soft", type="button"),
                    id="wizard-avatar",
                    accept={
                        "image/png": [".png"],
                        "image/jpeg": [".jpg", ".jpeg"],
                        "image/gif": [".gif"],
                        "image/webp": [".webp"],
                    },
                    max_files=1,
                    on_drop=WizardState.upload_avatar(rx.upload_files(upload_id="wizard-avatar")),
                    data_testid="wizard-avatar",
                    border="none",
                    padding="0",
                ),
                rx.cond(
                    WizardState.avatar_path != "",
                    rx.image(
                        src="/media/" + WizardState.avatar_path,
                        width="48px",
                        height="48px",
                        border_radius="50%",
                        alt="Avatar preview",
                        data_testid="wizard-avatar-preview",
                    ),
                ),
                field_error(WizardState.errors.get("avatar", ""), "wizard-avatar"),
                spacing="1",
            ),
            spacing="6",
            align="start",
        ),
        spacing="4",
        width="100%",
    )


def credential_input(key: str) -> rx.Component:
    label, hint = CRED_LABELS[key]
    testid = "wizard-cred-" + key.replace(".", "-").lower()
    return labelled(
        label,
        rx.input(
            id=testid,
            type="password",
            auto_complete="off",
            on_blur=lambda v: WizardState.set_credential(key, v),
            placeholder=rx.cond(WizardState.creds_set.get(key, False), "•••••• stored — type to replace", ""),
            data_testid=testid,
        ),
        testid,
        hint,
        "channels." + key,
    )


def channel_setup(ctype: str) -> rx.Component:
    title, _ = CHANNEL_INFO[ctype]
    keys = [k for k in CRED_LABELS if k.startswith(ctype + ".")]
    extra: list[rx.Component] = []
    if ctype == "telegram":
        extra.append(
            rx.hstack(
                rx.button(
                    "Test connection",
                    size="1",
                    variant="soft",
                    on_click=WizardState.test_telegram,
                    data_testid="wizard-telegram-test",
                ),
                rx.cond(
                    WizardState.telegram_check != "",
                    rx.text(
                        WizardState.telegram_check,
                        size="2",
                        color_scheme=rx.cond(WizardState.telegram_check_ok, "green", "red"),
                        role="status",
                        data_testid="wizard-telegram-check",
                    ),
                ),
                spacing="3",
                align="center",
            )
        )
    if ctype == "discord":
        extra.append(
            rx.text(
                "After saving, invite the bot to your server with the link on the bot's Channels tab.",
                size="1",
                color_scheme="gray",
            )
        )
    if ctype == "whatsapp":
        extra.append(
            rx.text(
                "No token needed: once the bot runs, open its Channels tab and scan the QR code with "
                "WhatsApp (Settings → Linked devices).",
                size="2",
            )
        )
    return rx.card(
        rx.vstack(
            rx.heading(title, size="3"),
            *[credential_input(k) for k in keys],
            *extra,
            field_error(WizardState.errors.get("channels." + ctype, ""), "wizard-channel-" + ctype),
            spacing="3",
            width="100%",
        ),
        width="100%",
        data_testid="wizard-channel-setup-" + ctype,
    )


def step_channels() -> rx.Component:
    return rx.vstack(
        rx.text(
            "Where should people reach this bot? You can also skip channels and chat from the dashboard.",
            size="2",
        ),
        rx.grid(
            *[
                rx.card(
                    rx.el.label(
                        rx.hstack(
                            rx.checkbox(
                                checked=WizardState.channels.contains(c),
                                on_change=lambda v, c=c: WizardState.toggle_channel(c, v),
                                data_testid=f"wizard-channel-{c}",
                            ),
                            rx.vstack(
                                rx.text(CHANNEL_INFO[c][0], weight="bold"),
                                rx.text(CHANNEL_INFO[c][1], size="1", color_scheme="gray"),
                                spacing="0",
                            ),
                            spacing="3",
                            align="start",
                        )
                    ),
                    cursor="pointer",
                )
                for c in CHANNEL_INFO
            ],
            columns=rx.breakpoints(initial="1", sm="2", md="3"),
            spacing="3",
            width="100%",
        ),
        *[rx.cond(WizardState.channels.contains(c), channel_setup(c)) for c in CHANNEL_INFO],
        spacing="4",
        width="100%",
    )


def chip_list(list_name: str, ctype: str, values: rx.Var, label: str, placeholder: str) -> rx.Component:
    key = f"{list_name}.{ctype}"
    testid = f"wizard-{list_name}-{ctype}"
    return rx.vstack(
        rx.text(label, weight="medium", size="2"),
        rx.hstack(
            rx.foreach(
                values,
                lambda v: rx.badge(
                    v,
                    rx.icon(
                        "x",
                        size=12,
                        cursor="pointer",
                        on_click=WizardState.remove_chip(list_name, ctype, v),
                        aria_label="Remove " + v,
                    ),
                    variant="surface",
                    data_testid=testid + "-chip",
                ),
            ),
            spacing="2",
            wrap="wrap",
            data_testid=testid + "-chips",
        ),
        rx.form(
            rx.hstack(
                rx.input(
                    name="entry", placeholder=placeholder, aria_label=label, id=testid, data_testid=testid
                ),
                rx.button("Add", type="submit", size="1", variant="soft", data_testid=testid + "-add"),
                spacing="2",
            ),
            on_submit=lambda form: WizardState.add_chip(list_name, ctype, form),
            reset_on_submit=True,
        ),
        rx.cond(
            WizardState.chip_errors.get(key, "") != "",
            rx.text(
                WizardState.chip_errors.get(key, ""),
                color_scheme="red",
                size="1",
                role="alert",
                data_testid=testid + "-error",
            ),
        ),
        field_error(
            WizardState.errors.get(
                f"channels.{ctype}.{'allow_from' if list_name == 'allow' else 'group_allow_from'}", ""
            ),
            testid + "-field",
        ),
        spacing="1",
        width="100%",
    )


def access_section(ctype: str) -> rx.Component:
    placeholder = {
        "telegram": "111111111 or @username",
        "whatsapp": "+15555550123",
        "signal": "+15555550123",
        "discord": "Discord user id (digits)",
        "slack": "U0123ABCD",
    }[ctype]
    return rx.card(
        rx.vstack(
            rx.heading(CHANNEL_INFO[ctype][0], size="3"),
            native_select(
                "Direct messages",
                DM_POLICIES,
                testid=f"wizard-dm-{ctype}",
                value=WizardState.dm_policy.get(ctype, "pairing"),
                on_change=lambda v: WizardState.set_policy("dm", ctype, v),
            ),
            field_error(WizardState.errors.get(f"channels.{ctype}.dm_policy", ""), f"wizard-dm-{ctype}"),
            rx.cond(
                WizardState.dm_policy.get(ctype, "") == "allowlist",
                chip_list(
                    "allow", ctype, WizardState.allow.get(ctype, []), "Who may message the bot", placeholder
                ),
            ),
            native_select(
                "Groups",
                GROUP_POLICIES,
                testid=f"wizard-group-{ctype}",
                value=WizardState.group_policy.get(ctype, "disabled"),
                on_change=lambda v: WizardState.set_policy("group", ctype, v),
            ),
            rx.cond(
                WizardState.group_policy.get(ctype, "") == "allowlist",
                chip_list("group", ctype, WizardState.group_allow.get(ctype, []), "Which groups", "group id"),
            ),
            native_select(
                "In groups, answer",
                MENTIONS,
                testid=f"wizard-mention-{ctype}",
                value=WizardState.mention.get(ctype, "mention"),
                on_change=lambda v: WizardState.set_policy("mention", ctype, v),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        data_testid=f"wizard-access-{ctype}",
    )


def step_access() -> rx.Component:
    return rx.vstack(
        rx.cond(
            WizardState.channels.length() == 0,
            rx.callout("No channels chosen: only the dashboard chat can reach this bot.", icon="info"),
        ),
        *[rx.cond(WizardState.channels.contains(c), access_section(c)) for c in CHANNEL_INFO],
        spacing="4",
        width="100%",
    )


def step_advanced() -> rx.Component:
    return rx.vstack(
        rx.heading("Conversations", size="3"),
        native_select(
            "Who shares a conversation",
            SESSION_SCOPES,
            testid="wizard-session-scope",
            value=WizardState.session_scope,
            on_change=lambda v: WizardState.set_field("session_scope", v),
        ),
        native_select(
            "Direct messages",
            DM_SCOPES,
            testid="wizard-dm-scope",
            value=WizardState.dm_scope,
            on_change=lambda v: WizardState.set_field("dm_scope", v),
        ),
        native_select(
            "Start a fresh conversation",
            RESET_MODES,
            testid="wizard-reset-mode",
            value=WizardState.reset_mode,
            on_change=lambda v: WizardState.set_field("reset_mode", v),
        ),
        rx.cond(
            WizardState.reset_mode == "idle",
            labelled(
                "Idle minutes",
                rx.input(
                    id="wizard-reset-idle",
                    type="number",
                    default_value=WizardState.reset_idle_minutes,
                    on_blur=lambda v: WizardState.set_field("reset_idle_minutes", v),
                    data_testid="wizard-reset-idle",
                    width="8em",
                ),
                "wizard-reset-idle",
                "",
                "reset_idle_minutes",
            ),
        ),
        rx.cond(
            WizardState.reset_mode == "daily",
            labelled(
                "Hour (0-23)",
                rx.input(
                    id="wizard-reset-hour",
                    type="number",
                    default_value=WizardState.reset_at_hour,
                    on_blur=lambda v: WizardState.set_field("reset_at_hour", v),
                    data_testid="wizard-reset-hour",
                    width="8em",
                ),
                "wizard-reset-hour",
                "",
                "reset_at_hour",
            ),
        ),
        rx.heading("Tools", size="3"),
        native_select(
            "Tool profile",
            TOOL_PROFILES,
            testid="wizard-tools-profile",
            value=WizardState.tools_profile,
            on_change=lambda v: WizardState.set_field("tools_profile", v),
        ),
        rx.hstack(
            *[
                rx.el.label(
                    rx.hstack(
                        rx.checkbox(
                            checked=WizardState.tools_allow.contains(t),
                            on_change=lambda v, t=t: WizardState.toggle_tool(t, v),
                            data_testid=f"wizard-tool-{t}",
                        ),
                        rx.text(t, size="2"),
                        spacing="1",
                    )
                )
                for t in EXTRA_TOOLS
            ],
            spacing="4",
            wrap="wrap",
        ),
        rx.foreach(
            WizardState.warnings,
            lambda w: rx.callout(
                w, icon="triangle_alert", color_scheme="amber", size="1", data_testid="wizard-warning"
            ),
        ),
        rx.heading("Where it runs", size="3"),
        native_select(
            "Gateway",
            PLACEMENTS,
            testid="wizard-placement",
            value=WizardState.placement,
            on_change=lambda v: WizardState.set_field("placement", v),
        ),
        spacing="3",
        width="100%",
        align="start",
    )


def review_row(label: str, value: rx.Var | str, testid: str) -> rx.Component:
    return rx.table.row(rx.table.row_header_cell(label), rx.table.cell(rx.text(value, data_testid=testid)))


def step_review() -> rx.Component:
    return rx.vstack(
        rx.table.root(
            rx.table.body(
                review_row("Name", WizardState.name, "review-name"),
                review_row("Bot id", WizardState.agent_id, "review-agent-id"),
                review_row("Model", WizardState.model, "review-model"),
                review_row("Persona", WizardState.persona, "review-persona"),
                review_row("Channels", WizardState.channels.join(", "), "review-channels"),
                review_row(
                    "Conversations",
                    WizardState.session_scope
                    + ", "
                    + WizardState.dm_scope
                    + ", reset "
                    + WizardState.reset_mode,
                    "review-sessions",
                ),
                review_row(
                    "Tools",
                    WizardState.tools_profile + " " + WizardState.tools_allow.join(" "),
                    "review-tools",
                ),
                review_row("Gateway", WizardState.placement, "review-placement"),
            ),
            width="100%",
        ),
        rx.foreach(
            WizardState.errors,
            lambda item: rx.callout(
                item[0] + ": " + item[1],
                color_scheme="red",
                size="1",
                role="alert",
                data_testid="review-error",
            ),
        ),
        rx.foreach(
            WizardState.warnings,
            lambda w: rx.callout(w, icon="triangle_alert", color_scheme="amber", size="1"),
        ),
        rx.cond(
            WizardState.checking,
            rx.hstack(rx.spinner(), rx.text("Asking OpenClaw whether it accepts this configuration…")),
        ),
        rx.cond(
            WizardState.config_check != "",
            rx.callout(
                WizardState.config_check,
                color_scheme=rx.cond(WizardState.config_ok, "green", "red"),
                icon=rx.cond(WizardState.config_ok, "circle_check", "circle_x"),
                data_testid="review-config-check",
            ),
        ),
        spacing="3",
        width="100%",
    )


def step_launch() -> rx.Component:
    return rx.vstack(
        rx.foreach(
            WizardState.progress, lambda line: rx.text("✓ " + line, data_testid="launch-progress-line")
        ),
        rx.cond(
            WizardState.launch_status == "running",
            rx.hstack(
                rx.link(
                    rx.button("Open the bot and chat", data_testid="launch-open"),
                    href="/bots/" + WizardState.launched_bot_id.to(str) + "?tab=sessions",
                ),
                rx.link("Back to the dashboard", href=routes.DASHBOARD),
                spacing="4",
                align="center",
            ),
            rx.cond(
                WizardState.launch_error != "",
                rx.callout(
                    WizardState.launch_error, color_scheme="red", role="alert", data_testid="launch-error"
                ),
                rx.hstack(rx.spinner(), rx.text("Starting…")),
            ),
        ),
        spacing="3",
        width="100%",
        data_testid="launch-progress",
    )


def stepper() -> rx.Component:
    return rx.hstack(
        *[
            rx.button(
                f"{i}. {name}",
                size="1",
                variant=rx.cond(WizardState.step == i, "solid", "soft"),
                on_click=WizardState.go(i),
                disabled=WizardState.step == 6,
                data_testid=f"wizard-step-{i}",
                aria_current=rx.cond(WizardState.step == i, "step", "false"),
            )
            for i, name in enumerate(STEPS, start=1)
        ],
        spacing="2",
        wrap="wrap",
        aria_label="Wizard steps",
    )


def drafts_box() -> rx.Component:
    return rx.cond(
        (WizardState.drafts.length() > 0)
        & (WizardState.draft_id == 0)
        & (WizardState.edit_bot_id == 0)
        & (WizardState.step == 1),
        rx.callout(
            rx.vstack(
                rx.text("You have unfinished bots:"),
                rx.foreach(
                    WizardState.drafts,
                    lambda d: rx.hstack(
                        rx.link(
                            d["name"] + " (step " + d["step"] + ", saved " + d["saved"] + ")",
                            href="/bots/new?draft=" + d["id"],
                            data_testid="wizard-draft-" + d["id"],
                        ),
                        rx.button(
                            "Discard", size="1", variant="ghost", on_click=WizardState.discard_draft(d["id"])
                        ),
                        spacing="2",
                    ),
                ),
                spacing="1",
            ),
            icon="file_pen",
        ),
    )


@rx.page(
    route=routes.NEW_BOT, title="New bot · ClawNet", on_load=[SessionState.require_fleet, WizardState.on_load]
)
def wizard_page() -> rx.Component:
    return page_frame(
        rx.cond(WizardState.edit_bot_id != 0, "Edit bot", "New bot"),
        drafts_box(),
        stepper(),
        rx.card(
            rx.match(
                WizardState.step,
                (1, step_basics()),
                (2, step_channels()),
                (3, step_access()),
                (4, step_advanced()),
                (5, step_review()),
                step_launch(),
            ),
            width="100%",
            data_testid="wizard-step-body",
        ),
        rx.cond(
            WizardState.step < 6,
            rx.hstack(
                rx.button(
                    "Back",
                    variant="soft",
                    on_click=WizardState.go(WizardState.step - 1),
                    disabled=WizardState.step == 1,
                    data_testid="wizard-back",
                ),
                rx.spacer(),
                rx.cond(
                    WizardState.edit_bot_id == 0,
                    rx.button(
                        "Save draft",
                        variant="soft",
                        on_click=WizardState.save_draft,
                        data_testid="wizard-save-draft",
                    ),
                ),
                rx.cond(
                    WizardState.step < 5,
                    rx.button(
                        "Next", on_click=WizardState.go(WizardState.step + 1), data_testid="wizard-next"
                    ),
                    rx.button(
                        rx.cond(WizardState.edit_bot_id != 0, "Apply changes", "Create bot"),
                        color_scheme="green",
                        on_click=WizardState.launch,
                        data_testid="wizard-launch",
                    ),
                ),
                width="100%",
            ),
        ),
        testid="wizard-page",
    )


__all__ = ["WizardState", "discord_invite_url"]
