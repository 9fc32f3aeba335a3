"""Pairing a phone's WhatsApp with a running bot, on the bot's Channels tab and at the end of the
wizard: the QR code the gateway gets from WhatsApp, replaced when WhatsApp rotates it, how long
the code on screen stays valid (counting down), and in plain words why no code could be made.

One background event runs the pairing: it asks for a code, then waits for the scan in steps
(each wait returns early with a new code), counting down between answers. It ends when the
phone is linked, the pairing fails, the person presses Pair again or Stop, leaves the page, or
closes the browser."""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

import reflex as rx

from clawnet import runtime
from clawnet.bots.views import PairingStep
from clawnet.bots.whatsapp import EXPIRED, LOGIN_VALID_S, QR_WAIT_S
from clawnet.errors import UserError
from clawnet.ui.live import client_connected
from clawnet.ui.session import current_principal
from clawnet.ui.typed import Field, event, field

ASKING = f"Asking WhatsApp for a QR code through the bot's gateway (up to {QR_WAIT_S} s)…"


class WhatsAppPairingState(rx.State):
    bot_id: Field[int] = field(0)
    phase: Field[str] = field("")  # "", "asking", "qr", "linked", "failed"
    qr: Field[str] = field("")
    seconds_left: Field[int] = field(0)
    message: Field[str] = field("")
    rotations: Field[int] = field(0)  # how many new codes WhatsApp sent since the first
    _generation: int = 0

    @event
    def stop(self) -> None:
        self._generation += 1
        self.phase, self.qr, self.seconds_left, self.message = "", "", 0, ""

    def _show(self, step: PairingStep) -> None:
        if step.state == "qr":
            self.rotations += 1 if self.qr else 0
            self.qr, self.phase, self.seconds_left = step.qr, "qr", step.valid_s
        elif step.state in ("linked", "failed"):
            self.qr, self.phase, self.seconds_left = "", step.state, 0
        if step.message:
            self.message = step.message

    @event(background=True)
    async def pair(self, bot_id: int, relink: bool) -> Any:
        async with self:
            self._generation += 1
            generation = self._generation
            actor = await current_principal(self)
            token, path = self.router.session.client_token, self.router.url.path
            self.bot_id, self.phase, self.qr, self.seconds_left = int(bot_id), "asking", "", 0
            self.message, self.rotations = ASKING, 0
        bots = runtime.bots()
        try:
            step = await bots.whatsapp_pairing_qr(actor, int(bot_id), relink=bool(relink))
        except UserError as exc:
            step = PairingStep("failed", str(exc))
        started = time.monotonic()
        valid_until = started + step.valid_s
        async with self:
            if self._generation != generation:
                return
            self._show(step)
        shown = step
        while step.state in ("qr", "waiting"):
            if time.monotonic() - started > LOGIN_VALID_S:
                step = PairingStep("failed", EXPIRED)
            else:
                waiting = asyncio.ensure_future(bots.whatsapp_pairing_wait(actor, int(bot_id), shown))
                while not waiting.done():
                    await asyncio.wait({waiting}, timeout=1)
                    async with self:
                        gone = self.router.url.path != path or not client_connected(token)
                        if self._generation != generation or gone:
                            waiting.cancel()
                            return
                        self.seconds_left = max(0, math.ceil(valid_until - time.monotonic()))
                try:
                    step = waiting.result()
                except UserError as exc:
                    step = PairingStep("failed", str(exc))
            if step.state == "qr":
                shown, valid_until = step, time.monotonic() + step.valid_s
            async with self:
                if self._generation != generation:
                    return
                self._show(step)
        return None


def pairing_panel(bot_id: Any, can_pair: Any) -> rx.Component:
    """The pairing card for bot `bot_id` (a Var); its buttons only when `can_pair` (a Var)."""
    s = WhatsAppPairingState
    mine = s.bot_id == bot_id
    active = mine & ((s.phase == "asking") | (s.phase == "qr"))
    return rx.card(
        rx.vstack(
            rx.heading("WhatsApp pairing", size="3"),
            rx.text(
                "Link the phone whose WhatsApp the bot should use. The code comes from WhatsApp "
                "through the bot's gateway, so the bot must be running.",
                size="2",
                color_scheme="gray",
            ),
            rx.cond(
                can_pair,
                rx.hstack(
                    rx.button(
                        rx.cond(active, "Get a new code", "Pair WhatsApp"),
                        on_click=s.pair(bot_id, False),
                        data_testid="whatsapp-pair",
                    ),
                    rx.cond(
                        mine & (s.phase == "linked"),
                        rx.button(
                            "Link another phone",
                            variant="soft",
                            on_click=s.pair(bot_id, True),
                            data_testid="whatsapp-relink",
                        ),
                    ),
                    rx.cond(
                        active,
                        rx.button(
                            "Stop",
                            variant="soft",
                            color_scheme="gray",
                            on_click=s.stop,
                            data_testid="whatsapp-stop",
                        ),
                    ),
                    spacing="2",
                ),
            ),
            rx.cond(mine & (s.phase == "asking"), rx.hstack(rx.spinner(), rx.text(s.message), role="status")),
            rx.cond(
                mine & (s.phase == "qr"),
                rx.vstack(
                    rx.image(
                        src=s.qr,
                        width="264px",
                        height="264px",
                        alt="WhatsApp pairing QR code",
                        data_testid="whatsapp-qr",
                        data_rotation=s.rotations.to_string(),
                        style={"imageRendering": "pixelated", "background": "white"},
                    ),
                    rx.text(s.message, size="2"),
                    rx.text(
                        rx.cond(
                            s.seconds_left > 0,
                            "This code stays valid for " + s.seconds_left.to_string() + " s.",
                            "WhatsApp is making a new code…",
                        ),
                        size="2",
                        weight="medium",
                        role="timer",
                        aria_live="off",
                        data_testid="whatsapp-qr-valid",
                    ),
                    rx.text(
                        "When it runs out, WhatsApp sends a new code and it shows here, for up to 3 minutes.",
                        size="1",
                        color_scheme="gray",
                    ),
                    spacing="2",
                ),
            ),
            rx.cond(
                mine & ((s.phase == "linked") | (s.phase == "failed")),
                rx.callout(
                    s.message,
                    color_scheme=rx.cond(s.phase == "linked", "green", "red"),
                    icon=rx.cond(s.phase == "linked", "circle_check", "circle_x"),
                    role=rx.cond(s.phase == "failed", "alert", "status"),
                    data_testid="whatsapp-status",
                ),
            ),
            spacing="3",
        ),
        data_testid="whatsapp-pairing",
    )
