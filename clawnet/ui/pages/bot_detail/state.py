"""The bot page's own state: which bot (`/bots/<number or agent id>`), its header, the open tab,
the header's actions, and the one live watcher that keeps the whole page current.

Each tab keeps its data in a substate in the tab's module, registered with `@part(tabs...)`: it
is loaded the first time one of its tabs is shown, and the watcher here hands it every batch of
this bot's events right after refreshing the header. So one event updates every view of the same
fact (the header's status badge, the overview's gateway line, a channel row) in one message to
the browser, and a tab nobody opened costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import reflex as rx

from clawnet import routes, runtime
from clawnet.bots.views import BotHeader
from clawnet.errors import UserError
from clawnet.events import FleetEvent, Kind
from clawnet.security.permissions import Principal
from clawnet.ui import live
from clawnet.ui.session import current_principal, error_toast
from clawnet.ui.typed import Field, event, field

TABS = [
    ("overview", "Overview"),
    ("channels", "Channels"),
    ("routing", "Routing & groups"),
    ("sessions", "Sessions"),
    ("schedules", "Schedules"),
    ("budget", "Budget"),
    ("skills", "Skills"),
    ("configuration", "Configuration"),
    ("logs", "Logs"),
    ("analytics", "Analytics"),
]
TAB_NAMES = frozenset(value for value, _ in TABS)
NOT_FOUND = "This bot does not exist, or you do not have access to it."

# Events that change what the header shows (status, desired state, gateway, config versions, counts).
HEADER_EVENTS = frozenset(
    {
        Kind.BOT_STATUS,
        Kind.BOT_DESIRED,
        Kind.GATEWAY_STATUS,
        Kind.CONFIG_APPLIED,
        Kind.CONFIG_DRIFT,
        Kind.FLEET_CHANGED,
        Kind.SESSION_CHANGED,
        Kind.SESSION_MESSAGE,
    }
)
# Events about the bot's gateway rather than the bot (they carry no bot id).
GATEWAY_EVENTS = frozenset(
    {
        Kind.GATEWAY_STATUS,
        Kind.GATEWAY_LOG,
        Kind.GATEWAY_METRICS,
        Kind.CONFIG_APPLIED,
        Kind.CONFIG_DRIFT,
        Kind.SCHEDULES,  # the gateway's scheduler ran or changed a job
    }
)
WATCHED = [
    *sorted(HEADER_EVENTS | GATEWAY_EVENTS),
    Kind.CHANNEL_STATUS,
    Kind.ACCESS_REQUESTS,
    Kind.ACCESS_SENDERS,
    Kind.CHAT_DELTA,
    Kind.CHAT_FINAL,
    Kind.CHAT_FAILED,
]

NO_HEADER = BotHeader(
    id=0, name="", emoji="", agent_id="", status="", desired="", error="", model="", placement="",
    gateway="", gateway_id=0, gateway_status="", gateway_detail="", uptime="", sessions=0, messages=0,
    tokens=0, cost="", last_activity="", desired_version=0, applied_version=0, in_sync=False, drift="",
    running=False, data_folder="", can_operate=False, can_configure=False, can_delete=False,
    can_social=False,
)  # fmt: skip


def bot_ref(path: str) -> str:
    """`<ref>` of `/bots/<ref>` (a number or an agent id), else ""."""
    parts = [p for p in (path or "").split("/") if p]
    return parts[1] if len(parts) == 2 and parts[0] == routes.BOTS.strip("/") else ""


class BotDetailState(rx.State):
    """The bot shown, its header and the open tab; the watcher; start, stop, restart."""

    current_bot: Field[int] = field(0)
    tab: Field[str] = field("overview")
    header: Field[BotHeader] = field(default_factory=lambda: NO_HEADER)
    found: Field[bool] = field(False)
    not_found: Field[bool] = field(False)
    _path: str = ""
    _session_param: int = 0  # `?session=<id>`: the session the Sessions tab opens first
    _loaded: dict[str, int] = {}  # a part's state name -> the bot it holds data for
    _watch_gen: int = 0

    @rx.var
    def page_title(self) -> str:
        if self.not_found:
            return "Bot not found · ClawNet"
        return f"{self.header.name} · ClawNet" if self.found else "Bot · ClawNet"

    # --- loading ---------------------------------------------------------------------------

    @event
    async def on_load(self) -> Any:
        path = (self.router.url.path or "/").rstrip("/") or "/"
        params = self.router.url.query_parameters
        tab = str(params.get("tab") or "overview")
        session = str(params.get("session") or "")
        self._path, self._loaded = path, {}
        self.current_bot, self.header, self.found, self.not_found = 0, NO_HEADER, False, False
        self.tab = tab if tab in TAB_NAMES else "overview"
        self._session_param = int(session) if session.isdigit() else 0
        actor = await current_principal(self)
        if actor is None:
            return None
        ref = bot_ref(path)
        bot_id = await runtime.bots().find_bot(actor, ref) if ref else None
        if not await self._load_header(actor, bot_id):
            return None
        problem = await self._show_tab(actor)
        return [BotDetailState.watch, *([rx.toast.error(problem)] if problem else [])]

    async def _load_header(self, actor: Principal | None, bot_id: int | None) -> bool:
        """Read the header of `bot_id`; a bot that is gone or hidden shows as not found."""
        try:
            header = await runtime.bots().header(actor, bot_id) if bot_id else None
        except UserError:
            header = None
        if header is None or not bot_id:
            self.current_bot, self.header, self.found, self.not_found = 0, NO_HEADER, False, True
            return False
        self.current_bot, self.header, self.found, self.not_found = bot_id, header, True, False
        return True

    async def _show_tab(self, actor: Principal | None) -> str:
        """Load the parts the open tab shows (once per bot); the first problem, if any."""
        problem = ""
        for p in PARTS:
            name = p.state.get_full_name()
            if self.tab not in p.tabs or self._loaded.get(name) == self.current_bot:
                continue
            sub = await self.get_state(p.state)
            try:
                await sub._load_part(actor)
            except UserError as exc:
                problem = problem or str(exc)
                continue
            self._loaded = {**self._loaded, name: self.current_bot}
        return problem

    @event
    async def set_tab(self, tab: str) -> Any:
        if tab not in TAB_NAMES:
            return None
        self.tab = tab
        if not self.found:
            return None
        problem = await self._show_tab(await current_principal(self))
        return rx.toast.error(problem) if problem else None

    # --- what each part implements (a tab's substate overrides these) ----------------------

    async def _load_part(self, actor: Principal | None) -> None:
        """Fill the part's vars for `self.current_bot` (raises UserError)."""

    async def _follow_part(self, batch: list[FleetEvent], actor: Principal | None) -> None:
        """Apply a batch of this bot's events to the part's vars."""

    # --- live ------------------------------------------------------------------------------

    async def _apply(self, batch: list[FleetEvent]) -> None:
        actor = await current_principal(self)
        if any(e.kind in HEADER_EVENTS for e in batch) and not await self._load_header(
            actor, self.current_bot
        ):
            return
        for p in PARTS:
            if self._loaded.get(p.state.get_full_name()) != self.current_bot:
                continue
            sub = await self.get_state(p.state)
            try:
                await sub._follow_part(batch, actor)
            except UserError:
                self._loaded = {k: v for k, v in self._loaded.items() if k != p.state.get_full_name()}

    @event(background=True)
    async def watch(self) -> None:
        async with self:
            self._watch_gen += 1
            path = self._path
            scope = {"bot": self.current_bot, "gateway": self.header.gateway_id}

        def relevant(e: FleetEvent) -> bool:
            if e.bot_id is not None:
                return e.bot_id == scope["bot"]
            if e.kind == Kind.FLEET_CHANGED:
                return True  # e.g. a provider changed: the model's name may have too
            return e.kind in GATEWAY_EVENTS and e.gateway_id is not None and e.gateway_id == scope["gateway"]

        async def apply(batch: list[FleetEvent]) -> None:
            await self._apply(batch)
            scope["gateway"] = self.header.gateway_id  # the bot may have moved to another gateway

        await live.follow(
            self,
            kinds=WATCHED,
            where=relevant,
            apply=apply,
            generation=lambda: self._watch_gen,
            on_page=lambda current: current == path,
        )

    # --- the header's actions ----------------------------------------------------------------

    async def _set_running(self, running: bool) -> Any:
        try:
            await runtime.bots().set_running(await current_principal(self), self.current_bot, running)
        except UserError as exc:
            return error_toast(exc)
        desired = "running" if running else "stopped"
        self.header = replace(self.header, running=running, desired=desired)
        return rx.toast.info("Starting…" if running else "Stopping…")

    @event
    async def start(self) -> Any:
        return await self._set_running(True)

    @event
    async def stop(self) -> Any:
        return await self._set_running(False)

    @event(background=True)
    async def restart(self) -> Any:
        async with self:
            actor = await current_principal(self)
            bot_id = self.current_bot
        try:
            await runtime.bots().restart_bot(actor, bot_id)
        except UserError as exc:
            return error_toast(exc)
        return rx.toast.info("Restarting…")


@dataclass(frozen=True)
class Part:
    state: type[BotDetailState]
    tabs: frozenset[str]


PARTS: list[Part] = []
S = TypeVar("S", bound=BotDetailState)


def part(*tabs: str) -> Callable[[type[S]], type[S]]:
    """Register a tab's substate: loaded when one of `tabs` is shown, then followed live."""

    def register(cls: type[S]) -> type[S]:
        PARTS.append(Part(cls, frozenset(tabs)))
        return cls

    return register
