"""Operating sessions: on a bot's Sessions tab (new session, and for the open one rename, reset,
compact, delete, abort its running turn, reply into its channel as the operator) and on /sessions
(a row's menu: reset, compact, abort, delete).

Each control calls the bots service, which checks the person may operate the bot; the list and
the transcript then follow the session events like any other change.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import runtime
from clawnet.bots.session_ops import can_reply
from clawnet.errors import UserError
from clawnet.events import FleetEvent
from clawnet.security.permissions import Principal
from clawnet.ui.components.forms import field_error
from clawnet.ui.pages.bot_detail.sessions import BotSessionsState
from clawnet.ui.pages.bot_detail.state import BotDetailState, part
from clawnet.ui.session import current_principal, error_toast
from clawnet.ui.typed import Field, event, field

CONFIRMABLE = ("reset", "delete")


@part("sessions")
class SessionActionsState(BotSessionsState):
    label_error: Field[str] = field("")  # the new session's name
    rename_error: Field[str] = field("")
    reply_error: Field[str] = field("")
    confirming: Field[str] = field("")  # "reset" | "delete" | ""

    async def _load_part(self, actor: Principal | None) -> None:
        self.label_error = self.rename_error = self.reply_error = self.confirming = ""

    async def _follow_part(self, batch: list[FleetEvent], actor: Principal | None) -> None:
        """The sessions part follows the events; nothing more to do here."""

    @rx.var
    def open_label(self) -> str:
        return next((s.label for s in self.sessions if s.id == self.selected_session), "")

    @rx.var
    def open_title(self) -> str:
        row = next((s for s in self.sessions if s.id == self.selected_session), None)
        if row is None:
            return ""
        return row.label or f"{row.channel} · {row.peer}"

    @rx.var
    def open_channel(self) -> str:
        """The channel a reply to the open session goes through ("" when none carries it)."""
        row = next((s for s in self.sessions if s.id == self.selected_session), None)
        return row.channel if row is not None and can_reply(row.key) else ""

    async def _refresh(self, actor: Principal | None, open_id: int | None = None) -> None:
        await self._reload_list(actor, len(self.sessions))
        wanted = self.selected_session if open_id is None else open_id
        if wanted not in [s.id for s in self.sessions]:
            wanted = self.sessions[0].id if self.sessions else 0
        await self._open(actor, wanted)

    @event
    async def new_session(self, form: dict[str, Any]) -> Any:
        actor = await current_principal(self)
        try:
            session_id = await runtime.bots().new_session(actor, self.current_bot, str(form.get("label", "")))
        except UserError as exc:
            self.label_error = exc.field_errors.get("label", "")
            return None if self.label_error else error_toast(exc)
        self.label_error = ""
        await self._refresh(actor, session_id)
        return rx.toast.success("New session started.")

    @event
    async def rename(self, form: dict[str, Any]) -> Any:
        actor = await current_principal(self)
        try:
            await runtime.bots().rename_session(actor, self.selected_session, str(form.get("label", "")))
        except UserError as exc:
            self.rename_error = exc.field_errors.get("label", "")
            return None if self.rename_error else error_toast(exc)
        self.rename_error = ""
        await self._refresh(actor)
        return rx.toast.success("Session renamed.")

    @event
    def ask(self, what: str) -> None:
        self.confirming = what if what in CONFIRMABLE else ""

    @event
    def cancel(self) -> None:
        self.confirming = ""

    @event
    async def confirm(self) -> Any:
        what, self.confirming = self.confirming, ""
        actor = await current_principal(self)
        try:
            if what == "reset":
                await runtime.bots().reset_session(actor, self.selected_session)
            elif what == "delete":
                await runtime.bots().delete_session(actor, self.selected_session)
            else:
                return None
        except UserError as exc:
            return error_toast(exc)
        await self._refresh(actor, 0 if what == "delete" else None)
        return rx.toast.success("Session reset." if what == "reset" else "Session deleted.")

    @event
    async def compact(self) -> Any:
        try:
            said = await runtime.bots().compact_session(await current_principal(self), self.selected_session)
        except UserError as exc:
            return error_toast(exc)
        return rx.toast.success(said)

    @event
    async def abort(self) -> Any:
        try:
            stopped = await runtime.bots().abort_session(await current_principal(self), self.selected_session)
        except UserError as exc:
            return error_toast(exc)
        return rx.toast.success("The running turn was stopped." if stopped else "Nothing was running.")

    @event
    async def reply(self, form: dict[str, Any]) -> Any:
        actor = await current_principal(self)
        try:
            await runtime.bots().reply_as_operator(actor, self.selected_session, str(form.get("reply", "")))
        except UserError as exc:
            self.reply_error = exc.field_errors.get("reply", "")
            return None if self.reply_error else error_toast(exc)
        self.reply_error = ""
        await self._reload_transcript(actor)
        return rx.toast.success("Reply sent.")


def new_session_form() -> rx.Component:
    s = SessionActionsState
    return rx.form(
        rx.hstack(
            rx.input(
                name="label",
                placeholder="Name (optional)",
                aria_label="New session's name",
                aria_invalid=rx.cond(s.label_error != "", "true", "false"),
                data_testid="session-new-label",
                size="1",
            ),
            rx.button("New session", type="submit", size="1", variant="soft", data_testid="session-new"),
            spacing="2",
        ),
        field_error(s.label_error, "session-new-label"),
        on_submit=s.new_session,
        reset_on_submit=True,
        aria_label="Start a new session",
    )


def _action(label: str, handler: Any, testid: str, **props: Any) -> rx.Component:
    return rx.button(label, on_click=handler, size="1", variant="soft", data_testid=testid, **props)


def confirm_bar() -> rx.Component:
    s = SessionActionsState
    return rx.cond(
        s.confirming != "",
        rx.callout.root(
            rx.hstack(
                rx.text(
                    rx.cond(
                        s.confirming == "delete",
                        "Delete “" + s.open_title + "” and its transcript?",
                        "Reset “" + s.open_title + "”? The bot forgets the conversation.",
                    ),
                    size="2",
                ),
                rx.button(
                    "Yes", on_click=s.confirm, size="1", color_scheme="red", data_testid="session-confirm"
                ),
                rx.button(
                    "Cancel", on_click=s.cancel, size="1", variant="soft", data_testid="session-cancel"
                ),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
            color_scheme="orange",
            role="alertdialog",
            data_testid="session-confirm-bar",
        ),
    )


def reply_form() -> rx.Component:
    s = SessionActionsState
    return rx.cond(
        s.open_channel != "",
        rx.form(
            rx.hstack(
                rx.input(
                    name="reply",
                    placeholder="Reply in " + s.open_channel + " as the operator",
                    aria_label="Reply as the operator",
                    aria_invalid=rx.cond(s.reply_error != "", "true", "false"),
                    data_testid="session-reply-input",
                    width="100%",
                    auto_complete="off",
                ),
                rx.button("Reply", type="submit", variant="soft", data_testid="session-reply-send"),
                width="100%",
            ),
            field_error(s.reply_error, "session-reply-input"),
            on_submit=s.reply,
            reset_on_submit=True,
            width="100%",
            aria_label="Reply into the conversation as the operator",
        ),
    )


def session_actions() -> rx.Component:
    """The Sessions tab's controls (operators and admins of the bot only)."""
    s = SessionActionsState
    return rx.cond(
        BotDetailState.header.can_operate,
        rx.vstack(
            new_session_form(),
            rx.cond(
                s.selected_session != 0,
                rx.vstack(
                    rx.form(
                        rx.hstack(
                            rx.input(
                                name="label",
                                default_value=s.open_label,
                                key=s.selected_session.to_string(),
                                placeholder="Name this session",
                                aria_label="Session name",
                                aria_invalid=rx.cond(s.rename_error != "", "true", "false"),
                                data_testid="session-rename-input",
                                size="1",
                            ),
                            rx.button(
                                "Rename",
                                type="submit",
                                size="1",
                                variant="soft",
                                data_testid="session-rename",
                            ),
                            spacing="2",
                        ),
                        field_error(s.rename_error, "session-rename-input"),
                        on_submit=s.rename,
                        aria_label="Rename the session",
                    ),
                    rx.hstack(
                        _action("Reset…", s.ask("reset"), "session-reset"),
                        _action("Compact", s.compact, "session-compact"),
                        _action("Abort turn", s.abort, "session-abort", color_scheme="orange"),
                        _action("Delete…", s.ask("delete"), "session-delete", color_scheme="red"),
                        spacing="2",
                        wrap="wrap",
                    ),
                    confirm_bar(),
                    spacing="2",
                    width="100%",
                ),
            ),
            spacing="2",
            width="100%",
            data_testid="session-actions",
        ),
    )


