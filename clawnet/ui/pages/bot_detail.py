"""One bot: overview, channels, sessions with a live chat, configuration, logs, analytics."""

from __future__ import annotations

from typing import Any

import reflex as rx
from sqlmodel import select

from clawnet.bots import queries
from clawnet.bots.checks import discord_invite_url
from clawnet.bots.service import BotInputError, ChannelActionError, NotFound
from clawnet.controlplane.logs import LEVELS, recent_logs
from clawnet.controlplane.sessions import ChatError
from clawnet.db import session_scope
from clawnet.events import FleetEvent, Kind
from clawnet.models import Bot, BotChannel
from clawnet.security.permissions import PermissionDenied
from clawnet.security.secret_fields import CHANNEL_CREDENTIALS, unseal_json
from clawnet.settings import get_settings
from clawnet.social import api_tokens
from clawnet.ui import live, routes, runtime
from clawnet.ui.components.forms import data_table, native_select, text_field
from clawnet.ui.components.layout import page_frame
from clawnet.ui.components.status import status_badge, status_light
from clawnet.ui.session import SessionState, current_principal

TABS = [
    ("overview", "Overview"),
    ("channels", "Channels"),
    ("sessions", "Sessions"),
    ("configuration", "Configuration"),
    ("logs", "Logs"),
    ("analytics", "Analytics"),
]
LOG_LEVELS = [(lvl, lvl.title()) for lvl in LEVELS[1:5]]
MAX_LOG_LINES = 300


def _bot_id_from_path(path: str) -> int:
    parts = [p for p in (path or "").split("/") if p]
    return int(parts[1]) if len(parts) >= 2 and parts[0] == "bots" and parts[1].isdigit() else 0


