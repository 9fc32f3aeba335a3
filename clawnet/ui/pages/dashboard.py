"""Dashboard: every bot the user may see, live; the fleet summary and gateways."""

from __future__ import annotations

import dataclasses
import urllib.parse
from typing import Any

import reflex as rx

from clawnet import routes, runtime
from clawnet.bots.views import CARDS_PER_PAGE, MAX_CARD_SEARCH, BotCard, CardQuery, ChannelBadge, GatewayRow
from clawnet.errors import UserError
from clawnet.events import FleetEvent, Kind
from clawnet.ui import live
from clawnet.ui.components.bot_card import bot_card_body
from clawnet.ui.components.forms import data_table, native_select
from clawnet.ui.components.layout import page_frame
from clawnet.ui.components.status import status_badge
from clawnet.ui.pages.dashboard_controls import kill_switch_buttons, pager
from clawnet.ui.pages.session_filters import replace_url
from clawnet.ui.session import SessionState, current_principal, error_toast
from clawnet.ui.typed import Field, event, field

FILTERS = [
    ("all", "All statuses"),
    ("running", "Running"),
    ("starting", "Starting"),
    ("error", "Error"),
    ("stopped", "Stopped"),
    ("pending", "Pending"),
]
WATCHED = [
    Kind.BOT_STATUS,
    Kind.BOT_DESIRED,
    Kind.CHANNEL_STATUS,
    Kind.SESSION_CHANGED,
    Kind.SESSION_MESSAGE,
    Kind.GATEWAY_STATUS,
    Kind.GATEWAY_METRICS,
    Kind.FLEET_CHANGED,
]
COUNTED = ("running", "starting", "pending", "error", "stopped")
CARDS_TOP = "dashboard-cards-top"  # the element id a page turn scrolls to


