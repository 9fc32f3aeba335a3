"""Gateway logs: OpenClaw's structured log file (one JSON object per line, `logging.file`),
tailed for the live view and read back for the first screen of the logs tab."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clawnet.aio import wait_for
from clawnet.controlplane.gateway_api import GatewayApi
from clawnet.controlplane.links import GatewayLinks
from clawnet.controlplane.paths import gateway_paths
from clawnet.controlplane.protocol import GatewayError
from clawnet.controlplane.supervisor import Supervisor
from clawnet.controlplane.tasks import stop_loops
from clawnet.events import EventBus, Kind
from clawnet.settings import Settings

log = logging.getLogger(__name__)
LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")
REMOTE_READ_LINES = 2000  # lines read from a remote gateway for one look at its log
REMOTE_TAIL_TIMEOUT_S = 10.0
MAX_TAIL_BYTES = 1_000_000  # the most OpenClaw sends for one logs.tail


@dataclass(frozen=True)
class LogLine:
    time: str
    level: str
    subsystem: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"time": self.time, "level": self.level, "subsystem": self.subsystem, "message": self.message}


def parse_log_line(raw: str) -> LogLine | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        obj: dict[str, Any] = json.loads(raw)
    except json.JSONDecodeError:
        return LogLine("", "INFO", "", raw[:2000])
    meta = obj.get("_meta") or {}
    subsystem = ""
    with contextlib.suppress(json.JSONDecodeError, TypeError, AttributeError):
        subsystem = str(json.loads(str(obj.get("0", "{}"))).get("subsystem", ""))
    message = obj.get("message") or obj.get("1") or ""
    level = str(meta.get("logLevelName") or "INFO").upper()
    return LogLine(str(obj.get("time") or meta.get("date") or ""), level, subsystem, str(message)[:2000])


def recent_logs(
    settings: Settings, gateway_id: int, *, limit: int = 200, level: str = "", search: str = ""
) -> list[LogLine]:
    """The last `limit` lines of a local gateway's log at or above `level`, containing `search`."""
    path = gateway_paths(settings, gateway_id).log_file
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 2 * 1024 * 1024))
            chunk = handle.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return []
    raw = chunk.splitlines()[1:] if len(chunk) >= 2 * 1024 * 1024 else chunk.splitlines()
    return select_lines(raw, limit=limit, level=level, search=search)


async def recent_remote_logs(
    api: GatewayApi, *, limit: int = 200, level: str = "", search: str = ""
) -> list[LogLine]:
    """The same for a gateway on another host: its log file read over the protocol (`logs.tail`).
    Filtering happens here, so more lines are asked for than shown."""
    tail = await api.logs_tail(limit=REMOTE_READ_LINES, max_bytes=MAX_TAIL_BYTES)
    return select_lines(tail.lines, limit=limit, level=level, search=search)


def select_lines(raw_lines: Iterable[str], *, limit: int, level: str = "", search: str = "") -> list[LogLine]:
    """The last `limit` parsed lines at or above `level` whose message or subsystem has `search`."""
    minimum = LEVELS.index(level.upper()) if level.upper() in LEVELS else 0
    needle = search.lower()
    lines: list[LogLine] = []
    for raw in raw_lines:
        line = parse_log_line(raw)
        if line is None:
            continue
        if (LEVELS.index(line.level) if line.level in LEVELS else 2) < minimum:
            continue
        if needle and needle not in line.message.lower() and needle not in line.subsystem.lower():
            continue
        lines.append(line)
    return lines[-limit:]


class LogTails:
    """Publishes new log lines of every running gateway on the bus (`gateway.log`): a local
    gateway's file read here every `interval_s`; a remote gateway's over the protocol
    (`logs.tail` with a cursor) every `remote_every` rounds."""

    def __init__(
        self,
        settings: Settings,
        bus: EventBus,
        supervisor: Supervisor,
        links: GatewayLinks,
        interval_s: float = 0.5,
        remote_every: int = 4,
    ) -> None:
        self.settings = settings
        self.bus = bus
        self.supervisor = supervisor
        self.links = links
        self.interval_s = interval_s
        self.remote_every = remote_every
        self._offsets: dict[int, int] = {}
        self._cursors: dict[int, int] = {}
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="gateway-log-tails")

    async def stop(self) -> None:
        self._stopping = True
        await stop_loops([self._task])
        self._task = None

    def reset(self, gateway_id: int) -> None:
        self._offsets[gateway_id] = 0

    async def _run(self) -> None:
        rounds = 0
        while not self._stopping:
            await asyncio.sleep(self.interval_s)
            local = set(self.supervisor.processes)
            for gateway_id in local:
                try:
                    self._tail(gateway_id, gateway_paths(self.settings, gateway_id).log_file)
                except OSError as exc:
                    log.debug("log tail %s: %s", gateway_id, exc)
            rounds += 1
            if rounds % self.remote_every == 0:
                await self._tail_remotes(local)

    async def _tail_remotes(self, local: set[int]) -> None:
        # A gateway of this machine has its log file here, running or stopping; one on another
        # host never does (its log is only reachable over the protocol).
        remote = {
            gid: link
            for gid, link in self.links.items()
            if gid not in local and not gateway_paths(self.settings, gid).log_file.exists()
        }
        for gone in set(self._cursors) - set(remote):
            del self._cursors[gone]
        for gateway_id, link in remote.items():
            if not link.client.is_connected:
                continue
            try:
                await wait_for(self._tail_remote(gateway_id, link.api), REMOTE_TAIL_TIMEOUT_S)
            except (GatewayError, TimeoutError) as exc:
                log.debug("remote log tail %s: %s", gateway_id, exc)

    async def _tail_remote(self, gateway_id: int, api: GatewayApi) -> None:
        cursor = self._cursors.get(gateway_id)
        if cursor is None:  # first look: start at the end
            self._cursors[gateway_id] = (await api.logs_tail(limit=1)).cursor
            return
        tail = await api.logs_tail(cursor)
        self._cursors[gateway_id] = tail.cursor
        for raw in tail.lines:
            line = parse_log_line(raw)
            if line is not None:
                self.bus.publish(Kind.GATEWAY_LOG, line.to_dict(), gateway_id=gateway_id)

    def _tail(self, gateway_id: int, path: Path) -> None:
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return
        offset = self._offsets.get(gateway_id)
        if offset is None or offset > size:  # first look (start at the end), or rotated
            self._offsets[gateway_id] = size if offset is None else 0
            if offset is None:
                return
            offset = 0
        if size == offset:
            return
        with path.open("rb") as handle:
            handle.seek(offset)
            data = handle.read(min(size - offset, 512 * 1024))
        complete = data.rfind(b"\n") + 1
        self._offsets[gateway_id] = offset + complete
        for raw in data[:complete].decode("utf-8", errors="replace").splitlines():
            line = parse_log_line(raw)
            if line is not None:
                self.bus.publish(Kind.GATEWAY_LOG, line.to_dict(), gateway_id=gateway_id)