# --- /sessions -------------------------------------------------------------------------------
# The list's page (`fleet_lists`) shows these and passes its reload event, so that this module
# needs nothing from it.


class SessionRowActionsState(rx.State):
    confirm_id: Field[int] = field(0)
    confirm_what: Field[str] = field("")

    @event
    def ask(self, session_id: int, what: str) -> None:
        try:
            self.confirm_id, self.confirm_what = int(session_id), (what if what in CONFIRMABLE else "")
        except ValueError:
            self.confirm_id, self.confirm_what = 0, ""

    @event
    def cancel(self) -> None:
        self.confirm_id, self.confirm_what = 0, ""

    @event
    async def run(self, session_id: int, what: str) -> Any:
        self.confirm_id, self.confirm_what = 0, ""
        actor, bots = await current_principal(self), runtime.bots()
        try:
            sid = int(session_id)
            if what == "reset":
                await bots.reset_session(actor, sid)
                said = "Session reset."
            elif what == "delete":
                await bots.delete_session(actor, sid)
                said = "Session deleted."
            elif what == "compact":
                said = await bots.compact_session(actor, sid)
            elif what == "abort":
                stopped = await bots.abort_session(actor, sid)
                said = "The running turn was stopped." if stopped else "Nothing was running."
            else:
                return None
        except UserError as exc:
            return error_toast(exc)
        except ValueError:
            return None
        return rx.toast.success(said)