class DashboardState(rx.State):
    """One page of bot cards (the server searches, filters and pages: a fleet of thousands sends
    48 cards), live; the summary counts every bot the person may see, live too."""

    cards: Field[list[BotCard]] = field(default_factory=list)
    # Per-bot fields that change often live in small dicts (by bot id), so a status change sends
    # a few bytes to the browser instead of every card again.
    statuses: Field[dict[str, str]] = field(default_factory=dict)
    desired: Field[dict[str, str]] = field(default_factory=dict)
    errors: Field[dict[str, str]] = field(default_factory=dict)
    channels: Field[dict[str, list[ChannelBadge]]] = field(default_factory=dict)
    sessions: Field[dict[str, int]] = field(default_factory=dict)
    activity: Field[dict[str, str]] = field(default_factory=dict)
    summary: Field[dict[str, int]] = field(default_factory=dict)
    gateways: Field[list[GatewayRow]] = field(default_factory=list)
    search: Field[str] = field("")
    status_filter: Field[str] = field("all")
    page: Field[int] = field(1)
    pages: Field[int] = field(1)
    matched: Field[int] = field(0)
    loaded: Field[bool] = field(False)
    _watch_gen: int = 0
    # Every visible bot's status (server side only): the summary's counts, and which events matter.
    _all_statuses: dict[int, str] = {}

    async def _load(self) -> None:
        query = CardQuery(
            search=self.search, status=self.status_filter, page=self.page, per_page=CARDS_PER_PAGE
        )
        overview = await runtime.bots().overview(await current_principal(self), query)
        cards = overview.cards
        self.cards = cards
        self.statuses = {str(c.id): c.status for c in cards}
        self.desired = {str(c.id): c.desired for c in cards}
        self.errors = {str(c.id): c.error for c in cards}
        self.channels = {str(c.id): list(c.channels) for c in cards}
        self.sessions = {str(c.id): c.active_sessions for c in cards}
        self.activity = {str(c.id): c.last_activity for c in cards}
        self.summary = dict(overview.summary)
        self.gateways = overview.gateways
        self._all_statuses = dict(overview.statuses)
        self.page, self.pages, self.matched = overview.page, overview.pages, overview.matched
        self.loaded = True

    async def _reload(self) -> Any:
        """The cards again for the current search, filter and page; the address bar follows."""
        try:
            await self._load()
        except UserError as exc:
            return error_toast(exc)
        return replace_url(routes.DASHBOARD + self._query_string())

    def _query_string(self) -> str:
        params = {"q": self.search.strip(), "status": self.status_filter, "page": self.page}
        kept = {k: v for k, v in params.items() if v not in ("", "all", 1)}
        return "?" + urllib.parse.urlencode(kept) if kept else ""

    @event
    async def on_load(self) -> Any:
        params = dict(self.router.url.query_parameters)
        self.search = str(params.get("q") or "")[:MAX_CARD_SEARCH]
        self.status_filter = _status_choice(params.get("status"))
        self.page = _page_number(params.get("page"))
        try:
            await self._load()
        except UserError:
            return None
        return DashboardState.watch

    def _recount(self) -> None:
        counts = dict.fromkeys(COUNTED, 0)
        for status in self._all_statuses.values():
            counts[status] = counts.get(status, 0) + 1
        self.summary = {**counts, "total": len(self._all_statuses)}

    async def _apply(self, batch: list[FleetEvent]) -> None:
        if any(e.kind == Kind.FLEET_CHANGED for e in batch):
            await self._reload_live()
            return
        recount = refilter = False
        for e in batch:
            bid = str(e.bot_id) if e.bot_id is not None else ""
            if e.kind == Kind.BOT_STATUS and e.bot_id in self._all_statuses:
                status = e.payload["status"]
                before = self._all_statuses[e.bot_id]
                self._all_statuses[e.bot_id] = status
                recount = True
                # A filtered page gains or loses the bot: the page is asked for again.
                refilter |= self.status_filter != "all" and self.status_filter in (before, status)
                if bid in self.statuses:
                    self.statuses[bid] = status
                    self.errors[bid] = e.payload.get("error", "")
            elif e.kind == Kind.BOT_DESIRED and bid in self.desired:
                self.desired[bid] = e.payload["desired"]
            elif e.kind == Kind.CHANNEL_STATUS and bid in self.channels:
                kept = [c for c in self.channels[bid] if c.type != e.payload["channel"]]
                badge = ChannelBadge(e.payload["channel"], e.payload["status"])
                self.channels[bid] = sorted([*kept, badge], key=lambda c: c.type)
            elif e.kind in (Kind.SESSION_MESSAGE, Kind.SESSION_CHANGED) and bid in self.activity:
                self.activity[bid] = "just now"
            elif e.kind in (Kind.GATEWAY_STATUS, Kind.GATEWAY_METRICS):
                self.gateways = [
                    _gateway_update(gw, e) if gw.id == e.gateway_id else gw for gw in self.gateways
                ]
        if refilter:
            await self._reload_live()
        elif recount:
            self._recount()

    async def _reload_live(self) -> None:
        """The page again from a live update; nothing shown if the person lost the fleet pages."""
        try:
            await self._load()
        except UserError:
            self.cards, self.gateways, self._all_statuses = [], [], {}

    def _scope(self) -> tuple[set[int], set[int]]:
        return set(self._all_statuses), {g.id for g in self.gateways}

    @event(background=True)
    async def watch(self) -> None:
        async with self:
            self._watch_gen += 1
            bots, gateways = self._scope()
        # What this browser may see; refreshed whenever the fleet changes.
        scope = {"bots": bots, "gateways": gateways}

        def relevant(event: FleetEvent) -> bool:
            if event.kind == Kind.FLEET_CHANGED:
                return True
            if event.bot_id is not None:
                return event.bot_id in scope["bots"]
            return event.gateway_id in scope["gateways"]

        async def apply(batch: list[FleetEvent]) -> None:
            await self._apply(batch)
            scope["bots"], scope["gateways"] = self._scope()

        await live.follow(
            self,
            kinds=WATCHED,
            where=relevant,
            apply=apply,
            generation=lambda: self._watch_gen,
            on_page=lambda path: path == routes.DASHBOARD,
        )

    @event
    async def search_bots(self, value: str) -> Any:
        self.search = str(value)[:MAX_CARD_SEARCH]
        self.page = 1
        return await self._reload()

    @event
    async def filter_by_status(self, value: str) -> Any:
        self.status_filter = _status_choice(value)
        self.page = 1
        return await self._reload()

    async def _turn_page(self, page: int) -> Any:
        self.page = page
        # The pager sits under the cards: the new page is read from its top.
        return [await self._reload(), rx.scroll_to(CARDS_TOP)]

    @event
    async def go_to_page(self, page: int) -> Any:
        return await self._turn_page(_page_number(page))

    @event
    async def next_page(self) -> Any:
        return await self._turn_page(min(self.page + 1, max(self.pages, 1)))

    @event
    async def previous_page(self) -> Any:
        return await self._turn_page(max(self.page - 1, 1))

    async def _operate(self, bot_id: int, running: bool) -> Any:
        try:
            await runtime.bots().set_running(await current_principal(self), int(bot_id), running)
        except UserError as exc:
            return error_toast(exc)
        except ValueError:
            return rx.toast.error("No such bot.")
        self.desired[str(bot_id)] = "running" if running else "stopped"
        return rx.toast.info("Starting…" if running else "Stopping…")

    @event
    async def start_bot(self, bot_id: int) -> Any:
        return await self._operate(bot_id, True)

    @event
    async def stop_bot(self, bot_id: int) -> Any:
        return await self._operate(bot_id, False)

    async def _kill_switch(self, on: bool, fleet: bool) -> Any:
        try:
            principal = await current_principal(self)
            changed = await runtime.bots().kill_switch(principal, on, fleet=fleet)
            held = 0 if on or fleet else (await runtime.bots().kill_switch_state(principal))[0]
        except UserError as exc:
            return error_toast(exc)
        await self._load()
        message = f"{'Paused' if on else 'Resumed'} {changed} bots."
        if held:  # an owner's resume leaves the admin's fleet pause in place
            message += f" {held} stay paused by the fleet kill switch until an admin resumes the fleet."
        return rx.toast.info(message)

    @event
    async def pause_all(self) -> Any:
        return await self._kill_switch(True, False)

    @event
    async def resume_all(self) -> Any:
        return await self._kill_switch(False, False)

    @event
    async def pause_fleet(self) -> Any:
        return await self._kill_switch(True, True)

    @event
    async def resume_fleet(self) -> Any:
        return await self._kill_switch(False, True)

    @event(background=True)
    async def restart_bot(self, bot_id: int) -> Any:
        async with self:
            principal = await current_principal(self)
        try:
            await runtime.bots().restart_bot(principal, int(bot_id))
        except UserError as exc:
            return error_toast(exc)
        except ValueError:
            return rx.toast.error("No such bot.")
        return None


