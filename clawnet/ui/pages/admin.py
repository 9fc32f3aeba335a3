"""Admin (`/admin`): people, their roles, bot assignments and activation; the audit log."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import reflex as rx

from clawnet import routes, runtime
from clawnet.accounts.users import UserRow
from clawnet.audit import AuditRow
from clawnet.bots.views import BotChoice
from clawnet.enums import Role
from clawnet.errors import PermissionDenied, UserError
from clawnet.security.permissions import Principal
from clawnet.ui.components.forms import data_table, native_select
from clawnet.ui.components.layout import page_frame
from clawnet.ui.session import SessionState, current_principal
from clawnet.ui.typed import Field, event, field

ROLE_OPTIONS = [(r.value, r.value.capitalize()) for r in Role]
AUDIT_LIMIT = 100


def _id(value: Any) -> int:
    """An id sent by the browser, as an int (0 for anything else: no such row)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


class AdminState(rx.State):
    users: Field[list[UserRow]] = field(default_factory=list)
    bots: Field[list[BotChoice]] = field(default_factory=list)
    assigned: Field[dict[str, str]] = field(default_factory=dict)  # user id -> their bots' names
    message: Field[str] = field("")
    error: Field[str] = field("")
    assign_user_id: Field[int] = field(0)
    assign_user_email: Field[str] = field("")
    assign_selected: Field[list[int]] = field(default_factory=list)
    audit: Field[list[AuditRow]] = field(default_factory=list)
    audit_search: Field[str] = field("")

    async def _reload(self, principal: Principal | None) -> None:
        accounts, bots = runtime.accounts(), runtime.bots()
        self.users = await accounts.users(principal)
        self.bots = await bots.bot_choices(principal)
        self.audit = await accounts.audit_log(principal, search=self.audit_search, limit=AUDIT_LIMIT)
        names = {b.id: b.name for b in self.bots}
        self.assigned = {
            str(u.id): ", ".join(names.get(b, f"#{b}") for b in u.bot_ids) or "—" for u in self.users
        }

    @event
    async def load(self) -> Any:
        self.message = self.error = ""
        self.users, self.bots, self.audit, self.assigned = [], [], [], {}
        self.assign_user_id = 0
        principal = await current_principal(self)
        if principal is None:
            return None  # SessionState.require_sign_in sends them to sign in
        try:
            await self._reload(principal)
        except PermissionDenied:
            return rx.redirect(routes.DASHBOARD, replace=True)
        except UserError as exc:
            self.error = exc.message
        return None

    async def _act(self, done: str, action: Callable[[Principal | None], Awaitable[Any]]) -> Any:
        """Run `action(principal)` (the service checks the permission), then show what happened."""
        principal = await current_principal(self)
        self.message = self.error = ""
        try:
            await action(principal)
            await self._reload(principal)
        except UserError as exc:
            self.error = exc.message
            return rx.toast.error(exc.message)
        self.message = done
        return rx.toast.success(done)

    @event
    async def change_role(self, user_id: int, role: str) -> Any:
        uid, role = _id(user_id), str(role)
        return await self._act(
            f"Role changed to {role}.", lambda p: runtime.accounts().set_role(p, uid, role)
        )

    @event
    async def toggle_active(self, user_id: int, currently: bool) -> Any:
        uid, make_active = _id(user_id), currently is not True
        return await self._act(
            "Account reactivated." if make_active else "Account deactivated.",
            lambda p: runtime.accounts().set_active(p, uid, make_active),
        )

    @event
    async def open_assignments(self, user_id: int) -> Any:
        try:
            users = await runtime.accounts().users(await current_principal(self))
        except UserError as exc:
            self.error = exc.message
            return None
        match = next((u for u in users if u.id == _id(user_id)), None)
        if match is None:
            return rx.toast.error("No such user.")
        self.assign_user_id, self.assign_user_email = match.id, match.email
        self.assign_selected = list(match.bot_ids)
        return None

    @event
    def toggle_assignment(self, bot_id: int, checked: bool) -> None:
        selected = set(self.assign_selected)
        if checked is True:
            selected.add(_id(bot_id))
        else:
            selected.discard(_id(bot_id))
        self.assign_selected = sorted(selected - {0})

    @event
    def close_assignments(self) -> None:
        self.assign_user_id = 0

    @event
    def assignments_open_changed(self, is_open: bool) -> None:
        if not is_open:
            self.assign_user_id = 0

    @event
    async def save_assignments(self) -> Any:
        user_id, bot_ids = self.assign_user_id, list(self.assign_selected)
        if not user_id:
            return None
        outcome = await self._act(
            "Bot assignments saved.", lambda p: runtime.accounts().set_bot_assignments(p, user_id, bot_ids)
        )
        if not self.error:
            self.assign_user_id = 0
        return outcome

    @event
    async def search_audit(self, form: dict[str, Any]) -> Any:
        self.audit_search = str(form.get("q", ""))[:200]
        try:
            self.audit = await runtime.accounts().audit_log(
                await current_principal(self), search=self.audit_search, limit=AUDIT_LIMIT
            )
        except UserError as exc:
            self.error = exc.message
        return None


