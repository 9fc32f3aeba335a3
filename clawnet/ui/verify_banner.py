"""The "confirm your email" banner on signed-in pages: shown only when outgoing mail is set up and
the person's address is not confirmed yet, with a button that mails a new link."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import runtime
from clawnet.errors import UserError
from clawnet.ui.session import current_principal, error_toast
from clawnet.ui.typed import Field, event, field


class VerifyBannerState(rx.State):
    shown: Field[bool] = field(False)

    @event
    async def start(self) -> None:
        """on_mount of the banner."""
        self.shown = await runtime.accounts().needs_verification(await current_principal(self))

    @event
    async def resend(self) -> Any:
        try:
            await runtime.accounts().resend_verification(await current_principal(self))
        except UserError as exc:
            return error_toast(exc)
        return rx.toast.success("A new link is on its way. Check your inbox.")


def verify_banner() -> rx.Component:
    return rx.box(
        rx.cond(
            VerifyBannerState.shown,
            rx.callout.root(
                rx.hstack(
                    rx.callout.icon(rx.icon("mail_warning")),
                    rx.callout.text("Please confirm your email address: we sent you a link."),
                    rx.button(
                        "Resend",
                        size="1",
                        variant="soft",
                        on_click=VerifyBannerState.resend,
                        data_testid="verify-resend",
                    ),
                    align="center",
                    spacing="3",
                    wrap="wrap",
                ),
                color_scheme="amber",
                width="100%",
                data_testid="verify-banner",
            ),
        ),
        on_mount=VerifyBannerState.start,
        width="100%",
    )
