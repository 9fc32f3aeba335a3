"""Step 5, review and launch: the whole bot in words (the model's name, each channel's access
rules), the real OpenClaw's verdict on its configuration, then creating the bot (or applying an
edit: only what the person changed) and following it until it runs.

The launch follows only this bot's events and the configuration changes of ITS gateway (read
after saving, and again when the bot moves), not those of every gateway."""

from __future__ import annotations

import contextlib
import time
from typing import Any

import reflex as rx

from clawnet import routes, runtime
from clawnet.enums import BotStatus
from clawnet.errors import UserError
from clawnet.events import FleetEvent, Kind
from clawnet.security.permissions import Principal
from clawnet.ui import live
from clawnet.ui.components.whatsapp_pairing import pairing_panel
from clawnet.ui.pages.wizard.spec import LAUNCH_STEP, step_of
from clawnet.ui.pages.wizard.state import WizardState
from clawnet.ui.pages.wizard.widgets import review_row
from clawnet.ui.session import current_principal, error_toast
from clawnet.ui.typed import event

FOLLOWED = [Kind.BOT_STATUS, Kind.CONFIG_APPLIED, Kind.FLEET_CHANGED]


class WizardLaunch(WizardState):
    @event
    async def launch(self) -> Any:
        """Create the bot, or apply the edit (only what changed since the form was loaded)."""
        if self.step >= LAUNCH_STEP or self.load_error:
            return None
        principal = await current_principal(self)
        bots = runtime.bots()
        form, creds = self._current(), dict(self._creds)
        try:
            if self.edit_bot_id:
                bot_id = self.edit_bot_id
                await bots.update_from_form(principal, bot_id, self._base, form, creds)
            else:
                bot_id = await bots.create_bot(principal, form.to_input(creds))
        except UserError as exc:
            if exc.field_errors:
                self.errors = dict(exc.field_errors)
                self.step = min(step_of(k) for k in exc.field_errors)
            return error_toast(exc)
        if self.draft_id:
            with contextlib.suppress(UserError):
                await bots.delete_draft(principal, self.draft_id)
            self.draft_id = 0
        status = await self._where_is(principal, bot_id)
        self._creds = {}
        self.launched_bot_id, self.step, self.launch_error = bot_id, LAUNCH_STEP, ""
        if self.edit_bot_id:
            self.progress = ["Changes saved. Its gateway picks them up within seconds."]
            self.launch_status = status
        else:
            self.progress = ["Bot created."]
            self.launch_status = BotStatus.STARTING.value
        return WizardLaunch.follow_launch

    async def _where_is(self, principal: Principal | None, bot_id: int) -> str:
        """Remember the bot's gateway (whose configuration changes the launch shows); its status."""
        try:
            header = await runtime.bots().header(principal, bot_id)
        except UserError:
            header = None
        self._gateway_id = header.gateway_id if header is not None else 0
        return header.status if header is not None else ""

    def _show(self, event: FleetEvent, started: float) -> None:
        if event.kind == Kind.BOT_STATUS:
            status, before = str(event.payload.get("status", "")), self.launch_status
            self.launch_status = status
            if status == BotStatus.RUNNING.value and before != status:
                self.launch_error = ""
                self.progress = [
                    *self.progress,
                    f"Running after {time.monotonic() - started:.0f} s. Say hello!",
                ]
            elif status == BotStatus.ERROR.value:
                self.launch_error = str(event.payload.get("error", "")) or "The bot could not start."
            elif status == BotStatus.STARTING.value and before != status:
                self.progress = [*self.progress, "Starting its gateway…"]
        elif event.kind == Kind.CONFIG_APPLIED:
            how = str(event.payload.get("how", "hot"))
            self.progress = [*self.progress, f"Configuration applied ({how})."]

    @event(background=True)
    async def follow_launch(self) -> None:
        async with self:
            self._watch_gen += 1
            bot_id, gateway_id = self.launched_bot_id, self._gateway_id
            principal = await current_principal(self)
        if not bot_id:
            return
        started = time.monotonic()
        followed = {"gateway": gateway_id}  # read by the bus's thread; changes when the bot moves

        def relevant(event: FleetEvent) -> bool:
            if event.bot_id == bot_id:
                return True
            return (
                event.kind == Kind.CONFIG_APPLIED
                and bool(event.gateway_id)
                and (event.gateway_id == followed["gateway"])
            )

        async def apply(batch: list[FleetEvent]) -> None:
            for item in batch:
                if item.kind == Kind.BOT_STATUS and item.gateway_id:
                    followed["gateway"] = self._gateway_id = item.gateway_id
                self._show(item, started)
            if any(e.kind == Kind.FLEET_CHANGED for e in batch):  # changed elsewhere: it may have moved
                await self._where_is(principal, bot_id)
                followed["gateway"] = self._gateway_id

        await live.follow(
            self,
            kinds=FOLLOWED,
            where=relevant,
            apply=apply,
            generation=lambda: self._watch_gen,
            on_page=lambda path: path == routes.NEW_BOT,
        )


