"""People's moderation controls: Report (a post or a profile, with a reason) and, on a profile,
Mute (for how long, and whether notifications too) and Block. The social service checks every
call; these only ask and show what happened."""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from clawnet import runtime
from clawnet.errors import UserError
from clawnet.ui.components.forms import native_select
from clawnet.ui.session import current_principal, error_toast
from clawnet.ui.typed import Field, event, field

MUTE_CHOICES = [
    ("0", "Until I unmute"),
    ("1", "1 hour"),
    ("24", "1 day"),
    ("168", "7 days"),
    ("720", "30 days"),
]


def _id(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


class ReportState(rx.State):
    """The report dialog: about one post (post_id) or one profile (profile_id)."""

    post_id: Field[int] = field(0)
    profile_id: Field[int] = field(0)
    error: Field[str] = field("")

    @event
    def open_post(self, post_id: int) -> None:
        self.post_id, self.profile_id, self.error = _id(post_id), 0, ""

    @event
    def open_profile(self, profile_id: int) -> None:
        self.post_id, self.profile_id, self.error = 0, _id(profile_id), ""

    @event
    def open_changed(self, is_open: bool) -> None:
        if is_open is not True:
            self.post_id = self.profile_id = 0

    @event
    async def submit(self, form: dict[str, Any]) -> Any:
        reason = str(form.get("reason", ""))
        try:
            await runtime.social().report(
                await current_principal(self),
                post_id=self.post_id or None,
                profile_id=self.profile_id or None,
                reason=reason,
            )
        except UserError as exc:
            self.error = exc.message
            return None
        self.post_id = self.profile_id = 0
        self.error = ""
        return rx.toast.success("Thank you: the admins will look at your report.")


def report_form(testid: str) -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.text_area(
                name="reason",
                placeholder="What is wrong with it?",
                aria_label="Why you report it",
                required=True,
                max_length=1000,
                data_testid="report-reason",
                width="100%",
            ),
            rx.cond(
                ReportState.error != "",
                rx.text(
                    ReportState.error, color_scheme="red", size="2", role="alert", data_testid="report-error"
                ),
            ),
            rx.hstack(
                rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                rx.button("Report", type="submit", color_scheme="red", data_testid="report-submit"),
                justify="end",
                width="100%",
            ),
            spacing="3",
        ),
        on_submit=ReportState.submit,
        reset_on_submit=True,
        aria_label="Report",
        data_testid=testid,
    )


def post_report_action(post: Any) -> rx.Component:
    """The Report action on a post card (its dialog opens only for this post)."""
    pid = post.id.to_string()
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.button(
                rx.icon("flag", size=14),
                "Report",
                size="1",
                variant="ghost",
                color_scheme="gray",
                on_click=ReportState.open_post(post.id),
                aria_label="Report this post",
                data_testid="post-report-" + pid,
            )
        ),
        rx.dialog.content(
            rx.dialog.title("Report this post"),
            rx.dialog.description("The admins will see the post and your reason.", size="2"),
            report_form("post-report-form"),
            max_width="28em",
        ),
        open=ReportState.post_id == post.id,
        on_open_change=ReportState.open_changed,
    )


def hidden_notice(post: Any) -> rx.Component:
    """On a post an admin hid (only its author sees it): the reason."""
    return rx.cond(
        post.hidden_reason != "",
        rx.callout(
            "Hidden by an admin: " + post.hidden_reason,
            icon="eye-off",
            color_scheme="orange",
            size="1",
            data_testid="post-hidden-" + post.id.to_string(),
        ),
    )


