"""Background tasks of the control plane: each kept referenced until it ends, its failure logged,
all cancelled together when the control plane stops."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Iterable
from typing import Any

log = logging.getLogger(__name__)


async def stop_loops(loops: Iterable[asyncio.Task[Any] | None], timeout_s: float = 10.0) -> None:
    """Cancel a part's long-running loops and wait for them, at most `timeout_s`. The loops also
    end by their part's stop flag: on Python 3.11 `asyncio.wait_for` can swallow a cancellation
    that arrives as its inner wait completes, and an awaited loop would then never end."""
    tasks = {task for task in loops if task is not None}
    for task in tasks:
        task.cancel()
    if tasks:
        _done, pending = await asyncio.wait(tasks, timeout=timeout_s)
        for task in pending:
            log.warning("%s did not stop within %.0f s", task.get_name(), timeout_s)


class TaskSet:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run `coro` in the background, keeping a reference until it ends (and logging a failure)."""
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self._tasks.discard(t)
            if not t.cancelled() and t.exception() is not None:
                log.error("background task %s failed: %r", name, t.exception())

        task.add_done_callback(done)
        return task

    def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()