def row_confirm_bar(reload: Any) -> rx.Component:
    """Asks before a /sessions row is reset or deleted; `reload` refreshes the list after."""
    s = SessionRowActionsState
    return rx.cond(
        s.confirm_id != 0,
        rx.callout.root(
            rx.hstack(
                rx.text(
                    rx.cond(
                        s.confirm_what == "delete",
                        "Delete this session and its transcript?",
                        "Reset this session? The bot forgets the conversation.",
                    ),
                    size="2",
                ),
                rx.button(
                    "Yes",
                    on_click=[s.run(s.confirm_id, s.confirm_what), reload],
                    size="1",
                    color_scheme="red",
                    data_testid="sessions-confirm",
                ),
                rx.button(
                    "Cancel", on_click=s.cancel, size="1", variant="soft", data_testid="sessions-cancel"
                ),
                spacing="2",
                align="center",
            ),
            color_scheme="orange",
            role="alertdialog",
            data_testid="sessions-confirm-bar",
        ),
    )


def row_menu(row: Any, reload: Any) -> rx.Component:
    """A /sessions row's actions, for operators and admins (the service checks each bot)."""
    s = SessionRowActionsState
    sid = row.id.to_string()

    def button(label: str, on_click: Any, testid: str, **props: Any) -> rx.Component:
        return rx.button(
            label,
            on_click=on_click,
            size="1",
            variant="ghost",
            aria_label=label.rstrip("…") + " session " + row.key,
            data_testid=testid + sid,
            **props,
        )

    return rx.cond(
        row.can_operate,
        rx.hstack(
            button("Reset…", s.ask(row.id, "reset"), "sessions-reset-"),
            button("Compact", [s.run(row.id, "compact"), reload], "sessions-compact-"),
            button("Abort", [s.run(row.id, "abort"), reload], "sessions-abort-", color_scheme="orange"),
            button("Delete…", s.ask(row.id, "delete"), "sessions-delete-", color_scheme="red"),
            spacing="1",
            data_testid="sessions-actions-" + sid,
        ),
    )