class BotDetailState(rx.State):
    bot_id: int = 0
    tab: str = "overview"
    header: dict[str, str] = {}
    channels: list[dict[str, str]] = []
    sessions: list[dict[str, str]] = []
    selected_session: str = ""
    transcript: list[dict[str, str]] = []
    chat_turn_id: int = 0
    chat_reply: str = ""
    chat_pending: bool = False
    chat_error: str = ""
    chat_sent: str = ""
    logs: list[dict[str, str]] = []
    log_level: str = "INFO"
    log_search: str = ""
    analytics: list[dict[str, Any]] = []
    fleet_analytics: list[dict[str, Any]] = []
    memory: list[dict[str, Any]] = []
    export_text: str = ""
    message: str = ""
    invite_url: str = ""
    has_whatsapp: bool = False
    whatsapp_qr: str = ""
    whatsapp_status: str = ""
    delete_open: bool = False
    auto_post: dict[str, str] = {}
    auto_post_errors: dict[str, str] = {}
    tokens: list[dict[str, str]] = []
    new_token: str = ""
    not_found: bool = False
    _other_agents: list[str] = []
    _gateway_id: int = 0
    _watch_gen: int = 0

    # --- loading ---------------------------------------------------------------------------

    @rx.event
    async def on_load(self):
        principal = await current_principal(self)
        self.bot_id = _bot_id_from_path(self.router.url.path)
        params = self.router.url.query_parameters
        self.tab = params.get("tab", "overview") if params.get("tab") in dict(TABS) else "overview"
        self.chat_reply = self.chat_error = self.chat_sent = self.message = self.export_text = ""
        self.whatsapp_qr = self.whatsapp_status = ""
        self.chat_pending = False
        self.selected_session = params.get("session", "")
        if principal is None or not self.bot_id:
            return None
        try:
            self._load(principal)
        except PermissionDenied:
            self.not_found = True
            return None
        return BotDetailState.watch

    def _load(self, principal: Any) -> None:
        with session_scope() as session:
            self.header = queries.bot_header(session, principal, self.bot_id)
            self.not_found = not self.header
            if self.not_found:
                return
            self.channels = queries.bot_channels(session, principal, self.bot_id)
            self.sessions = queries.sessions_table(session, principal, bot_id=self.bot_id, limit=100)
            if not self.selected_session and self.sessions:
                self.selected_session = self.sessions[0]["id"]
            self.transcript = (
                queries.transcript(session, principal, int(self.selected_session))
                if self.selected_session.isdigit()
                else []
            )
            self.analytics = queries.analytics(session, principal, bot_id=self.bot_id)
            self.fleet_analytics = queries.analytics(session, principal)
            bot = session.get(Bot, self.bot_id)
            self._gateway_id = (bot.gateway_id or 0) if bot else 0
            self.memory = queries.gateway_memory_series(session, self._gateway_id) if self._gateway_id else []
            self._other_agents = (
                [
                    b.agent_id
                    for b in session.exec(
                        select(Bot).where(Bot.gateway_id == self._gateway_id, Bot.id != self.bot_id)
                    )
                ]
                if self._gateway_id
                else []
            )
            discord = session.exec(
                select(BotChannel).where(BotChannel.bot_id == self.bot_id, BotChannel.type == "discord")
            ).first()
            app_id = (
                unseal_json(CHANNEL_CREDENTIALS, discord.credentials_enc).get("applicationId", "")
                if discord
                else ""
            )
            self.invite_url = discord_invite_url(app_id) if app_id else ""
            self.has_whatsapp = any(c["type"] == "whatsapp" for c in self.channels)
            if bot is not None:
                self.auto_post = {
                    "enabled": "yes" if bot.auto_post_enabled else "",
                    "max": str(bot.auto_post_max_per_day),
                    "min": str(bot.auto_post_min_conversations),
                }
            self.tokens = (
                api_tokens.list_tokens(session, principal, self.bot_id)
                if self.header.get("can_social")
                else []
            )
        self._load_logs()

    def _load_logs(self) -> None:
        if not self._gateway_id:
            self.logs = []
            return
        lines = recent_logs(
            get_settings(),
            self._gateway_id,
            limit=MAX_LOG_LINES,
            level=self.log_level,
            search=self.log_search,
        )
        self.logs = [line.to_dict() for line in lines if self._mine(line.message)]

    def _mine(self, message: str) -> bool:
        """A pool's log mixes its bots: hide lines that name another bot of the pool."""
        return not any(agent in message for agent in self._other_agents)

    @rx.event
    def set_tab(self, tab: str):
        if tab in dict(TABS):
            self.tab = tab

    # --- live ------------------------------------------------------------------------------

    async def _apply(self, batch: list[FleetEvent]) -> None:
        principal = await current_principal(self)
        if principal is None:
            return
        reload_header = reload_sessions = False
        for event in batch:
            if (
                event.kind
                in (
                    Kind.BOT_STATUS,
                    Kind.BOT_DESIRED,
                    Kind.GATEWAY_STATUS,
                    Kind.CONFIG_APPLIED,
                    Kind.CONFIG_DRIFT,
                    Kind.FLEET_CHANGED,
                )
                or event.kind == Kind.CHANNEL_STATUS
            ):
                reload_header = True
            elif event.kind in (Kind.SESSION_CHANGED, Kind.SESSION_MESSAGE):
                reload_sessions = True
            elif event.kind == Kind.GATEWAY_LOG:
                line = event.payload
                level_ok = (
                    LEVELS.index(line["level"]) >= LEVELS.index(self.log_level)
                    if line["level"] in LEVELS
                    else True
                )
                search_ok = not self.log_search or self.log_search.lower() in line["message"].lower()
                if level_ok and search_ok and self._mine(line["message"]):
                    self.logs = [*self.logs[-(MAX_LOG_LINES - 1) :], line]
            elif (
                event.kind in (Kind.CHAT_DELTA, Kind.CHAT_FINAL, Kind.CHAT_FAILED)
                and event.payload.get("turn_id") == self.chat_turn_id
            ):
                if event.kind == Kind.CHAT_FAILED:
                    self.chat_error, self.chat_pending = event.payload.get("error", "failed"), False
                else:
                    self.chat_reply = event.payload.get("text", "")
                    if event.kind == Kind.CHAT_FINAL:
                        self.chat_pending = False
                        reload_sessions = True
        with session_scope() as session:
            try:
                if reload_header:
                    self.header = queries.bot_header(session, principal, self.bot_id)
                    self.channels = queries.bot_channels(session, principal, self.bot_id)
                if reload_sessions:
                    self.sessions = queries.sessions_table(session, principal, bot_id=self.bot_id, limit=100)
                    if not self.selected_session and self.sessions:
                        self.selected_session = self.sessions[0]["id"]
                    if self.selected_session.isdigit():
                        self.transcript = queries.transcript(session, principal, int(self.selected_session))
            except PermissionDenied:
                self.header = {}
                self.not_found = True

    @rx.event(background=True)
    async def watch(self):
        async with self:
            self._watch_gen += 1
            bot_id, gateway_id = self.bot_id, self._gateway_id
        prefix = f"/bots/{bot_id}"

        def relevant(event: FleetEvent) -> bool:
            if event.bot_id is not None:
                return event.bot_id == bot_id
            return event.gateway_id == gateway_id and event.kind in (
                Kind.GATEWAY_STATUS,
                Kind.GATEWAY_LOG,
                Kind.CONFIG_APPLIED,
                Kind.CONFIG_DRIFT,
            )

        await live.follow(
            self,
            kinds=[
                Kind.BOT_STATUS,
                Kind.BOT_DESIRED,
                Kind.GATEWAY_STATUS,
                Kind.CONFIG_APPLIED,
                Kind.CONFIG_DRIFT,
                Kind.CHANNEL_STATUS,
                Kind.SESSION_CHANGED,
                Kind.SESSION_MESSAGE,
                Kind.GATEWAY_LOG,
                Kind.CHAT_DELTA,
                Kind.CHAT_FINAL,
                Kind.CHAT_FAILED,
                Kind.FLEET_CHANGED,
            ],
            where=relevant,
            apply=self._apply,
            generation=lambda: self._watch_gen,
            on_page=lambda path: path == prefix,
        )

    # --- actions ---------------------------------------------------------------------------

    @rx.event
    async def select_session(self, session_id: str):
        principal = await current_principal(self)
        with session_scope() as session:
            try:
                self.transcript = queries.transcript(session, principal, int(session_id))
                self.selected_session = session_id
            except (PermissionDenied, ValueError):
                self.transcript = []

    @rx.event(background=True)
    async def send_chat(self, form: dict[str, Any]):
        text = str(form.get("message", "")).strip()
        async with self:
            principal = await current_principal(self)
            bot_id = self.bot_id
            key = f"agent:{self.header.get('agent_id', '')}:main"
            self.chat_error, self.chat_reply, self.chat_sent = "", "", text
            self.chat_pending = True
        try:
            turn = await runtime.service().chat(principal, bot_id, text, session_key=key)
        except (ChatError, PermissionDenied, NotFound) as exc:
            async with self:
                self.chat_pending, self.chat_error = False, str(exc)
            return
        async with self:
            self.chat_turn_id = turn.turn_id
            if turn.finished:  # very fast answers finish before the watcher sees the turn id
                self.chat_reply, self.chat_pending = turn.text, False
                self.chat_error = turn.error

    async def _operate(self, what: str):
        principal = await current_principal(self)
        service = runtime.service()
        try:
            if what == "restart":
                await service.restart_bot(principal, self.bot_id)
            else:
                service.set_running(principal, self.bot_id, what == "start")
        except (PermissionDenied, NotFound) as exc:
            return rx.toast.error(str(exc))
        return rx.toast.info({"start": "Starting…", "stop": "Stopping…", "restart": "Restarting…"}[what])

    @rx.event
    async def start(self):
        return await self._operate("start")

    @rx.event
    async def stop(self):
        return await self._operate("stop")

    @rx.event(background=True)
    async def restart(self):
        async with self:
            principal = await current_principal(self)
            bot_id = self.bot_id
        try:
            await runtime.service().restart_bot(principal, bot_id)
        except (PermissionDenied, NotFound) as exc:
            return rx.toast.error(str(exc))
        return None

    @rx.event(background=True)
    async def reconnect(self, channel: str):
        async with self:
            principal = await current_principal(self)
            bot_id = self.bot_id
        try:
            message = await runtime.service().reconnect_channel(principal, bot_id, channel)
        except (ChannelActionError, PermissionDenied, NotFound) as exc:
            return rx.toast.error(str(exc))
        return rx.toast.info(message)

    @rx.event(background=True)
    async def pair_whatsapp(self):
        async with self:
            principal = await current_principal(self)
            bot_id = self.bot_id
            self.whatsapp_qr, self.whatsapp_status = "", "Asking the gateway for a QR code…"
        service = runtime.service()
        try:
            qr, key = await service.whatsapp_pairing_qr(principal, bot_id)
            async with self:
                self.whatsapp_qr, self.whatsapp_status = (
                    qr,
                    "Scan this code in WhatsApp → Settings → Linked devices.",
                )
            result = await service.whatsapp_pairing_wait(principal, bot_id, key)
        except (ChannelActionError, PermissionDenied, NotFound) as exc:
            async with self:
                self.whatsapp_qr, self.whatsapp_status = "", str(exc)
            return
        async with self:
            self.whatsapp_qr, self.whatsapp_status = "", result

    @rx.event
    async def export(self):
        principal = await current_principal(self)
        try:
            self.export_text = runtime.service().export_config(principal, self.bot_id)
        except PermissionDenied as exc:
            return rx.toast.error(str(exc))
        return None

    @rx.event
    async def save_auto_post(self, form: dict[str, Any]):
        principal = await current_principal(self)
        try:
            runtime.service().set_auto_post(
                principal,
                self.bot_id,
                enabled=form.get("enabled") == "on",
                max_per_day=int(form.get("max") or 0) if str(form.get("max") or "").isdigit() else 0,
                min_conversations=int(form.get("min") or 0) if str(form.get("min") or "").isdigit() else 0,
            )
        except BotInputError as exc:
            self.auto_post_errors = exc.errors
            return None
        except (PermissionDenied, NotFound) as exc:
            return rx.toast.error(str(exc))
        self.auto_post_errors = {}
        self.auto_post = {
            "enabled": "yes" if form.get("enabled") == "on" else "",
            "max": str(form.get("max")),
            "min": str(form.get("min")),
        }
        return rx.toast.success("Auto-post settings saved.")

    @rx.event
    async def create_token(self, form: dict[str, Any]):
        principal = await current_principal(self)
        try:
            with session_scope() as session:
                self.new_token = api_tokens.create_token(
                    session, principal, self.bot_id, str(form.get("name", ""))
                )
            with session_scope() as session:
                self.tokens = api_tokens.list_tokens(session, principal, self.bot_id)
        except PermissionDenied as exc:
            return rx.toast.error(str(exc))
        return None

    @rx.event
    async def revoke_token(self, token_id: str):
        principal = await current_principal(self)
        try:
            with session_scope() as session:
                api_tokens.revoke_token(session, principal, int(token_id))
            with session_scope() as session:
                self.tokens = api_tokens.list_tokens(session, principal, self.bot_id)
        except (PermissionDenied, ValueError) as exc:
            return rx.toast.error(str(exc) or "Not allowed.")
        self.new_token = ""
        return None

    @rx.event
    def set_log_level(self, level: str) -> None:
        self.log_level = level if level in LEVELS else "INFO"
        self._load_logs()

    @rx.event
    def search_logs(self, form: dict[str, Any]) -> None:
        self.log_search = str(form.get("q", ""))[:200]
        self._load_logs()

    @rx.event
    def set_delete_open(self, value: bool) -> None:
        self.delete_open = bool(value)

    @rx.event
    async def delete(self, form: dict[str, Any]):
        principal = await current_principal(self)
        try:
            runtime.service().delete_bot(principal, self.bot_id, delete_data=form.get("delete_data") == "on")
        except (PermissionDenied, NotFound) as exc:
            return rx.toast.error(str(exc))
        self.delete_open = False
        return [rx.toast.success("Bot deleted."), rx.redirect(routes.BOTS)]


