"""The wizard's state: ONE form object (`BotForm`, its defaults written once in `bots/forms.py`),
the form as it was loaded (`_base`, so an edit changes only what the person changed), and the
secrets typed into credential fields (`_creds`, backend-only: the browser learns only which ones
are typed or stored). Everything else is what the steps show around the form.

Each step's own handlers live in a substate next to its view (`basics`, `channels`, `access`,
`advanced`, `review`); the handlers every step shares (loading, moving between steps, drafts,
plain fields, the OpenClaw check of the review step) are here. Every handler may be called by
any client with any arguments: the form only changes through whitelisted fields with capped
lengths, and everything that reads or writes the fleet goes through `runtime.bots()`, which
checks the caller's permission (a refusal is a `UserError`, shown as a toast).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import reflex as rx

from clawnet import routes, runtime
from clawnet.bots.forms import BotForm
from clawnet.bots.views import DraftRow, ModelChoice, PlacementChoice
from clawnet.errors import FIX_FIELDS, NotFound, UserError
from clawnet.security.permissions import Principal
from clawnet.ui.pages.wizard.spec import (
    CHANNEL_INFO,
    DM_POLICIES,
    DM_SCOPES,
    GROUP_POLICIES,
    LAUNCH_STEP,
    MENTIONS,
    PLAIN_KEYS,
    RESET_MODES,
    REVIEW_STEP,
    SESSION_SCOPES,
    SETTABLE_FIELDS,
    TOOL_PROFILES,
    label_of,
    step_of,
)
from clawnet.ui.session import current_principal, error_toast
from clawnet.ui.typed import Field, event, field


@dataclass(frozen=True)
class ChannelAccess:
    """One channel's access rules, in the words the access step uses."""

    type: str
    title: str
    dm_policy: str
    allow_from: str
    group_policy: str
    group_allow_from: str
    mention: str


@dataclass(frozen=True)
class Review:
    """What the review step shows: the form in words (the model's name, not its value)."""

    model: str
    channels: str
    conversations: str
    tools: str
    placement: str
    access: list[ChannelAccess]


def review_of(form: BotForm, models: list[ModelChoice], placements: list[PlacementChoice]) -> Review:
    model = next((m.label for m in models if m.value == form.model), form.model_id or "—")
    reset = label_of(RESET_MODES, form.reset_mode)
    if form.reset_mode == "idle":
        reset += f" ({form.reset_idle_minutes} min)"
    elif form.reset_mode == "daily":
        reset += f" ({form.reset_at_hour}:00)"
    access = []
    for ctype in form.channels:
        channel = form.channel_input(ctype, {})  # the per-channel defaults, from the form
        access.append(
            ChannelAccess(
                type=ctype,
                title=CHANNEL_INFO.get(ctype, (ctype, ""))[0],
                dm_policy=label_of(DM_POLICIES, channel.dm_policy),
                allow_from=", ".join(channel.allow_from) or "—",
                group_policy=label_of(GROUP_POLICIES, channel.group_policy),
                group_allow_from=", ".join(
                    f"{gid} ({label_of(MENTIONS, channel.group_mentions.get(gid, channel.mention_policy)).lower()})"
                    for gid in channel.group_allow_from
                )
                or "—",
                mention=label_of(MENTIONS, channel.mention_policy),
            )
        )
    return Review(
        model=model,
        channels=", ".join(CHANNEL_INFO.get(c, (c, ""))[0] for c in form.channels)
        or "None (dashboard chat only)",
        conversations=f"{label_of(SESSION_SCOPES, form.session_scope)}; DMs: "
        f"{label_of(DM_SCOPES, form.dm_scope)}; fresh conversation: {reset}",
        tools=label_of(TOOL_PROFILES, form.tools_profile)
        + (f" + {', '.join(form.tools_allow)}" if form.tools_allow else ""),
        placement=label_of([(p.value, p.label) for p in placements], form.placement),
        access=access,
    )


def _typed_in(form: BotForm) -> tuple[str, ...]:
    """The fields whose inputs keep what is typed (`default_value`, saved on blur)."""
    return (form.name, form.persona, form.emoji, form.reset_idle_minutes, form.reset_at_hour)


