"""Gateway logs: OpenClaw's structured log file (one JSON object per line, `logging.file`),
tailed for the live view and read back for the first screen of the logs tab."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clawnet.controlplane.paths import gateway_paths
from clawnet.controlplane.supervisor import Supervisor
from clawnet.events import EventBus, Kind
from clawnet.settings import Settings

log = logging.getLogger(__name__)
LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")


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
    """The last `limit` lines of a gateway's log at or above `level`, containing `search`."""
    path = gateway_paths(settings, gateway_id).log_file
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 2 * 1024 * 1024))
            chunk = handle.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return []
    minimum = LEVELS.index(level.upper()) if level.upper() in LEVELS else 0
    needle = search.lower()
    lines: list[LogLine] = []
    for raw in chunk.splitlines()[1:] if len(chunk) >= 2 * 1024 * 1024 else chunk.splitlines():
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
    """Publishes new log lines of every running local gateway on the bus (`gateway.log`)."""

    def __init__(
        self, settings: Settings, bus: EventBus, supervisor: Supervisor, interval_s: float = 0.5
    ) -> None:
        self.settings = settings
        self.bus = bus
        self.supervisor = supervisor
        self.interval_s = interval_s
        self._offsets: dict[int, int] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="gateway-log-tails")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def reset(self, gateway_id: int) -> None:
        self._offsets[gateway_id] = 0

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            for gateway_id in list(self.supervisor.processes):
                try:
                    self._tail(gateway_id, gateway_paths(self.settings, gateway_id).log_file)
                except OSError as exc:
                    log.debug("log tail %s: %s", gateway_id, exc)

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