# --- view -------------------------------------------------------------------------------------

H = BotDetailState.header


def stat(label: str, value: rx.Var, testid: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(label, size="1", color_scheme="gray"),
            rx.text(value, size="4", weight="bold", data_testid=testid),
            spacing="0",
        )
    )


def chart(data: rx.Var, key: str, label: str, color: str, testid: str) -> rx.Component:
    return rx.vstack(
        rx.text(label, weight="medium", size="2"),
        rx.recharts.bar_chart(
            rx.recharts.bar(data_key=key, fill=f"var(--{color}-9)", name=label),
            rx.recharts.x_axis(data_key="day"),
            rx.recharts.y_axis(),
            rx.recharts.graphing_tooltip(),
            data=data,
            width="100%",
            height=180,
        ),
        width="100%",
        data_testid=testid,
        role="img",
        aria_label=label + " per day",
    )


def overview_tab() -> rx.Component:
    return rx.vstack(
        rx.grid(
            stat("Uptime", H["uptime"], "bot-uptime"),
            stat("Sessions", H["sessions"], "bot-sessions-count"),
            stat("Messages", H["messages"], "bot-messages-count"),
            stat("Tokens", H["tokens"], "bot-tokens"),
            stat("Cost", H["cost"], "bot-cost"),
            stat("Last activity", H["last_activity"], "bot-last-activity"),
            columns=rx.breakpoints(initial="2", md="6"),
            spacing="3",
            width="100%",
        ),
        rx.text(
            "Model: ", H["model"], " · Gateway: ", H["gateway"], " (", H["gateway_status"], ")", size="2"
        ),
        rx.grid(
            chart(BotDetailState.analytics, "messages", "Messages", "iris", "chart-messages"),
            rx.vstack(
                rx.text("Gateway memory (MB)", weight="medium", size="2"),
                rx.recharts.line_chart(
                    rx.recharts.line(data_key="memory_mb", stroke="var(--green-9)", name="MB"),
                    rx.recharts.x_axis(data_key="at"),
                    rx.recharts.y_axis(),
                    rx.recharts.graphing_tooltip(),
                    data=BotDetailState.memory,
                    width="100%",
                    height=180,
                ),
                width="100%",
                data_testid="chart-memory",
            ),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
            width="100%",
        ),
        spacing="4",
        width="100%",
    )


