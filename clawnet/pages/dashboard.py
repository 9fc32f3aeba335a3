"""Dashboard: every bot the user may see, live; the fleet summary and gateways."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import live, routes, runtime
from clawnet.bots import queries
from clawnet.bots.service import NotFound
from clawnet.components.bot_card import bot_card_body
from clawnet.components.forms import data_table, native_select
from clawnet.components.layout import page_frame
from clawnet.components.status import status_badge
from clawnet.db import session_scope
from clawnet.events.bus import FleetEvent, Kind
from clawnet.security.permissions import PermissionDenied
from clawnet.state import SessionState, current_principal

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


class DashboardState(rx.State):
    cards: list[dict[str, str]] = []
    # Per-bot fields that change often live in small dicts, so a status change sends a few
    # bytes to the browser instead of every card again.
    statuses: dict[str, str] = {}
    desired: dict[str, str] = {}
    errors: dict[str, str] = {}
    channels: dict[str, str] = {}
    sessions: dict[str, str] = {}
    activity: dict[str, str] = {}
    summary: dict[str, str] = {}
    gateways: list[dict[str, str]] = []
    search: str = ""
    status_filter: str = "all"
    loaded: bool = False
    _watch_gen: int = 0

    def _load(self, principal: Any) -> None:
        with session_scope() as session:
            overview = queries.fleet_overview(session, principal)
        cards = overview["cards"]
        self.cards = cards
        self.statuses = {c["id"]: c["status"] for c in cards}
        self.desired = {c["id"]: c["desired"] for c in cards}
        self.errors = {c["id"]: c["error"] for c in cards}
        self.channels = {c["id"]: c["channel_list"] for c in cards}
        self.sessions = {c["id"]: c["sessions"] for c in cards}
        self.activity = {c["id"]: c["last_activity"] for c in cards}
        self.summary = overview["summary"]
        self.gateways = overview["gateways"]
        self.loaded = True

    @rx.event
    async def on_load(self):
        principal = await current_principal(self)
        if principal is None:
            return None
        try:
            self._load(principal)
        except PermissionDenied:
            return None
        return DashboardState.watch

    def _recount(self) -> None:
        counts = dict.fromkeys(("running", "starting", "pending", "error", "stopped"), 0)
        for status in self.statuses.values():
            counts[status] = counts.get(status, 0) + 1
        self.summary = {k: str(v) for k, v in counts.items()} | {"total": str(len(self.statuses))}

    async def _apply(self, batch: list[FleetEvent]) -> None:
        if any(e.kind == Kind.FLEET_CHANGED for e in batch):
            principal = await current_principal(self)
            if principal is not None:
                self._load(principal)
            return
        recount = False
        for event in batch:
            bid = str(event.bot_id) if event.bot_id is not None else ""
            if event.kind == Kind.BOT_STATUS and bid in self.statuses:
                self.statuses[bid] = event.payload["status"]
                self.errors[bid] = event.payload.get("error", "")
                recount = True
            elif event.kind == Kind.BOT_DESIRED and bid in self.desired:
                self.desired[bid] = event.payload["desired"]
            elif event.kind == Kind.CHANNEL_STATUS and bid in self.channels:
                parts = [
                    p
                    for p in self.channels[bid].split(",")
                    if p and not p.startswith(event.payload["channel"] + "|")
                ]
                self.channels[bid] = ",".join(
                    sorted([*parts, f"{event.payload['channel']}|{event.payload['status']}"])
                )
            elif event.kind in (Kind.SESSION_MESSAGE, Kind.SESSION_CHANGED) and bid in self.activity:
                self.activity[bid] = "just now"
            elif event.kind in (Kind.GATEWAY_STATUS, Kind.GATEWAY_METRICS):
                updated = []
                for gw in self.gateways:
                    gw = dict(gw)
                    if gw["id"] == str(event.gateway_id):
                        if event.kind == Kind.GATEWAY_STATUS:
                            gw["status"] = event.payload["status"]
                            gw["detail"] = event.payload.get("detail", "")
                        else:
                            gw["memory"] = f"{event.payload['rss_bytes'] / 2**30:.2f} GB"
                    updated.append(gw)
                self.gateways = updated
        if recount:
            self._recount()

    def _scope(self) -> tuple[set[int], set[int]]:
        return {int(c["id"]) for c in self.cards}, {int(g["id"]) for g in self.gateways}

    @rx.event(background=True)
    async def watch(self):
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

    @rx.var
    def filter_css(self) -> str:
        """Hides the cards the search and status filter leave out (cards are not re-rendered)."""
        rules = []
        if self.search.strip():
            rules.append(f'[data-bot-card]:not([data-search*="{css_string(self.search.strip().lower())}"])')
        if self.status_filter != "all":
            rules.append(f'[data-bot-card]:not([data-status="{css_string(self.status_filter)}"])')
        return "".join(f"{rule} {{ display: none; }}\n" for rule in rules)

    @rx.event
    def set_search(self, value: str) -> None:
        self.search = value[:100]

    @rx.event
    def set_status_filter(self, value: str) -> None:
        self.status_filter = value if value in {f for f, _ in FILTERS} else "all"

    async def _operate(self, bot_id: str, running: bool):
        principal = await current_principal(self)
        try:
            runtime.service().set_running(principal, int(bot_id), running)
        except (PermissionDenied, NotFound, ValueError) as exc:
            return rx.toast.error(str(exc) or "Not allowed.")
        self.desired[bot_id] = "running" if running else "stopped"
        return rx.toast.info("Starting…" if running else "Stopping…")

    @rx.event
    async def start_bot(self, bot_id: str):
        return await self._operate(bot_id, True)

    @rx.event
    async def stop_bot(self, bot_id: str):
        return await self._operate(bot_id, False)

    @rx.event(background=True)
    async def restart_bot(self, bot_id: str):
        async with self:
            principal = await current_principal(self)
        try:
            await runtime.service().restart_bot(principal, int(bot_id))
        except (PermissionDenied, NotFound, ValueError) as exc:
            return rx.toast.error(str(exc) or "Not allowed.")
        return None


@rx.memo
def memo_bot_card(
    card: rx.Var[dict[str, str]],
    status: rx.Var[str],
    desired: rx.Var[str],
    error: rx.Var[str],
    channels: rx.Var[str],
    sessions: rx.Var[str],
    activity: rx.Var[str],
) -> rx.Component:
    return bot_card_body(card, status, desired, error, channels, sessions, activity, DashboardState)


def bot_card(card: rx.Var[dict[str, str]]) -> rx.Component:
    """A card, memoized: one bot's status change re-renders only that card."""
    bot_id = card["id"]
    return memo_bot_card(
        card=card,
        status=DashboardState.statuses[bot_id],
        desired=DashboardState.desired[bot_id],
        error=DashboardState.errors[bot_id],
        channels=DashboardState.channels[bot_id],
        sessions=DashboardState.sessions[bot_id],
        activity=DashboardState.activity[bot_id],
    )


