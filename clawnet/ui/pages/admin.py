"""Admin: users, their roles and bot assignments."""

from __future__ import annotations

import reflex as rx
from sqlmodel import col, select

from clawnet import routes
from clawnet.accounts import service as accounts
from clawnet.bots import queries
from clawnet.db import session_scope
from clawnet.enums import Role
from clawnet.models import Bot
from clawnet.security.permissions import Action, PermissionDenied, require
from clawnet.ui.components.forms import data_table, native_select
from clawnet.ui.components.layout import page_frame
from clawnet.ui.session import SessionState

ROLE_OPTIONS = [(r.value, r.value.capitalize()) for r in Role]


class AdminState(rx.State):
    users: list[dict[str, str]] = []
    bots: list[dict[str, str]] = []
    message: str = ""
    error: str = ""
    assign_user_id: int = 0
    assign_user_email: str = ""
    assign_selected: list[str] = []
    audit: list[dict[str, str]] = []
    audit_search: str = ""

    async def _admin(self):
        session_state = await self.get_state(SessionState)
        return session_state._principal()

    def _reload(self, session, principal) -> None:
        self.audit = queries.audit_log(session, principal, limit=100, search=self.audit_search)
        principal_users = accounts.list_users(session, principal)
        bot_names = {str(b.id): b.name for b in session.exec(select(Bot).order_by(col(Bot.name))).all()}
        self.bots = [{"id": k, "name": v} for k, v in bot_names.items()]
        self.users = [
            {
                "id": str(u.id),
                "email": u.email,
                "display_name": u.display_name,
                "role": u.role,
                "active": "yes" if u.is_active else "no",
                "last_login": u.last_login_at.strftime("%Y-%m-%d %H:%M UTC") if u.last_login_at else "never",
                "bots": ", ".join(bot_names.get(str(b), f"#{b}") for b in u.bot_ids) or "—",
            }
            for u in principal_users
        ]

    @rx.event
    async def load(self):
        principal = await self._admin()
        self.message = self.error = ""
        self.users, self.bots = [], []
        if principal is None:
            return None  # SessionState.require_sign_in sends them to sign in
        try:
            with session_scope() as session:
                require(session, principal, Action.MANAGE_USERS)
                self._reload(session, principal)
        except PermissionDenied:
            return rx.redirect(routes.DASHBOARD, replace=True)
        return None

    async def _act(self, summary: str, action) -> None:
        """Run `action(session, principal)` in one transaction and show what happened."""
        principal = await self._admin()
        self.message = self.error = ""
        try:
            with session_scope() as session:
                action(session, principal)
                session.flush()
                self._reload(session, principal)
            self.message = summary
        except (PermissionDenied, accounts.AccountError) as exc:
            self.error = str(exc)

    @rx.event
    async def search_audit(self, form: dict):
        principal = await self._admin()
        self.audit_search = str(form.get("q", ""))[:200]
        try:
            with session_scope() as session:
                self.audit = queries.audit_log(session, principal, limit=100, search=self.audit_search)
        except PermissionDenied as exc:
            self.error = str(exc)

    @rx.event
    async def change_role(self, user_id: str, role: str):
        await self._act(f"Role changed to {role}.", lambda s, p: accounts.set_role(s, p, int(user_id), role))
        return rx.toast.error(self.error) if self.error else rx.toast.success(self.message)

    @rx.event
    async def toggle_active(self, user_id: str, currently: str):
        make_active = currently != "yes"
        await self._act(
            "Account reactivated." if make_active else "Account deactivated.",
            lambda s, p: accounts.set_active(s, p, int(user_id), make_active),
        )
        return rx.toast.error(self.error) if self.error else rx.toast.success(self.message)

    @rx.event
    async def open_assignments(self, user_id: str):
        principal = await self._admin()
        with session_scope() as session:
            try:
                users = accounts.list_users(session, principal)
            except PermissionDenied as exc:
                self.error = str(exc)
                return
        match = next((u for u in users if str(u.id) == user_id), None)
        if match is None:
            return
        self.assign_user_id = match.id
        self.assign_user_email = match.email
        self.assign_selected = [str(b) for b in match.bot_ids]

    @rx.event
    def toggle_assignment(self, bot_id: str, checked: bool) -> None:
        selected = set(self.assign_selected)
        if checked:
            selected.add(bot_id)
        else:
            selected.discard(bot_id)
        self.assign_selected = sorted(selected)

    @rx.event
    def close_assignments(self) -> None:
        self.assign_user_id = 0

    @rx.event
    def assignments_open_changed(self, is_open: bool) -> None:
        if not is_open:
            self.assign_user_id = 0

    @rx.event
    async def save_assignments(self):
        user_id, bot_ids = self.assign_user_id, [int(b) for b in self.assign_selected]
        await self._act(
            "Bot assignments saved.", lambda s, p: accounts.set_bot_assignments(s, p, user_id, bot_ids)
        )
        if not self.error:
            self.assign_user_id = 0
        return rx.toast.error(self.error) if self.error else rx.toast.success(self.message)


