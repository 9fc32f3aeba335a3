"""What the session lists, transcripts and response-time charts show, as typed read models.

Lists come a page at a time: a page carries an opaque `next_cursor` ("" on the last page) that
asks for the rows after its last one, so a list of many thousands of sessions never loads whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from urllib.parse import urlencode

from clawnet.bots.views import TranscriptLine

# Activity windows the filters offer: the value in the URL -> (label, seconds).
ACTIVITY_WINDOWS: dict[str, tuple[str, int]] = {
    "hour": ("Active in the last hour", 3600),
    "day": ("Active in the last day", 86400),
    "week": ("Active in the last week", 7 * 86400),
}
DASHBOARD_CHANNEL = "dashboard"  # what a session without a channel (ClawNet's own chat) shows as
MAX_SEARCH = 200


@dataclass(frozen=True)
class SessionFilters:
    """What a session list is narrowed to. Empty values mean "any"."""

    bot_id: int = 0
    channel: str = ""
    kind: str = ""
    active: str = ""  # a key of ACTIVITY_WINDOWS
    search: str = ""

    @classmethod
    def from_query(cls, params: dict[str, str]) -> SessionFilters:
        """From a page's URL query (`bot`, `channel`, `kind`, `active`, `q`); unknown or
        malformed values are dropped rather than refused, as URLs get edited by hand."""
        bot = str(params.get("bot") or "")
        active = str(params.get("active") or "")
        return cls(
            bot_id=int(bot) if bot.isdigit() else 0,
            channel=str(params.get("channel") or "")[:32],
            kind=str(params.get("kind") or "")[:32],
            active=active if active in ACTIVITY_WINDOWS else "",
            search=str(params.get("q") or "").strip()[:MAX_SEARCH],
        )

    def with_bot(self, bot_id: int) -> SessionFilters:
        return replace(self, bot_id=bot_id)

    def query(self) -> str:
        """The URL query that gives these filters back (`?...`, or "" for none)."""
        pairs = [
            ("bot", str(self.bot_id) if self.bot_id else ""),
            ("channel", self.channel),
            ("kind", self.kind),
            ("active", self.active),
            ("q", self.search),
        ]
        kept = [(k, v) for k, v in pairs if v]
        return "?" + urlencode(kept) if kept else ""


@dataclass(frozen=True)
class SessionListRow:
    id: int
    bot_id: int
    bot: str
    key: str
    channel: str
    peer: str
    kind: str
    status: str
    messages: int
    tokens: int
    cost: str
    last: str  # "5 min ago"
    at: str  # the activity time, "2026-12-02 05:40"
    preview: str
    can_operate: bool  # whether the person may act on it (reply, reset, ...)
    label: str = ""  # the name people gave the session


@dataclass(frozen=True)
class SessionPage:
    rows: list[SessionListRow]
    next_cursor: str  # "" when this is the last page


@dataclass(frozen=True)
class FilterChoice:
    value: str
    label: str


@dataclass(frozen=True)
class SessionFacets:
    """The choices the filters offer: the bots, channels and kinds of the visible sessions."""

    bots: list[FilterChoice] = field(default_factory=list)
    channels: list[FilterChoice] = field(default_factory=list)
    kinds: list[FilterChoice] = field(default_factory=list)


@dataclass(frozen=True)
class TranscriptPage:
    """The newest lines of a transcript up to a point, oldest first; `has_older` says whether
    lines before `lines[0]` exist (ask again with `before_seq=lines[0].seq`)."""

    lines: list[TranscriptLine]
    has_older: bool
    total: int


@dataclass(frozen=True)
class ResponseDay:
    """Response times of one day's finished turns, in seconds (0 when there were none)."""

    day: str
    turns: int
    p50: float
    p95: float
    tokens: int
    cost: float


@dataclass(frozen=True)
class MinuteCount:
    minute: str  # "05:41"
    messages: int
    turns: int