def css_string(text: str) -> str:
    """`text` as the inside of a quoted CSS string: everything but letters, digits and spaces
    hex-escaped, so no search can end the string or add a rule."""
    return "".join(c if c.isalnum() or c == " " else f"\\{ord(c):x} " for c in text)


def summary_item(label: str, key: str, color: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(label, size="1", color_scheme="gray"),
            rx.heading(DashboardState.summary.get(key, "0"), size="6", color_scheme=color),
            spacing="0",
        ),
        data_testid=f"fleet-summary-{key}",
        aria_label=label,
        min_width="7em",
    )


def gateway_row(gw: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(gw["name"]),
        rx.table.cell(status_badge(gw["status"], "gateway-status-" + gw["id"])),
        rx.table.cell(gw["bots"]),
        rx.table.cell(gw["memory"], data_testid="gateway-memory-" + gw["id"]),
        rx.table.cell(rx.text(gw["detail"], size="1", color_scheme="gray")),
        data_testid="gateway-row-" + gw["id"],
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
                on_change=DashboardState.set_search,
                aria_label="Search bots",
                data_testid="dashboard-search",
                width="22em",
            ),
            native_select(
                "Filter by status",
                FILTERS,
                testid="dashboard-status-filter",
                value=DashboardState.status_filter,
                on_change=DashboardState.set_status_filter,
                show_label=False,
            ),
            spacing="3",
            align="center",
            wrap="wrap",
        ),
        rx.cond(
            DashboardState.loaded & (DashboardState.cards.length() == 0),
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
        rx.el.style(DashboardState.filter_css),
        rx.grid(
            rx.foreach(DashboardState.cards, bot_card),
            columns=rx.breakpoints(initial="1", sm="2", lg="3"),
            spacing="4",
            width="100%",
            data_testid="bot-cards",
        ),
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
            rx.link(rx.button("New bot", data_testid="dashboard-new-bot"), href=routes.NEW_BOT),
        ),
    )
