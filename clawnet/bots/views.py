"""What the fleet pages show, as typed read models: plain values, permissions already decided,
no secret anywhere (a stored credential appears only as its field name)."""

from __future__ import annotations

from dataclasses import dataclass, field

# One letter per day in `BotUptime.colours`: 99%+ green, 90%+ amber, below red, no data.
UPTIME_CODES = {"green": "g", "amber": "a", "red": "r", "gray": "n"}


@dataclass(frozen=True)
class BotUptime:
    """A bot's uptime over the last 30 days, oldest day first, compact because every dashboard
    card carries one: `labels[i]` says day i and its figure ("Dec 01: 75.0%", "Dec 01: no data"),
    `colours[i]` is its colour code (UPTIME_CODES). `percent` is the 30-day figure (-1: no data)."""

    labels: list[str] = field(default_factory=list)
    colours: str = ""
    percent: float = -1.0
    text: str = "no data"
    colour: str = "gray"


@dataclass(frozen=True)
class ChannelBadge:
    type: str
    status: str


@dataclass(frozen=True)
class BotCard:
    id: int
    name: str
    emoji: str
    agent_id: str
    status: str
    desired: str
    error: str
    channels: list[ChannelBadge]
    active_sessions: int
    last_activity: str
    gateway: str
    gateway_id: int
    can_operate: bool
    can_configure: bool
    uptime: BotUptime = field(default_factory=BotUptime)
    paused: str = ""  # "Paused: budget" / "Paused: kill switch"
    budget: str = ""  # usage vs limit, e.g. "$0.0120 of 1 per day (45%)"


@dataclass(frozen=True)
class GatewayRow:
    id: int
    name: str
    kind: str
    placement: str
    status: str
    detail: str
    bots: int
    memory: str
    port: str
    url: str
    restarts: int


CARDS_PER_PAGE = 48  # the dashboard's page: 16 rows of 3 cards on a wide screen
MAX_CARD_SEARCH = 100


@dataclass(frozen=True)
class CardQuery:
    """Which bot cards to show: a search (name, agent id, number or channel type, any case),
    a status (a BotStatus value, or "all"), and a page of `per_page` cards (0: all of them)."""

    search: str = ""
    status: str = "all"
    page: int = 1
    per_page: int = 0


@dataclass(frozen=True)
class FleetOverview:
    cards: list[BotCard]  # the page of cards the query asked for
    summary: dict[str, int]  # bot status -> count, and "total": every bot the person may see
    gateways: list[GatewayRow]  # every gateway hosting a bot the person may see
    statuses: dict[int, str] = field(default_factory=dict)  # every visible bot's status, by id
    matched: int = 0  # bots the search and status filter match
    page: int = 1  # the page shown (the query's, kept within 1..pages)
    pages: int = 1


@dataclass(frozen=True)
class BotHeader:
    id: int
    name: str
    emoji: str
    agent_id: str
    status: str
    desired: str
    error: str
    model: str
    placement: str
    gateway: str
    gateway_id: int
    gateway_status: str
    gateway_detail: str
    uptime: str
    sessions: int
    messages: int
    tokens: int
    cost: str
    last_activity: str
    desired_version: int
    applied_version: int
    in_sync: bool
    drift: str  # "5 min ago" when ClawNet last re-applied its config after a change elsewhere
    running: bool  # desired: running
    data_folder: str
    can_operate: bool
    can_configure: bool
    can_delete: bool
    can_social: bool
    chat_session_key: str = ""  # the session the page's chat panel talks in
    paused: str = ""  # "Paused: budget" / "Paused: kill switch"
    budget: str = ""  # usage vs limit


@dataclass(frozen=True)
class ChannelRow:
    type: str
    status: str
    error: str
    last_seen: str
    dm_policy: str
    group_policy: str
    mention: str
    allow_from: str
    enabled: bool
    credentials: str  # the names of stored credentials, never their values
    invite_url: str = ""  # Discord: the link that adds the bot to a server


@dataclass(frozen=True)
class TranscriptLine:
    seq: int
    role: str
    text: str
    at: str
    tokens: str
    author: str = ""  # "Operator · <name>" on a reply a person sent as the operator


@dataclass(frozen=True)
class DayFigures:
    day: str
    messages: int
    tokens: int
    cost: float
    errors: int


@dataclass(frozen=True)
class MemoryPoint:
    at: str
    memory_mb: int
    loop_p99_ms: float


@dataclass(frozen=True)
class LogEntry:
    time: str
    level: str
    subsystem: str
    message: str


@dataclass(frozen=True)
class LogScope:
    """Which gateway log a bot's logs come from, and the agents of other bots sharing it (lines
    naming them are hidden)."""

    gateway_id: int
    other_agents: list[str] = field(default_factory=list)
    remote: bool = False  # on another host: its log is read over the protocol

    def shows(self, message: str) -> bool:
        return not any(agent in message for agent in self.other_agents)


@dataclass(frozen=True)
class AutoPost:
    enabled: bool
    max_per_day: int
    min_conversations: int


@dataclass(frozen=True)
class PlacementChoice:
    """Where a new bot can run: `pooled`, `dedicated` or `remote:<gateway id>`."""

    value: str
    label: str


@dataclass(frozen=True)
class ModelChoice:
    value: str  # "<provider id>|<model id>"
    label: str
    description: str


@dataclass(frozen=True)
class ProviderRow:
    id: int
    name: str
    display_name: str
    kind: str
    kind_label: str
    base_url: str
    has_key: bool
    models: str  # one per line, "id | description"
    model_ids: str


@dataclass(frozen=True)
class DraftRow:
    id: int
    name: str
    step: int
    saved: str


@dataclass(frozen=True)
class ConfigCheck:
    ok: bool
    message: str


@dataclass(frozen=True)
class FormCheck:
    errors: dict[str, str]
    warnings: list[str]


@dataclass(frozen=True)
class ImportedBot:
    name: str
    agent_id: str
    channels: list[str]
    model: str
    source_id: str = ""  # the agent's id in the file (ClawNet renames OpenClaw's reserved `main`)
    fallbacks: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # persona files carried over


@dataclass(frozen=True)
class ProviderNeed:
    """A model provider an import creates, and whether its key is known (else the preview asks)."""

    name: str
    kind: str
    models: list[str]
    key_hint: str  # where OpenClaw found the key: "${ANTHROPIC_API_KEY}", "auth profile ..."
    has_key: bool
    from_file: bool = False


@dataclass(frozen=True)
class ImportResult:
    bots: list[ImportedBot]
    providers: list[str]
    errors: list[str]
    bot_ids: list[int]
    needs: list[ProviderNeed] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)  # dotted paths not carried over
    cron_jobs: list[str] = field(default_factory=list)  # carried over as schedules


@dataclass(frozen=True)
class BotChoice:
    id: int
    name: str


@dataclass(frozen=True)
class PairingStep:
    """Where a WhatsApp pairing stands: `state` is "qr" (show `qr`, valid `valid_s` more
    seconds), "waiting" (the same code, still valid), "linked" or "failed" (`message` says why)."""

    state: str
    message: str
    qr: str = ""
    valid_s: int = 0
    login_key: str = ""