def _status_choice(value: Any) -> str:
    return value if isinstance(value, str) and value in {f for f, _ in FILTERS} else "all"


def _page_number(value: Any) -> int:
    try:
        return min(max(int(value), 1), 1_000_000)
    except (TypeError, ValueError, OverflowError):
        return 1


def _gateway_update(gw: GatewayRow, e: FleetEvent) -> GatewayRow:
    if e.kind == Kind.GATEWAY_STATUS:
        return dataclasses.replace(gw, status=e.payload["status"], detail=e.payload.get("detail", ""))
    return dataclasses.replace(gw, memory=f"{e.payload['rss_bytes'] / 2**30:.2f} GB")


@rx.memo
def memo_bot_card(
    card: rx.Var[BotCard],
    status: rx.Var[str],
    desired: rx.Var[str],
    error: rx.Var[str],
    channels: rx.Var[list[ChannelBadge]],
    sessions: rx.Var[int],
    activity: rx.Var[str],
) -> rx.Component:
    return bot_card_body(card, status, desired, error, channels, sessions, activity, DashboardState)


def bot_card(card: Any) -> rx.Component:
    """A card, memoized: one bot's status change re-renders only that card."""
    bot_id = card.id
    return memo_bot_card(
        card=card,
        status=DashboardState.statuses[bot_id],
        desired=DashboardState.desired[bot_id],
        error=DashboardState.errors[bot_id],
        channels=DashboardState.channels[bot_id],
        sessions=DashboardState.sessions[bot_id],
        activity=DashboardState.activity[bot_id],
    )


