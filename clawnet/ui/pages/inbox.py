"""The inbox (`/inbox`): everything the fleet waits on the person for, in one place. Exec and
plugin approvals the bots' gateways raised (what the bot wants to run, in which session, until
when), answered with Approve once / Always allow (when OpenClaw offers it) / Deny, and the DM
access requests of `/access` below them. Both arrive and leave live; an approval leaves the
pending list when it is answered anywhere or when OpenClaw's expiry passes. Works on a phone."""

from __future__ import annotations

import asyncio
from typing import Any

import reflex as rx

from clawnet import routes, runtime
from clawnet.bots.approval_views import ApprovalView
from clawnet.errors import UserError
from clawnet.events import FleetEvent, Kind
from clawnet.ui import live
from clawnet.ui.components.layout import page_frame
from clawnet.ui.pages.access import AccessState
from clawnet.ui.pages.access import inbox as access_inbox
from clawnet.ui.session import SessionState, current_principal, error_toast
from clawnet.ui.typed import Field, event, field

REFRESH_EVERY_S = 10.0  # ages, and approvals whose expiry passed leave the list


class InboxState(rx.State):
    approvals: Field[list[ApprovalView]] = field(default_factory=list)
    history: Field[list[ApprovalView]] = field(default_factory=list)
    loaded: Field[bool] = field(False)
    _watch_gen: int = 0

    async def _reload(self) -> None:
        actor = await current_principal(self)
        bots = runtime.bots()
        self.approvals = await bots.approvals(actor)
        self.history = await bots.approval_history(actor)
        self.loaded = True

    @event
    async def on_load(self) -> Any:
        try:
            await self._reload()
        except UserError as exc:
            return error_toast(exc)
        return [InboxState.watch, InboxState.tick]

    @event(background=True)
    async def watch(self) -> None:
        async with self:
            self._watch_gen += 1

        async def apply(_batch: list[FleetEvent]) -> None:
            await self._reload()

        await live.follow(
            self,
            kinds=[Kind.APPROVALS, Kind.FLEET_CHANGED],
            where=lambda _e: True,
            apply=apply,
            generation=lambda: self._watch_gen,
            on_page=lambda path: path == routes.INBOX,
        )

    @event(background=True)
    async def tick(self) -> None:
        async with self:
            generation = self._watch_gen
            token = self.router.session.client_token
        while True:
            await asyncio.sleep(REFRESH_EVERY_S)
            if not live.client_connected(token):
                return
            async with self:
                path = (self.router.url.path or "/").rstrip("/") or "/"
                if self._watch_gen != generation or path != routes.INBOX:
                    return
                await self._reload()

    async def _answer(self, approval: Any, decision: str) -> Any:
        async with self:
            actor = await current_principal(self)
        try:
            toast = rx.toast.success(await runtime.bots().resolve_approval(actor, int(approval), decision))
        except UserError as exc:
            toast = error_toast(exc)
        except (TypeError, ValueError):
            toast = rx.toast.error("No such approval.")
        async with self:
            await self._reload()
        return toast

    @event(background=True)
    async def approve_once(self, approval: int) -> Any:
        return await self._answer(approval, "allow-once")

    @event(background=True)
    async def approve_always(self, approval: int) -> Any:
        return await self._answer(approval, "allow-always")

    @event(background=True)
    async def deny(self, approval: int) -> Any:
        return await self._answer(approval, "deny")


def _what(a: Any, aid: Any) -> rx.Component:
    return rx.code(
        a.what,
        size="2",
        white_space="pre-wrap",
        word_break="break-all",
        data_testid="approval-what-" + aid,
    )


def _buttons(a: Any, aid: Any) -> rx.Component:
    s = InboxState
    return rx.cond(
        a.can_decide,
        rx.flex(
            rx.button(
                "Approve once",
                size="2",
                on_click=s.approve_once(a.id),
                data_testid="approval-approve-" + aid,
                aria_label="Approve once: " + a.what,
            ),
            rx.cond(
                a.can_always,
                rx.button(
                    "Always allow",
                    size="2",
                    variant="soft",
                    on_click=s.approve_always(a.id),
                    data_testid="approval-always-" + aid,
                    aria_label="Always allow: " + a.what,
                ),
            ),
            rx.button(
                "Deny",
                size="2",
                color_scheme="red",
                variant="soft",
                on_click=s.deny(a.id),
                data_testid="approval-deny-" + aid,
                aria_label="Deny: " + a.what,
            ),
            gap="2",
            wrap="wrap",
        ),
        rx.text("view only", size="1", color_scheme="gray", data_testid="approval-view-only-" + aid),
    )


