"""The control plane's timed jobs (health probes, metrics, housekeeping, restarts after a backoff),
run on the event loop and timed by the monotonic clock only.

A wall-clock scheduler compares its next run time with `datetime.now()`: after an NTP step an
hour back, every periodic job (the health probes included) and every pending restart would wait
an extra hour; a step forward would fire them all at once. Here an interval is measured with
`time.monotonic` (through asyncio's own clock), which never jumps.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)

Job = Callable[..., Awaitable[Any]]


class Jobs:
    """Named jobs: `every(s, fn)` runs `fn` each `s` seconds (never two runs of one job at once;
    a run that overruns skips the ticks it missed), `after(s, fn)` runs it once. A job with the
    name of an existing one replaces it."""

    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self.running = False

    def start(self) -> None:
        self.running = True

    def every(self, seconds: float, fn: Job, *, name: str, args: tuple[Any, ...] = ()) -> None:
        self._spawn(name, self._repeat(seconds, fn, name, args))

    def after(self, seconds: float, fn: Job, *, name: str, args: tuple[Any, ...] = ()) -> None:
        self._spawn(name, self._once(seconds, fn, name, args))

    def cancel(self, name: str) -> None:
        task = self._tasks.pop(name, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    def names(self) -> list[str]:
        return sorted(self._tasks)

    def shutdown(self) -> None:
        self.running = False
        for name in list(self._tasks):
            self.cancel(name)

    def _spawn(self, name: str, work: Coroutine[Any, Any, None]) -> None:
        self.cancel(name)
        task = asyncio.create_task(work, name=f"job-{name}")
        self._tasks[name] = task
        task.add_done_callback(lambda t: self._tasks.pop(name, None) if self._tasks.get(name) is t else None)

    async def _repeat(self, seconds: float, fn: Job, name: str, args: tuple[Any, ...]) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time() + seconds  # the loop's clock is time.monotonic
        while True:
            await asyncio.sleep(max(0.0, due - loop.time()))
            await self._run(fn, name, args)
            due += seconds
            if due < loop.time():  # overran: coalesce the missed ticks into the next one
                due = loop.time() + seconds

    async def _once(self, seconds: float, fn: Job, name: str, args: tuple[Any, ...]) -> None:
        await asyncio.sleep(max(0.0, seconds))
        self._tasks.pop(name, None)  # a job it starts may schedule this name again
        await self._run(fn, name, args)

    @staticmethod
    async def _run(fn: Job, name: str, args: tuple[Any, ...]) -> None:
        try:
            await fn(*args)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("job %s failed", name)