def summary_item(label: str, key: str, color: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(label, size="1", color_scheme="gray"),
            rx.heading(DashboardState.summary.get(key, 0), size="6", color_scheme=color),
            spacing="0",
        ),
        data_testid=f"fleet-summary-{key}",
        aria_label=label,
        min_width=rx.breakpoints(initial="5.5em", sm="7em"),
    )


def gateway_row(gw: Any) -> rx.Component:
    gid = gw.id.to_string()
    return rx.table.row(
        rx.table.cell(gw.name),
        rx.table.cell(status_badge(gw.status, "gateway-status-" + gid)),
        rx.table.cell(gw.bots),
        rx.table.cell(gw.memory, data_testid="gateway-memory-" + gid),
        rx.table.cell(rx.text(gw.detail, size="1", color_scheme="gray")),
        data_testid="gateway-row-" + gid,
    )


@rx.page(
    route=routes.DASHBOARD,
    title="Dashboard · ClawNet",
    on_load=[SessionState.require_fleet, DashboardState.on_load],
)
def dashboard_page() -> rx.Component:
    return page_frame(
        "Dashboard",
        rx.hstack(
            summary_item("Bots", "total", "gray"),
            summary_item("Running", "running", "green"),
            summary_item("Starting", "starting", "amber"),
            summary_item("Errors", "error", "red"),
            summary_item("Stopped", "stopped", "gray"),
            spacing="3",
            wrap="wrap",
            data_testid="fleet-summary",
        ),
        rx.hstack(
            rx.input(
                placeholder="Search bots by name, id or channel",
                value=DashboardState.search,
                on_change=DashboardState.search_bots,
                aria_label="Search bots",
                data_testid="dashboard-search",
                width=rx.breakpoints(initial="100%", sm="22em"),
            ),
            native_select(
                "Filter by status",
                FILTERS,
                testid="dashboard-status-filter",
                value=DashboardState.status_filter,
                on_change=DashboardState.filter_by_status,
                show_label=False,
            ),
            spacing="3",
            align="center",
            wrap="wrap",
            id=CARDS_TOP,
        ),
        rx.cond(
            DashboardState.loaded & (DashboardState.summary.get("total", 0) == 0),
            rx.callout(
                rx.hstack(
                    rx.text("No bots yet."),
                    rx.cond(
                        SessionState.can_create_bots, rx.link("Create your first bot", href=routes.NEW_BOT)
                    ),
                    spacing="2",
                ),
                icon="bot",
                data_testid="dashboard-empty",
            ),
        ),
        rx.cond(
            DashboardState.loaded
            & (DashboardState.summary.get("total", 0) > 0)
            & (DashboardState.matched == 0),
            rx.callout(
                "No bot matches this search and filter.",
                icon="search",
                data_testid="dashboard-no-match",
            ),
        ),
        rx.grid(
            rx.foreach(DashboardState.cards, bot_card),
            columns=rx.breakpoints(initial="1", sm="2", lg="3"),
            spacing="4",
            width="100%",
            data_testid="bot-cards",
        ),
        pager(DashboardState),
        rx.heading("Gateways", size="4"),
        data_table(
            ("Gateway", "Status", "Bots", "Memory", "Detail"),
            DashboardState.gateways,
            gateway_row,
            "gateways-table",
        ),
        testid="dashboard-page",
        actions=rx.cond(
            SessionState.can_create_bots,
            rx.hstack(
                kill_switch_buttons(DashboardState),
                rx.link(rx.button("New bot", data_testid="dashboard-new-bot"), href=routes.NEW_BOT),
                spacing="2",
                wrap="wrap",
            ),
        ),
    )
