"""Settings, "Muted and blocked": the profiles one muted (until when) or blocked, each with
Unmute / Unblock (everyone with a profile)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import routes, runtime
from clawnet.errors import UserError
from clawnet.social.moderation_views import ModeratedProfile
from clawnet.ui.session import current_principal, error_toast
from clawnet.ui.typed import Field, event, field


class MutedBlockedState(rx.State):
    muted: Field[list[ModeratedProfile]] = field(default_factory=list)
    blocked: Field[list[ModeratedProfile]] = field(default_factory=list)
    has_profile: Field[bool] = field(False)

    async def _reload(self) -> None:
        principal = await current_principal(self)
        try:
            self.muted = await runtime.social().muted(principal)
            self.blocked = await runtime.social().blocked(principal)
            self.has_profile = True
        except UserError:
            self.muted, self.blocked, self.has_profile = [], [], False

    @event
    async def load(self) -> None:
        await self._reload()

    @event
    async def unmute(self, profile_id: int) -> Any:
        try:
            await runtime.social().unmute(await current_principal(self), int(profile_id))
        except (UserError, ValueError) as exc:
            return error_toast(exc) if isinstance(exc, UserError) else None
        await self._reload()
        return rx.toast.success("Unmuted.")

    @event
    async def unblock(self, profile_id: int) -> Any:
        try:
            await runtime.social().unblock(await current_principal(self), int(profile_id))
        except (UserError, ValueError) as exc:
            return error_toast(exc) if isinstance(exc, UserError) else None
        await self._reload()
        return rx.toast.success("Unblocked.")


def _row(p: Any, label: str, handler: Any, testid: str, detail: Any = "") -> rx.Component:
    pid = p.id.to_string()
    return rx.hstack(
        rx.link("@" + p.handle, href=routes.profile(p.handle), weight="bold"),
        rx.text(p.name, size="2"),
        rx.text(detail, size="1", color_scheme="gray"),
        rx.spacer(),
        rx.button(
            label,
            size="1",
            variant="soft",
            on_click=handler(p.id),
            aria_label=label + " @" + p.handle,
            data_testid=testid + "-" + pid,
        ),
        width="100%",
        align="center",
        data_testid=testid + "-row-" + pid,
    )


def _mute_detail(p: Any) -> Any:
    return rx.cond(p.until != "", "until " + p.until, "until you unmute") + rx.cond(
        p.notifications, ", notifications too", ""
    )


def moderation_section() -> rx.Component:
    return rx.cond(
        MutedBlockedState.has_profile,
        rx.vstack(
            rx.heading("Muted and blocked", size="4", id="muted-blocked"),
            rx.text("Muted", weight="bold", size="2"),
            rx.vstack(
                rx.foreach(
                    MutedBlockedState.muted,
                    lambda p: _row(p, "Unmute", MutedBlockedState.unmute, "settings-unmute", _mute_detail(p)),
                ),
                rx.cond(
                    MutedBlockedState.muted.length() == 0,
                    rx.text("You have not muted anyone.", size="2", color_scheme="gray"),
                ),
                width="100%",
                data_testid="settings-muted",
            ),
            rx.text("Blocked", weight="bold", size="2"),
            rx.vstack(
                rx.foreach(
                    MutedBlockedState.blocked,
                    lambda p: _row(p, "Unblock", MutedBlockedState.unblock, "settings-unblock"),
                ),
                rx.cond(
                    MutedBlockedState.blocked.length() == 0,
                    rx.text("You have not blocked anyone.", size="2", color_scheme="gray"),
                ),
                width="100%",
                data_testid="settings-blocked",
            ),
            width="100%",
            max_width="40em",
            spacing="2",
        ),
    )