def approval_card(a: Any) -> rx.Component:
    aid = a.id.to_string()
    return rx.card(
        rx.vstack(
            rx.flex(
                rx.link(a.bot_name, href=routes.bot_detail(a.bot_id), weight="medium"),
                rx.badge(a.kind, variant="soft", data_testid="approval-kind-" + aid),
                rx.text(a.requested, size="1", color_scheme="gray", title=a.requested_at),
                gap="2",
                wrap="wrap",
                align="center",
            ),
            _what(a, aid),
            rx.cond(
                a.detail != "", rx.text(a.detail, size="1", color_scheme="gray", word_break="break-word")
            ),
            rx.cond(
                a.session_key != "",
                rx.text("session " + a.session_key, size="1", color_scheme="gray", word_break="break-all"),
            ),
            rx.cond(
                a.expires != "",
                rx.text(
                    "expires " + a.expires,
                    size="1",
                    title=a.expires_at,
                    data_testid="approval-expires-" + aid,
                ),
            ),
            _buttons(a, aid),
            spacing="2",
            width="100%",
            align="start",
        ),
        width="100%",
        data_testid="approval-card-" + aid,
    )


def history_row(a: Any) -> rx.Component:
    aid = a.id.to_string()
    return rx.flex(
        rx.badge(a.state, variant="soft", data_testid="approval-state-" + aid),
        rx.text(a.bot_name, size="2", weight="medium"),
        rx.code(a.what, size="1", word_break="break-all"),
        rx.text(a.outcome, size="1", color_scheme="gray", data_testid="approval-outcome-" + aid),
        gap="2",
        wrap="wrap",
        align="center",
        width="100%",
        data_testid="approval-history-row-" + aid,
    )


def counts() -> rx.Component:
    return rx.flex(
        rx.badge(
            "Approvals: " + InboxState.approvals.length().to(str),
            size="2",
            color_scheme="orange",
            data_testid="inbox-approvals-count",
        ),
        rx.badge(
            "Access requests: " + AccessState.requests.length().to(str),
            size="2",
            color_scheme="orange",
            data_testid="inbox-access-count",
        ),
        gap="2",
        wrap="wrap",
    )


def inbox_body() -> rx.Component:
    s = InboxState
    return rx.vstack(
        counts(),
        rx.heading("Approvals", size="4"),
        rx.text(
            "Commands and plugin actions your bots want to run and that need a yes first. "
            "Unanswered ones expire when OpenClaw says (the bot is then told no).",
            size="2",
        ),
        rx.cond(
            s.approvals.length() == 0,
            rx.cond(
                s.loaded,
                rx.text(
                    "Nothing waits for approval.", color_scheme="gray", data_testid="inbox-approvals-empty"
                ),
            ),
            rx.vstack(
                rx.foreach(s.approvals, approval_card),
                spacing="3",
                width="100%",
                data_testid="inbox-approvals",
            ),
        ),
        rx.cond(
            s.history.length() > 0,
            rx.el.details(
                rx.el.summary("Recently answered or expired", data_testid="approval-history-toggle"),
                rx.vstack(rx.foreach(s.history, history_row), spacing="2", width="100%", padding_top="0.5em"),
                data_testid="approval-history",
            ),
        ),
        rx.heading("Access requests", size="4"),
        rx.box(access_inbox(), width="100%", overflow_x="auto"),
        spacing="3",
        width="100%",
        min_width="0",
    )


@rx.page(
    route=routes.INBOX,
    title="Inbox · ClawNet",
    on_load=[SessionState.require_fleet, InboxState.on_load, AccessState.on_load],
)
def inbox_page() -> rx.Component:
    return page_frame("Inbox", inbox_body(), testid="inbox-page")
