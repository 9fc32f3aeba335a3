"""Access requests (`/access`): strangers waiting to talk to any bot the person may see (DM
pairing), newest first, arriving live without a reload. Approve (optionally telling the sender)
or dismiss; people who may only view a bot see its requests marked "view only"."""

from __future__ import annotations

import asyncio
from typing import Any

import reflex as rx

from clawnet import routes, runtime
from clawnet.bots.access_views import AccessRequestView
from clawnet.errors import UserError
from clawnet.events import FleetEvent, Kind
from clawnet.ui import live
from clawnet.ui.components.access import message_note, notify_switch, request_headers, request_row
from clawnet.ui.components.forms import data_table
from clawnet.ui.components.layout import page_frame
from clawnet.ui.session import SessionState, current_principal, error_toast
from clawnet.ui.typed import Field, event, field

AGES_EVERY_S = 30.0  # "3 min ago" and "expires in 57 min" are recomputed this often


class AccessState(rx.State):
    requests: Field[list[AccessRequestView]] = field(default_factory=list)
    notify: Field[bool] = field(True)
    loaded: Field[bool] = field(False)
    _watch_gen: int = 0

    @rx.var
    def decides_any(self) -> bool:
        return any(r.can_decide for r in self.requests)

    @rx.var
    def only_views(self) -> bool:
        return bool(self.requests) and not any(r.can_decide for r in self.requests)

    async def _reload(self) -> None:
        self.requests = await runtime.bots().access_requests(await current_principal(self))
        self.loaded = True

    @event
    async def on_load(self) -> Any:
        try:
            await self._reload()
        except UserError as exc:
            return error_toast(exc)
        return [AccessState.watch, AccessState.tick]

    @event
    async def set_notify(self, value: bool) -> None:
        self.notify = bool(value)

    @event(background=True)
    async def watch(self) -> None:
        async with self:
            self._watch_gen += 1

        async def apply(_batch: list[FleetEvent]) -> None:
            await self._reload()

        await live.follow(
            self,
            kinds=[Kind.ACCESS_REQUESTS, Kind.FLEET_CHANGED],
            where=lambda _e: True,
            apply=apply,
            generation=lambda: self._watch_gen,
            on_page=lambda path: path in (routes.ACCESS, routes.INBOX),
        )

    @event(background=True)
    async def tick(self) -> None:
        """Keep ages and expiry times current while the page is open."""
        async with self:
            generation = self._watch_gen
            token = self.router.session.client_token
        while True:
            await asyncio.sleep(AGES_EVERY_S)
            if not live.client_connected(token):
                return
            async with self:
                path = (self.router.url.path or "/").rstrip("/") or "/"
                if self._watch_gen != generation or path not in (routes.ACCESS, routes.INBOX):
                    return
                await self._reload()

    async def _decide(self, request_id: Any, approve: bool) -> Any:
        async with self:
            actor = await current_principal(self)
            notify = self.notify
        bots = runtime.bots()
        try:
            rid = int(request_id)
            if approve:
                message = await bots.approve_access(actor, rid, notify=notify)
            else:
                message = await bots.dismiss_access(actor, rid)
            toast = rx.toast.success(message)
        except UserError as exc:
            toast = error_toast(exc)
        except (TypeError, ValueError):
            toast = rx.toast.error("No such request.")
        async with self:
            await self._reload()
        return toast

    @event(background=True)
    async def approve(self, request_id: int) -> Any:
        return await self._decide(request_id, True)

    @event(background=True)
    async def dismiss(self, request_id: int) -> Any:
        return await self._decide(request_id, False)


def inbox() -> rx.Component:
    s = AccessState
    return rx.vstack(
        rx.hstack(
            rx.text(
                "People who wrote to a bot whose DMs need approval. Approving lets them talk to the "
                "bot on that channel; dismissing drops the request (they may ask again).",
                size="2",
            ),
            width="100%",
        ),
        rx.cond(s.decides_any, notify_switch(s.notify, s.set_notify, "access-notify")),
        rx.cond(
            s.only_views,
            rx.callout(
                "You can see these requests but not decide them: that takes the right to configure "
                "the bot (its owner, an operator assigned to it, or an admin).",
                icon="eye",
                size="1",
                data_testid="access-view-only-note",
            ),
        ),
        message_note(),
        rx.cond(
            s.requests.length() == 0,
            rx.cond(
                s.loaded,
                rx.text("No one is waiting.", color_scheme="gray", data_testid="access-empty"),
            ),
            data_table(
                request_headers(True),
                s.requests,
                lambda r: request_row(r, s.approve, s.dismiss, show_bot=True),
                "access-requests",
            ),
        ),
        spacing="3",
        width="100%",
    )


@rx.page(
    route=routes.ACCESS,
    title="Access requests · ClawNet",
    on_load=[SessionState.require_fleet, AccessState.on_load],
)
def access_page() -> rx.Component:
    return page_frame("Access requests", inbox(), testid="access-page")