class WizardState(rx.State):
    step: Field[int] = field(1)
    edit_bot_id: Field[int] = field(0)
    draft_id: Field[int] = field(0)
    load_error: Field[str] = field("")
    form_rev: Field[int] = field(0)  # bumped when the form changes under the inputs (load, example)
    drafts: Field[list[DraftRow]] = field(default_factory=list)
    models: Field[list[ModelChoice]] = field(default_factory=list)
    placements: Field[list[PlacementChoice]] = field(default_factory=list)
    form: Field[BotForm] = field(default_factory=BotForm)
    _base: BotForm = BotForm()
    _creds: dict[str, str] = {}  # "<channel>.<field>" -> a typed secret; never sent to the browser
    creds_set: Field[dict[str, str]] = field(default_factory=dict)  # key -> "typed" or "stored"
    errors: Field[dict[str, str]] = field(default_factory=dict)
    warnings: Field[list[str]] = field(default_factory=list)
    chip_errors: Field[dict[str, str]] = field(default_factory=dict)
    plain: Field[dict[str, str]] = field(default_factory=dict)  # the credential fields that are settings
    config_check: Field[str] = field("")
    config_ok: Field[bool] = field(False)
    checking: Field[bool] = field(False)
    launched_bot_id: Field[int] = field(0)
    progress: Field[list[str]] = field(default_factory=list)
    launch_status: Field[str] = field("")
    launch_error: Field[str] = field("")
    _watch_gen: int = 0
    _gateway_id: int = 0

    @rx.var
    def review(self) -> Review:
        return review_of(self.form, list(self.models), list(self.placements))

    # --- the form ---------------------------------------------------------------------------

    def _current(self) -> BotForm:
        """The form itself (not Reflex's change-tracking proxy around it)."""
        form = self.form
        return getattr(form, "__wrapped__", form)

    def _update(self, **changes: Any) -> None:
        """Change fields of the form. Values are always new objects: the form as loaded
        (`_base`) shares nothing that is changed in place."""
        self.form = dataclasses.replace(self._current(), **changes)

    def _clear_errors(self, *keys: str) -> None:
        """Forget the errors of fields the person just changed (the next check tells again)."""
        if any(k in self.errors for k in keys):
            self.errors = {k: v for k, v in self.errors.items() if k not in keys}

    def _bot_id(self) -> int | None:
        return self.edit_bot_id or None

    def _refresh_warnings(self) -> None:
        self.warnings = runtime.bots().tool_warnings(self._current())

    def _start(self) -> None:
        """A fresh wizard (every var back to its default, the secrets forgotten); a launch
        still followed from before stops."""
        rev, watch_gen = self.form_rev, self._watch_gen
        self.reset()
        self._base = BotForm()
        self._creds = {}
        self._gateway_id = 0
        self._watch_gen = watch_gen + 1
        self.form_rev = rev

    # --- loading ----------------------------------------------------------------------------

    @event
    async def on_load(self) -> Any:
        shown = _typed_in(self._current())
        self._start()
        result = await self._load()
        if _typed_in(self._current()) != shown:
            # The inputs that keep what is typed show the loaded form. (Not when it is blank, as
            # on a first visit: what someone types while the page loads stays.)
            self.form_rev += 1
        return result

    async def _load(self) -> Any:
        """The form to start from: a bot (`?edit=`), a draft (`?draft=`) or a new one."""
        principal = await current_principal(self)
        if principal is None:
            return None  # SessionState.require_fleet sends the browser to sign in
        params = self.router.url.query_parameters
        edit, draft = str(params.get("edit", "")), str(params.get("draft", ""))
        bots = runtime.bots()
        try:
            self.models = await bots.model_choices(principal)
            self.placements = await bots.placement_choices(principal)
            if edit.isdigit():
                form, stored = await bots.edit_form(principal, int(edit))
                self.edit_bot_id = int(edit)
                self._base = BotForm.from_data(form.to_data())
                self.form = form
                self.creds_set = dict.fromkeys(stored, "stored")
                self.plain = await bots.plain_settings(principal, int(edit))
                return None
            self.form = await bots.new_form(principal)
            self.drafts = await bots.drafts(principal)
            loaded = await bots.load_draft(principal, int(draft)) if draft.isdigit() else None
        except NotFound as exc:
            return [error_toast(exc), rx.redirect(routes.BOTS, replace=True)]
        except UserError as exc:
            if edit:
                self.load_error = str(exc)
                return error_toast(exc)
            return rx.redirect(routes.DASHBOARD, replace=True)
        if loaded is not None:
            form, creds, step = loaded
            if not form.model and self.models:
                form = dataclasses.replace(form, model=self.models[0].value)
            self.form = form
            self._creds = dict(creds)
            self.creds_set = {k: "typed" for k, v in creds.items() if v}
            self.plain = {k: v for k, v in creds.items() if k in PLAIN_KEYS}
            self.draft_id = int(draft)
            self.step = min(max(step, 1), REVIEW_STEP)
            self._refresh_warnings()
            if self.step == REVIEW_STEP:
                return WizardState.check_config
        return None

    # --- moving between steps ------------------------------------------------------------------

    async def _check(self, principal: Principal | None) -> dict[str, str]:
        """Every problem with the form, by field (and the tool warnings)."""
        checked = await runtime.bots().check_form(
            principal, self._current(), dict(self._creds), bot_id=self._bot_id()
        )
        self.warnings = list(checked.warnings)
        return dict(checked.errors)

    @event
    async def go(self, target: int) -> Any:
        """Show step `target`. Going forward checks the steps left behind first."""
        return await self._go(target)

    @event
    async def step_by(self, delta: int) -> Any:
        """Next (1) or Back (-1), from the step the server shows: two quick clicks on Next move
        two steps (a target computed in the browser could repeat a step not yet shown)."""
        try:
            return await self._go(self.step + int(delta))
        except (TypeError, ValueError):
            return None

    async def _go(self, target: int) -> Any:
        if self.step >= LAUNCH_STEP or self.load_error:
            return None
        target = min(max(int(target), 1), REVIEW_STEP)
        principal = await current_principal(self)
        if target > self.step:
            try:
                errors = await self._check(principal)
            except UserError as exc:
                return error_toast(exc)
            blocking = {k: v for k, v in errors.items() if step_of(k) <= self.step}
            self.errors = errors if target == REVIEW_STEP else blocking
            if blocking:
                return rx.toast.error(FIX_FIELDS)
        else:
            self.errors = {}
        self.step = target
        if not self.edit_bot_id:
            await self._save_draft(principal)
        if target == REVIEW_STEP:
            return WizardState.check_config
        return None

    # --- drafts -------------------------------------------------------------------------------

    async def _save_draft(self, principal: Principal | None) -> bool:
        try:
            self.draft_id = await runtime.bots().save_draft(
                principal, self._current(), dict(self._creds), step=self.step, draft_id=self.draft_id or None
            )
        except UserError:
            return False
        return True

    @event
    async def save_draft(self) -> Any:
        if self.edit_bot_id or self.step >= LAUNCH_STEP:
            return None
        if not await self._save_draft(await current_principal(self)):
            return rx.toast.error("You may not create bots, so there is no draft to save.")
        return rx.toast.success("Draft saved. Find it under Bots → New bot.")

    @event
    async def discard_draft(self, draft_id: int) -> Any:
        principal = await current_principal(self)
        bots = runtime.bots()
        try:
            await bots.delete_draft(principal, int(draft_id))
            self.drafts = await bots.drafts(principal)
        except UserError as exc:
            return error_toast(exc)
        return None

    # --- plain fields -------------------------------------------------------------------------

    @event
    def set_field(self, field: str, value: str) -> None:
        """A plain text or choice field of the form (only those in SETTABLE_FIELDS)."""
        limit = SETTABLE_FIELDS.get(str(field))
        if limit is None or self.step >= LAUNCH_STEP:
            return
        self._update(**{str(field): str(value)[:limit]})
        self._clear_errors(str(field), *(("provider_id", "model_id") if field == "model" else ()))
        if field == "tools_profile":
            self._refresh_warnings()

    # --- the review step's check ----------------------------------------------------------------

    @event(background=True)
    async def check_config(self) -> None:
        """Ask the real `openclaw config validate` whether it accepts this bot's configuration."""
        async with self:
            if self.step != REVIEW_STEP:
                return
            self.checking, self.config_ok, self.config_check = True, False, ""
            principal = await current_principal(self)
            form, creds, bot_id = self._current(), dict(self._creds), self._bot_id()
        bots = runtime.bots()
        try:
            checked = await bots.check_form(principal, form, creds, bot_id=bot_id)
            result = (
                None if checked.errors else await bots.check_config(principal, form, creds, bot_id=bot_id)
            )
        except UserError as exc:
            async with self:
                self.checking, self.config_ok, self.config_check = False, False, str(exc)
            return
        async with self:
            self.checking = False
            self.errors, self.warnings = dict(checked.errors), list(checked.warnings)
            if result is None:
                self.config_ok = False
                self.config_check = f"{len(checked.errors)} setting(s) need attention (marked below)."
            else:
                self.config_ok, self.config_check = result.ok, result.message