def user_row(user: Any) -> rx.Component:
    uid = user.id.to_string()
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.hstack(
                    rx.text(user.display_name, weight="medium"),
                    rx.cond(
                        user.is_active,
                        rx.fragment(),
                        rx.badge("deactivated", color_scheme="red", data_testid="admin-inactive-" + uid),
                    ),
                    spacing="2",
                    align="center",
                ),
                rx.text(user.email, size="1", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(
            native_select(
                "Role of " + user.email,
                ROLE_OPTIONS,
                testid="admin-role-" + uid,
                value=user.role,
                show_label=False,
                on_change=lambda value: AdminState.change_role(user.id, value),
            ),
        ),
        rx.table.cell(rx.text(AdminState.assigned[uid], size="2"), data_testid="admin-bots-" + uid),
        rx.table.cell(rx.text(user.joined, size="2")),
        rx.table.cell(rx.text(user.last_login, size="2"), data_testid="admin-last-login-" + uid),
        rx.table.cell(
            rx.hstack(
                rx.button(
                    "Assign bots",
                    size="1",
                    variant="soft",
                    on_click=AdminState.open_assignments(user.id),
                    data_testid="admin-assign-" + uid,
                    aria_label="Assign bots to " + user.email,
                ),
                rx.button(
                    rx.cond(user.is_active, "Deactivate", "Reactivate"),
                    size="1",
                    variant="soft",
                    color_scheme=rx.cond(user.is_active, "red", "green"),
                    on_click=AdminState.toggle_active(user.id, user.is_active),
                    aria_label=rx.cond(user.is_active, "Deactivate ", "Reactivate ") + user.email,
                    data_testid="admin-active-" + uid,
                ),
                spacing="2",
            )
        ),
        data_testid="admin-user-" + uid,
        aria_label=user.email,
    )


def assignment_choice(bot: Any) -> rx.Component:
    return rx.el.label(
        rx.hstack(
            rx.checkbox(
                checked=AdminState.assign_selected.contains(bot.id),
                on_change=lambda checked: AdminState.toggle_assignment(bot.id, checked),
                data_testid="admin-assign-bot-" + bot.id.to_string(),
            ),
            rx.text(bot.name),
            spacing="2",
            align="center",
        ),
    )


def assignment_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Bots for " + AdminState.assign_user_email),
            rx.dialog.description("Operators act on their assigned bots; viewers can see them.", size="2"),
            rx.vstack(
                rx.cond(
                    AdminState.bots.length() == 0,
                    rx.text("There are no bots yet.", color_scheme="gray", data_testid="admin-no-bots"),
                    rx.foreach(AdminState.bots, assignment_choice),
                ),
                spacing="2",
                padding_y="1em",
            ),
            rx.hstack(
                rx.button(
                    "Cancel",
                    variant="soft",
                    color_scheme="gray",
                    on_click=AdminState.close_assignments,
                    data_testid="admin-assign-cancel",
                ),
                rx.button("Save", on_click=AdminState.save_assignments, data_testid="admin-assign-save"),
                justify="end",
                spacing="3",
            ),
            data_testid="admin-assign-dialog",
        ),
        open=AdminState.assign_user_id != 0,
        on_open_change=AdminState.assignments_open_changed,
    )


def audit_row(e: Any) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(e.at, size="1")),
        rx.table.cell(e.actor),
        rx.table.cell(rx.vstack(rx.code(e.action), rx.text(e.summary, size="1"), spacing="0")),
        rx.table.cell(e.object),
        rx.table.cell(rx.text(e.change, size="1")),
        data_testid="audit-row-" + e.id.to_string(),
    )


@rx.page(route=routes.ADMIN, title="Admin · ClawNet", on_load=[SessionState.require_sign_in, AdminState.load])
def admin_page() -> rx.Component:
    return page_frame(
        "Admin",
        rx.cond(
            AdminState.error != "",
            rx.callout(AdminState.error, color_scheme="red", role="alert", data_testid="admin-error"),
        ),
        rx.cond(
            AdminState.message != "",
            rx.text(AdminState.message, color_scheme="green", role="status", data_testid="admin-message"),
        ),
        rx.link("Moderation queue →", href=routes.ADMIN_MODERATION, data_testid="admin-moderation-link"),
        rx.heading("Users", size="4"),
        data_table(
            ("User", "Role", "Bots", "Joined", "Last sign-in", "Actions"),
            AdminState.users,
            user_row,
            "admin-users",
        ),
        assignment_dialog(),
        rx.heading("Audit log", size="4"),
        rx.form(
            rx.hstack(
                rx.input(
                    name="q",
                    placeholder="Search who, what or which object",
                    aria_label="Search the audit log",
                    data_testid="audit-search",
                    width="24em",
                ),
                rx.button("Search", type="submit", variant="soft", data_testid="audit-search-submit"),
            ),
            on_submit=AdminState.search_audit,
            aria_label="Search the audit log",
        ),
        rx.cond(
            AdminState.audit.length() == 0,
            rx.text("Nothing found.", color_scheme="gray", size="2", data_testid="audit-empty"),
        ),
        data_table(("When", "Who", "What", "Object", "Change"), AdminState.audit, audit_row, "audit-log"),
        testid="admin-page",
    )