def access_rows(access: Any) -> rx.Component:
    testid = "review-access-" + access.type
    return rx.table.row(
        rx.table.row_header_cell(access.title),
        rx.table.cell(
            rx.vstack(
                rx.text("Direct messages: ", access.dm_policy, data_testid=testid + "-dm"),
                rx.text("Allowlist: ", access.allow_from, data_testid=testid + "-allow"),
                rx.text("Groups: ", access.group_policy, data_testid=testid + "-group"),
                rx.text("Groups listed: ", access.group_allow_from, data_testid=testid + "-group-allow"),
                rx.text("In groups: ", access.mention, data_testid=testid + "-mention"),
                spacing="0",
            ),
            data_testid=testid,
        ),
    )


def step_review() -> rx.Component:
    review = WizardState.review
    return rx.vstack(
        rx.table.root(
            rx.table.body(
                review_row("Name", WizardState.form.name, "review-name"),
                review_row("Bot id", WizardState.form.agent_id, "review-agent-id"),
                review_row("Model", review.model, "review-model"),
                review_row("Persona", WizardState.form.persona, "review-persona"),
                review_row("Channels", review.channels, "review-channels"),
                rx.foreach(review.access, access_rows),
                review_row("Conversations", review.conversations, "review-sessions"),
                review_row("Tools", review.tools, "review-tools"),
                review_row("Gateway", review.placement, "review-placement"),
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
    running = WizardState.launch_status == BotStatus.RUNNING.value
    done = running | (WizardState.edit_bot_id != 0) | (WizardState.launch_error != "")
    return rx.vstack(
        rx.foreach(
            WizardState.progress, lambda line: rx.text("✓ " + line, data_testid="launch-progress-line")
        ),
        rx.cond(
            WizardState.launch_error != "",
            rx.callout(
                WizardState.launch_error, color_scheme="red", role="alert", data_testid="launch-error"
            ),
        ),
        rx.cond(
            done,
            rx.hstack(
                rx.link(
                    rx.button("Open the bot and chat", data_testid="launch-open"),
                    href=routes.bot_detail(WizardState.launched_bot_id, "sessions"),
                ),
                rx.link("Back to the dashboard", href=routes.DASHBOARD, data_testid="launch-dashboard"),
                spacing="4",
                align="center",
            ),
            rx.cond(
                WizardState.launch_error == "",
                rx.hstack(rx.spinner(), rx.text("Starting…"), role="status"),
            ),
        ),
        rx.cond(
            running & WizardState.form.channels.contains("whatsapp"),
            pairing_panel(WizardState.launched_bot_id, WizardState.launched_bot_id != 0),
        ),
        spacing="3",
        width="100%",
        data_testid="launch-progress",
    )