def channel_row(ch: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.hstack(
                status_light(ch["status"]), rx.text(ch["type"], weight="medium"), spacing="2", align="center"
            )
        ),
        rx.table.cell(status_badge(ch["status"], "channel-status-" + ch["type"])),
        rx.table.cell(
            rx.vstack(
                rx.text(
                    "DMs: " + ch["dm_policy"] + " · groups: " + ch["group_policy"] + " · " + ch["mention"],
                    size="1",
                ),
                rx.text("Allowed: " + ch["allow_from"], size="1", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(rx.text(ch["last_seen"], size="1")),
        rx.table.cell(rx.text(ch["error"], size="1", color_scheme="red")),
        rx.table.cell(
            rx.cond(
                H["can_operate"] == "yes",
                rx.button(
                    "Reconnect",
                    size="1",
                    variant="soft",
                    on_click=BotDetailState.reconnect(ch["type"]),
                    data_testid="channel-reconnect-" + ch["type"],
                    aria_label="Reconnect " + ch["type"],
                ),
            )
        ),
        data_testid="channel-row-" + ch["type"],
    )


def channels_tab() -> rx.Component:
    return rx.vstack(
        rx.cond(
            BotDetailState.channels.length() == 0,
            rx.text(
                "No channels. Add one under Configuration.", color_scheme="gray", data_testid="channels-empty"
            ),
            data_table(
                ("Channel", "Status", "Access", "Last seen", "Error", ""),
                BotDetailState.channels,
                channel_row,
                "channels-table",
            ),
        ),
        rx.cond(
            BotDetailState.invite_url != "",
            rx.callout(
                rx.hstack(
                    rx.text("Add the Discord bot to a server:"),
                    rx.link(
                        "invite link",
                        href=BotDetailState.invite_url,
                        is_external=True,
                        data_testid="discord-invite",
                    ),
                ),
                icon="link",
            ),
        ),
        rx.cond(
            BotDetailState.has_whatsapp,
            rx.card(
                rx.vstack(
                    rx.heading("WhatsApp pairing", size="3"),
                    rx.button(
                        "Pair WhatsApp",
                        on_click=BotDetailState.pair_whatsapp,
                        data_testid="whatsapp-pair",
                        disabled=H["can_configure"] != "yes",
                    ),
                    rx.cond(
                        BotDetailState.whatsapp_qr != "",
                        rx.image(
                            src=BotDetailState.whatsapp_qr,
                            width="240px",
                            alt="WhatsApp pairing QR code",
                            data_testid="whatsapp-qr",
                        ),
                    ),
                    rx.cond(
                        BotDetailState.whatsapp_status != "",
                        rx.text(BotDetailState.whatsapp_status, role="status", data_testid="whatsapp-status"),
                    ),
                    spacing="3",
                )
            ),
        ),
        spacing="4",
        width="100%",
    )


def message_bubble(m: rx.Var[dict[str, str]]) -> rx.Component:
    is_user = m["role"] == "user"
    return rx.box(
        rx.text(m["role"] + " · " + m["at"], size="1", color_scheme="gray"),
        rx.text(m["text"], white_space="pre-wrap"),
        background=rx.cond(is_user, "var(--iris-a3)", "var(--gray-a3)"),
        padding="0.6em",
        border_radius="var(--radius-3)",
        align_self=rx.cond(is_user, "flex-end", "flex-start"),
        max_width="85%",
        data_testid="transcript-message",
        data_role=m["role"],
    )


def session_item(s: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.box(
        rx.text(s["channel"] + " · " + s["peer"], weight="medium", size="2"),
        rx.text(s["messages"] + " messages · " + s["last"], size="1", color_scheme="gray"),
        rx.text(s["preview"], size="1", trim="both", no_of_lines=1),
        on_click=BotDetailState.select_session(s["id"]),
        cursor="pointer",
        padding="0.5em",
        border_radius="var(--radius-2)",
        background=rx.cond(BotDetailState.selected_session == s["id"], "var(--iris-a3)", "transparent"),
        data_testid="session-item-" + s["id"],
        role="button",
        aria_label="Open session " + s["key"],
    )


def sessions_tab() -> rx.Component:
    return rx.grid(
        rx.vstack(
            rx.text("Sessions", weight="bold"),
            rx.cond(
                BotDetailState.sessions.length() == 0,
                rx.text("No conversations yet.", color_scheme="gray", data_testid="sessions-empty"),
            ),
            rx.foreach(BotDetailState.sessions, session_item),
            spacing="1",
            data_testid="session-list",
            max_height="32em",
            overflow_y="auto",
        ),
        rx.vstack(
            rx.vstack(
                rx.foreach(BotDetailState.transcript, message_bubble),
                spacing="2",
                width="100%",
                data_testid="transcript",
                max_height="26em",
                overflow_y="auto",
            ),
            rx.cond(
                H["can_operate"] == "yes",
                rx.vstack(
                    rx.cond(
                        BotDetailState.chat_sent != "",
                        rx.box(
                            rx.text("you", size="1", color_scheme="gray"),
                            rx.text(BotDetailState.chat_sent),
                            background="var(--iris-a3)",
                            padding="0.6em",
                            border_radius="var(--radius-3)",
                            align_self="flex-end",
                            data_testid="chat-sent",
                        ),
                    ),
                    rx.cond(
                        BotDetailState.chat_reply != "",
                        rx.box(
                            rx.text(H["name"], size="1", color_scheme="gray"),
                            rx.text(
                                BotDetailState.chat_reply, white_space="pre-wrap", data_testid="chat-reply"
                            ),
                            background="var(--gray-a3)",
                            padding="0.6em",
                            border_radius="var(--radius-3)",
                            align_self="flex-start",
                        ),
                    ),
                    rx.cond(
                        BotDetailState.chat_pending & (BotDetailState.chat_reply == ""),
                        rx.hstack(rx.spinner(), rx.text("Thinking…", size="2"), data_testid="chat-pending"),
                    ),
                    rx.cond(
                        BotDetailState.chat_error != "",
                        rx.callout(
                            BotDetailState.chat_error,
                            color_scheme="red",
                            role="alert",
                            data_testid="chat-error",
                        ),
                    ),
                    rx.form(
                        rx.hstack(
                            rx.input(
                                name="message",
                                placeholder="Message " + H["name"],
                                aria_label="Message to the bot",
                                data_testid="chat-input",
                                width="100%",
                                auto_complete="off",
                            ),
                            rx.button(
                                "Send",
                                type="submit",
                                loading=BotDetailState.chat_pending,
                                data_testid="chat-send",
                            ),
                            width="100%",
                        ),
                        on_submit=BotDetailState.send_chat,
                        reset_on_submit=True,
                        width="100%",
                    ),
                    width="100%",
                    spacing="2",
                    data_testid="chat-panel",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        columns=rx.breakpoints(initial="1", md="2"),
        spacing="4",
        width="100%",
    )


def configuration_tab() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            stat("Desired config version", H["desired_version"], "config-desired-version"),
            stat("Applied version", H["applied_version"], "config-applied-version"),
            rx.cond(
                H["in_sync"] == "yes",
                rx.badge("In sync", color_scheme="green", data_testid="config-in-sync"),
                rx.badge("Applying…", color_scheme="amber", data_testid="config-out-of-sync"),
            ),
            spacing="3",
            align="center",
            wrap="wrap",
        ),
        rx.cond(
            H["drift"] != "",
            rx.callout(
                "The gateway's configuration was changed outside ClawNet "
                + H["drift"]
                + "; ClawNet re-applied its own.",
                color_scheme="amber",
                data_testid="config-drift",
            ),
        ),
        rx.text("Placement: " + H["placement"] + " · Bot data: " + H["data_folder"], size="2"),
        rx.hstack(
            rx.cond(
                H["can_configure"] == "yes",
                rx.link(
                    rx.button("Edit configuration", data_testid="config-edit"),
                    href="/bots/new?edit=" + H["id"],
                ),
            ),
            rx.button(
                "Export config", variant="soft", on_click=BotDetailState.export, data_testid="config-export"
            ),
            rx.cond(
                H["can_delete"] == "yes",
                rx.button(
                    "Delete bot",
                    variant="soft",
                    color_scheme="red",
                    on_click=BotDetailState.set_delete_open(True),
                    data_testid="bot-delete",
                ),
            ),
            spacing="3",
        ),
        rx.cond(
            BotDetailState.export_text != "",
            rx.vstack(
                rx.code_block(
                    BotDetailState.export_text,
                    language="json",
                    width="100%",
                    data_testid="config-export-text",
                ),
                rx.button(
                    "Download",
                    size="1",
                    variant="soft",
                    on_click=rx.download(data=BotDetailState.export_text, filename=H["agent_id"] + ".json5"),
                    data_testid="config-download",
                ),
                width="100%",
            ),
        ),
        rx.dialog.root(
            rx.dialog.content(
                rx.dialog.title("Delete " + H["name"] + "?"),
                rx.form(
                    rx.vstack(
                        rx.text(
                            "The bot stops everywhere. Its conversations stay in its data folder unless you tick the box."
                        ),
                        rx.el.label(
                            rx.hstack(
                                rx.checkbox(name="delete_data", data_testid="bot-delete-data"),
                                rx.text("Also delete its conversations and files"),
                                spacing="2",
                            )
                        ),
                        rx.hstack(
                            rx.button(
                                "Cancel",
                                type="button",
                                variant="soft",
                                color_scheme="gray",
                                on_click=BotDetailState.set_delete_open(False),
                            ),
                            rx.button(
                                "Delete", type="submit", color_scheme="red", data_testid="bot-delete-confirm"
                            ),
                            justify="end",
                            spacing="3",
                            width="100%",
                        ),
                        spacing="4",
                    ),
                    on_submit=BotDetailState.delete,
                ),
            ),
            open=BotDetailState.delete_open,
            on_open_change=BotDetailState.set_delete_open,
        ),
        spacing="4",
        width="100%",
        align="start",
    )


def social_section() -> rx.Component:
    a = BotDetailState.auto_post
    return rx.card(
        rx.vstack(
            rx.heading("On the feed", size="3"),
            rx.text(
                "The bot can post a short insight from its recent conversations (never anything private).",
                size="2",
            ),
            rx.form(
                rx.vstack(
                    rx.el.label(
                        rx.hstack(
                            rx.checkbox(
                                name="enabled",
                                default_checked=a["enabled"] == "yes",
                                data_testid="autopost-enabled",
                            ),
                            rx.text("Post insights automatically"),
                            spacing="2",
                        )
                    ),
                    rx.hstack(
                        rx.box(
                            text_field(
                                "At most, per day",
                                name="max",
                                testid="autopost-max",
                                type="number",
                                default_value=a["max"],
                                error=BotDetailState.auto_post_errors.get("auto_post_max_per_day", ""),
                            ),
                            width="10em",
                        ),
                        rx.box(
                            text_field(
                                "Only after this many new conversations",
                                name="min",
                                testid="autopost-min",
                                type="number",
                                default_value=a["min"],
                                error=BotDetailState.auto_post_errors.get("auto_post_min_conversations", ""),
                            ),
                            width="18em",
                        ),
                        spacing="5",
                        align="start",
                    ),
                    rx.button("Save", type="submit", size="2", data_testid="autopost-save"),
                    spacing="3",
                ),
                on_submit=BotDetailState.save_auto_post,
                reset_on_submit=False,
            ),
            rx.heading("API tokens", size="3"),
            rx.text(
                "Scripts can post as this bot: POST /api/v1/posts with Authorization: Bearer <token>.",
                size="2",
            ),
            rx.foreach(
                BotDetailState.tokens,
                lambda t: rx.hstack(
                    rx.code(t["prefix"]),
                    rx.text(t["name"]),
                    rx.text("used " + t["last_used"], size="1", color_scheme="gray"),
                    rx.cond(
                        t["revoked"] == "yes",
                        rx.badge("revoked", color_scheme="gray"),
                        rx.button(
                            "Revoke",
                            size="1",
                            variant="soft",
                            color_scheme="red",
                            on_click=BotDetailState.revoke_token(t["id"]),
                            data_testid="token-revoke-" + t["id"],
                        ),
                    ),
                    spacing="3",
                    align="center",
                    data_testid="token-" + t["id"],
                ),
            ),
            rx.form(
                rx.hstack(
                    rx.input(
                        name="name",
                        placeholder="Token name",
                        aria_label="Token name",
                        data_testid="token-name",
                    ),
                    rx.button("Create token", type="submit", variant="soft", data_testid="token-create"),
                    spacing="2",
                ),
                on_submit=BotDetailState.create_token,
            ),
            rx.cond(
                BotDetailState.new_token != "",
                rx.callout(
                    rx.vstack(
                        rx.text("Copy this token now: it will not be shown again."),
                        rx.code(BotDetailState.new_token, data_testid="token-new-value"),
                    ),
                    color_scheme="amber",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        data_testid="bot-social",
    )


def log_row(line: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.text(
        rx.text.span(line["time"].to(str)[11:19] + " ", color_scheme="gray"),
        rx.text.span(
            line["level"] + " ",
            color=rx.cond(
                (line["level"] == "ERROR") | (line["level"] == "FATAL"),
                "var(--red-11)",
                rx.cond(line["level"] == "WARN", "var(--amber-11)", "var(--gray-11)"),
            ),
        ),
        rx.text.span(line["subsystem"] + " ", color_scheme="iris"),
        rx.text.span(line["message"]),
        size="1",
        font_family="var(--code-font-family)",
        white_space="pre-wrap",
        data_testid="log-line",
    )


def logs_tab() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            native_select(
                "Minimum level",
                LOG_LEVELS,
                testid="logs-level",
                value=BotDetailState.log_level,
                on_change=BotDetailState.set_log_level,
                show_label=False,
            ),
            rx.form(
                rx.hstack(
                    rx.input(
                        name="q",
                        placeholder="Search logs",
                        aria_label="Search logs",
                        data_testid="logs-search",
                        default_value=BotDetailState.log_search,
                    ),
                    rx.button("Search", type="submit", size="2", variant="soft"),
                ),
                on_submit=BotDetailState.search_logs,
            ),
            rx.badge("live", color_scheme="green", variant="outline"),
            spacing="3",
            align="center",
        ),
        rx.box(
            rx.cond(BotDetailState.logs.length() == 0, rx.text("No log lines yet.", color_scheme="gray")),
            rx.foreach(BotDetailState.logs, log_row),
            width="100%",
            max_height="32em",
            overflow_y="auto",
            padding="0.5em",
            background="var(--gray-a2)",
            border_radius="var(--radius-2)",
            data_testid="logs",
        ),
        spacing="3",
        width="100%",
    )


def analytics_tab() -> rx.Component:
    return rx.vstack(
        rx.heading("This bot", size="3"),
        rx.grid(
            chart(BotDetailState.analytics, "messages", "Messages", "iris", "chart-bot-messages"),
            chart(BotDetailState.analytics, "tokens", "Tokens", "green", "chart-bot-tokens"),
            chart(BotDetailState.analytics, "cost", "Cost (USD)", "amber", "chart-bot-cost"),
            chart(BotDetailState.analytics, "errors", "Failed turns", "red", "chart-bot-errors"),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
            width="100%",
        ),
        rx.heading("The fleet you can see", size="3"),
        rx.grid(
            chart(BotDetailState.fleet_analytics, "messages", "Messages", "iris", "chart-fleet-messages"),
            chart(BotDetailState.fleet_analytics, "errors", "Failed turns", "red", "chart-fleet-errors"),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
            width="100%",
        ),
        spacing="4",
        width="100%",
    )


def header_actions() -> rx.Component:
    return rx.cond(
        H["can_operate"] == "yes",
        rx.hstack(
            rx.cond(
                H["running"] == "yes",
                rx.button(
                    "Stop",
                    variant="soft",
                    color_scheme="gray",
                    on_click=BotDetailState.stop,
                    data_testid="detail-stop",
                ),
                rx.button(
                    "Start",
                    variant="soft",
                    color_scheme="green",
                    on_click=BotDetailState.start,
                    data_testid="detail-start",
                ),
            ),
            rx.button(
                "Restart", variant="soft", on_click=BotDetailState.restart, data_testid="detail-restart"
            ),
            spacing="2",
        ),
    )


@rx.page(
    route=routes.BOT_DETAIL,
    title="Bot · ClawNet",
    on_load=[SessionState.require_fleet, BotDetailState.on_load],
)
def bot_detail_page() -> rx.Component:
    return page_frame(
        "Bot",
        rx.cond(
            BotDetailState.not_found,
            rx.callout(
                "This bot does not exist, or you do not have access to it.",
                color_scheme="red",
                data_testid="bot-not-found",
            ),
            rx.vstack(
                rx.hstack(
                    rx.text(H["emoji"], size="7"),
                    rx.heading(H["name"], size="6", data_testid="bot-name"),
                    status_light(H["status"], "bot-status-light"),
                    status_badge(H["status"], "bot-status"),
                    rx.spacer(),
                    header_actions(),
                    width="100%",
                    align="center",
                ),
                rx.cond(
                    H["error"] != "",
                    rx.callout(H["error"], color_scheme="red", role="alert", data_testid="bot-error"),
                ),
                rx.tabs.root(
                    rx.tabs.list(
                        *[
                            rx.tabs.trigger(label, value=value, data_testid=f"tab-{value}")
                            for value, label in TABS
                        ]
                    ),
                    rx.tabs.content(overview_tab(), value="overview", padding_top="1em"),
                    rx.tabs.content(channels_tab(), value="channels", padding_top="1em"),
                    rx.tabs.content(sessions_tab(), value="sessions", padding_top="1em"),
                    rx.tabs.content(configuration_tab(), value="configuration", padding_top="1em"),
                    rx.tabs.content(logs_tab(), value="logs", padding_top="1em"),
                    rx.tabs.content(analytics_tab(), value="analytics", padding_top="1em"),
                    value=BotDetailState.tab,
                    on_change=BotDetailState.set_tab,
                    width="100%",
                ),
                spacing="4",
                width="100%",
            ),
        ),
        testid="bot-detail-page",
    )
