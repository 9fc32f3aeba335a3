"""The moderation queue (`/admin/moderation`, admins): open reports, with Hide post, Suspend
profile and Dismiss; below, hidden posts and suspended profiles with Unhide / Unsuspend. The
reason typed above the queue is shown to the author. The social service checks every call."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import reflex as rx

from clawnet import routes, runtime
from clawnet.errors import PermissionDenied, UserError
from clawnet.security.permissions import Principal
from clawnet.social.moderation_views import ModeratedItem, ReportView
from clawnet.ui.components.forms import data_table
from clawnet.ui.components.layout import page_frame
from clawnet.ui.session import SessionState, current_principal
from clawnet.ui.typed import Field, event, field


def _id(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


class ModerationQueueState(rx.State):
    reports: Field[list[ReportView]] = field(default_factory=list)
    moderated: Field[list[ModeratedItem]] = field(default_factory=list)
    reason: Field[str] = field("")
    error: Field[str] = field("")

    async def _reload(self, principal: Principal | None) -> None:
        social = runtime.social()
        self.reports = await social.open_reports(principal)
        self.moderated = await social.moderated(principal)

    @event
    async def load(self) -> Any:
        self.reports, self.moderated, self.error, self.reason = [], [], "", ""
        principal = await current_principal(self)
        if principal is None:
            return None
        try:
            await self._reload(principal)
        except PermissionDenied:
            return rx.redirect(routes.DASHBOARD, replace=True)
        return None

    @event
    def set_reason(self, value: str) -> None:
        self.reason = str(value)[:500]

    async def _act(self, done: str, action: Callable[[Principal | None], Awaitable[Any]]) -> Any:
        principal = await current_principal(self)
        try:
            await action(principal)
            await self._reload(principal)
        except UserError as exc:
            self.error = exc.message
            return rx.toast.error(exc.message)
        self.error = ""
        return rx.toast.success(done)

    @event
    async def hide(self, post_id: int) -> Any:
        pid, reason = _id(post_id), self.reason
        return await self._act("Post hidden.", lambda p: runtime.social().hide_post(p, pid, reason))

    @event
    async def suspend(self, profile_id: int) -> Any:
        target, reason = _id(profile_id), self.reason
        return await self._act(
            "Profile suspended.", lambda p: runtime.social().suspend_profile(p, target, reason)
        )

    @event
    async def dismiss(self, report_id: int) -> Any:
        rid = _id(report_id)
        return await self._act("Report dismissed.", lambda p: runtime.social().dismiss_report(p, rid))

    @event
    async def undo(self, kind: str, item_id: int) -> Any:
        target = _id(item_id)
        if kind == "post":
            return await self._act("Post shown again.", lambda p: runtime.social().unhide_post(p, target))
        return await self._act("Suspension lifted.", lambda p: runtime.social().unsuspend_profile(p, target))


def report_row(r: Any) -> rx.Component:
    rid = r.id.to_string()
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.link("@" + r.target_handle, href=routes.profile(r.target_handle), weight="bold"),
                rx.cond(r.target_suspended, rx.badge("suspended", color_scheme="red", size="1")),
                spacing="1",
            )
        ),
        rx.table.cell(
            rx.cond(
                r.post_id != 0,
                rx.vstack(
                    rx.link(r.post_text, href=routes.post_detail(r.post_id), size="2"),
                    rx.cond(r.post_hidden, rx.badge("hidden", color_scheme="orange", size="1")),
                    spacing="1",
                ),
                rx.text("(the profile)", size="2", color_scheme="gray"),
            )
        ),
        rx.table.cell(rx.text(r.reason, size="2"), data_testid="report-reason-" + rid),
        rx.table.cell(rx.text("@" + r.reporter_handle + " · " + r.ago, size="1", color_scheme="gray")),
        rx.table.cell(
            rx.hstack(
                rx.cond(
                    r.post_id != 0,
                    rx.button(
                        "Hide post",
                        size="1",
                        color_scheme="orange",
                        on_click=ModerationQueueState.hide(r.post_id),
                        data_testid="report-hide-" + rid,
                    ),
                ),
                rx.button(
                    "Suspend @" + r.target_handle,
                    size="1",
                    color_scheme="red",
                    on_click=ModerationQueueState.suspend(r.target_id),
                    data_testid="report-suspend-" + rid,
                ),
                rx.button(
                    "Dismiss",
                    size="1",
                    variant="soft",
                    color_scheme="gray",
                    on_click=ModerationQueueState.dismiss(r.id),
                    data_testid="report-dismiss-" + rid,
                ),
                spacing="2",
                wrap="wrap",
            )
        ),
        data_testid="report-row-" + rid,
    )


def moderated_row(item: Any) -> rx.Component:
    key = item.kind + "-" + item.id.to_string()
    return rx.table.row(
        rx.table.cell(rx.cond(item.kind == "post", "Hidden post", "Suspended profile")),
        rx.table.cell(rx.text(item.label, size="2")),
        rx.table.cell(rx.text(item.reason, size="2")),
        rx.table.cell(
            rx.button(
                rx.cond(item.kind == "post", "Unhide", "Unsuspend"),
                size="1",
                variant="soft",
                on_click=ModerationQueueState.undo(item.kind, item.id),
                data_testid="moderated-undo-" + key,
            )
        ),
        data_testid="moderated-" + key,
    )


@rx.page(
    route=routes.ADMIN_MODERATION,
    title="Moderation · ClawNet",
    on_load=[SessionState.require_sign_in, ModerationQueueState.load],
)
def moderation_page() -> rx.Component:
    return page_frame(
        "Moderation",
        rx.link("← Admin", href=routes.ADMIN, size="2"),
        rx.vstack(
            rx.text("Reason (shown to the author)", as_="label", html_for="moderation-reason", size="2"),
            rx.input(
                id="moderation-reason",
                value=ModerationQueueState.reason,
                on_change=ModerationQueueState.set_reason,
                placeholder="e.g. Spam, or breaks rule 2",
                max_length=500,
                width="100%",
                data_testid="moderation-reason",
            ),
            rx.cond(
                ModerationQueueState.error != "",
                rx.text(
                    ModerationQueueState.error,
                    color_scheme="red",
                    role="alert",
                    data_testid="moderation-error",
                ),
            ),
            spacing="1",
            width="100%",
            max_width="36em",
        ),
        rx.heading("Open reports", size="4"),
        rx.cond(
            ModerationQueueState.reports.length() == 0,
            rx.text("No open reports.", color_scheme="gray", size="2", data_testid="moderation-empty"),
        ),
        rx.box(
            data_table(
                ("Profile", "Post", "Reason", "Reported by", "Actions"),
                ModerationQueueState.reports,
                report_row,
                "moderation-reports",
            ),
            width="100%",
            data_testid="moderation-queue",
        ),
        rx.heading("Hidden posts and suspended profiles", size="4"),
        data_table(
            ("What", "Which", "Reason", ""), ModerationQueueState.moderated, moderated_row, "moderation-done"
        ),
        testid="moderation-page",
    )