def user_row(user: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.text(user["display_name"], weight="medium"),
                rx.text(user["email"], size="1", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(
            native_select(
                "Role of " + user["email"],
                ROLE_OPTIONS,
                testid="admin-role-" + user["id"],
                value=user["role"],
                show_label=False,
                on_change=lambda value: AdminState.change_role(user["id"], value),
            ),
        ),
        rx.table.cell(rx.text(user["bots"], size="2"), data_testid="admin-bots-" + user["id"]),
        rx.table.cell(rx.text(user["last_login"], size="2")),
        rx.table.cell(
            rx.hstack(
                rx.button(
                    "Assign bots",
                    size="1",
                    variant="soft",
                    on_click=AdminState.open_assignments(user["id"]),
                    data_testid="admin-assign-" + user["id"],
                    aria_label="Assign bots to " + user["email"],
                ),
                rx.button(
                    rx.cond(user["active"] == "yes", "Deactivate", "Reactivate"),
                    size="1",
                    variant="soft",
                    color_scheme=rx.cond(user["active"] == "yes", "red", "green"),
                    on_click=AdminState.toggle_active(user["id"], user["active"]),
                    data_testid="admin-active-" + user["id"],
                ),
                spacing="2",
            )
        ),
        data_testid="admin-user-" + user["id"],
        aria_label=user["email"],
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
                    rx.foreach(
                        AdminState.bots,
                        lambda bot: rx.el.label(
                            rx.hstack(
                                rx.checkbox(
                                    checked=AdminState.assign_selected.contains(bot["id"]),
                                    on_change=lambda checked: AdminState.toggle_assignment(
                                        bot["id"], checked
                                    ),
                                    data_testid="admin-assign-bot-" + bot["id"],
                                ),
                                rx.text(bot["name"]),
                                spacing="2",
                                align="center",
                            ),
                        ),
                    ),
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


def audit_row(e: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(e["at"], size="1")),
        rx.table.cell(e["actor"]),
        rx.table.cell(rx.vstack(rx.code(e["action"]), rx.text(e["summary"], size="1"), spacing="0")),
        rx.table.cell(e["object"]),
        rx.table.cell(rx.text(e["change"], size="1")),
        data_testid="audit-row-" + e["id"],
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
        rx.heading("Users", size="4"),
        data_table(
            ("User", "Role", "Bots", "Last sign-in", "Actions"), AdminState.users, user_row, "admin-users"
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
                rx.button("Search", type="submit", variant="soft"),
            ),
            on_submit=AdminState.search_audit,
        ),
        data_table(("When", "Who", "What", "Object", "Change"), AdminState.audit, audit_row, "audit-log"),
        testid="admin-page",
    )