class ProfileModerationMixin(rx.State, mixin=True):
    """Mute and block on a profile page; the page's state has `profile` and `posts`."""

    mute_open: Field[bool] = field(False)
    mute_notifications: Field[bool] = field(True)

    async def _refresh_posts(self) -> None:
        p = self.profile  # type: ignore[has-type]
        self.posts = await runtime.social().profile_posts(await current_principal(self), p.id)

    @event
    def set_mute_open(self, is_open: bool) -> None:
        self.mute_open = is_open is True
        self.mute_notifications = True

    @event
    def set_mute_notifications(self, checked: bool) -> None:
        self.mute_notifications = checked is True

    @event
    async def mute(self, form: dict[str, Any]) -> Any:
        p = self.profile  # type: ignore[has-type]
        hours = _id(form.get("hours", "0"))
        also = self.mute_notifications
        try:
            await runtime.social().mute(
                await current_principal(self), p.id, hours=hours or None, notifications=also
            )
        except UserError as exc:
            return error_toast(exc)
        self.mute_open = False
        self.profile = dataclasses.replace(p, muted=True)
        await self._refresh_posts()
        return rx.toast.success("Muted @" + p.handle + ".")

    @event
    async def unmute(self) -> Any:
        p = self.profile
        try:
            await runtime.social().unmute(await current_principal(self), p.id)
        except UserError as exc:
            return error_toast(exc)
        self.profile = dataclasses.replace(p, muted=False)
        await self._refresh_posts()
        return rx.toast.success("Unmuted @" + p.handle + ".")

    @event
    async def toggle_block(self) -> Any:
        p = self.profile
        principal = await current_principal(self)
        try:
            if p.blocked:
                await runtime.social().unblock(principal, p.id)
            else:
                await runtime.social().block(principal, p.id)
        except UserError as exc:
            return error_toast(exc)
        card = await runtime.social().profile(principal, p.handle)
        self.profile = card or dataclasses.replace(p, blocked=not p.blocked)
        await self._refresh_posts()
        return rx.toast.success(("Unblocked @" if p.blocked else "Blocked @") + p.handle + ".")


def mute_dialog(state: Any) -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Mute @" + state.profile.handle),
            rx.dialog.description(
                "Their posts, boosts of their posts and their comments leave your view.", size="2"
            ),
            rx.form(
                rx.vstack(
                    native_select("For how long", MUTE_CHOICES, testid="mute-duration", name="hours"),
                    rx.el.label(
                        rx.hstack(
                            rx.checkbox(
                                checked=state.mute_notifications,
                                on_change=state.set_mute_notifications,
                                data_testid="mute-notifications",
                            ),
                            rx.text("Also mute their notifications", size="2"),
                            spacing="2",
                            align="center",
                        )
                    ),
                    rx.hstack(
                        rx.dialog.close(
                            rx.button("Cancel", variant="soft", color_scheme="gray", type="button")
                        ),
                        rx.button("Mute", type="submit", data_testid="mute-confirm"),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                ),
                on_submit=state.mute,
                aria_label="Mute",
            ),
            max_width="26em",
        ),
        open=state.mute_open,
        on_open_change=state.set_mute_open,
    )


def profile_moderation_controls(state: Any) -> rx.Component:
    """Mute / Block / Report on someone else's profile (signed in)."""
    p = state.profile
    return rx.hstack(
        rx.cond(
            p.muted,
            rx.button("Unmute", size="1", variant="soft", on_click=state.unmute, data_testid="profile-mute"),
            rx.button(
                "Mute",
                size="1",
                variant="soft",
                color_scheme="gray",
                on_click=state.set_mute_open(True),
                data_testid="profile-mute",
            ),
        ),
        rx.button(
            rx.cond(p.blocked, "Unblock", "Block"),
            size="1",
            variant="soft",
            color_scheme=rx.cond(p.blocked, "gray", "red"),
            on_click=state.toggle_block,
            aria_pressed=rx.cond(p.blocked, "true", "false"),
            data_testid="profile-block",
        ),
        rx.dialog.root(
            rx.dialog.trigger(
                rx.button(
                    "Report",
                    size="1",
                    variant="soft",
                    color_scheme="gray",
                    on_click=ReportState.open_profile(p.id),
                    data_testid="profile-report",
                )
            ),
            rx.dialog.content(
                rx.dialog.title("Report @" + p.handle),
                rx.dialog.description("The admins will see the profile and your reason.", size="2"),
                report_form("profile-report-form"),
                max_width="28em",
            ),
            open=(ReportState.profile_id == p.id) & (p.id != 0),
            on_open_change=ReportState.open_changed,
        ),
        mute_dialog(state),
        spacing="2",
        wrap="wrap",
    )


def suspended_notice(p: Any) -> rx.Component:
    return rx.cond(
        p.suspended,
        rx.callout(
            "Suspended: " + p.suspension_reason,
            icon="ban",
            color_scheme="red",
            data_testid="profile-suspended",
        ),
    )
