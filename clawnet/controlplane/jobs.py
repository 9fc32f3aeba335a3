"""The control plane's timed jobs (health probes, metrics, housekeeping, restarts after a backoff) on
APScheduler, kept steady when the wall clock steps.

APScheduler waits with the event loop's monotonic timer but decides what is due by comparing each
job's next run time with `datetime.now()`. After an NTP step an hour back, every periodic job (the
health probes included) and every pending restart would wait an extra hour; a step forward would
make restarts fire early. So before each pass over due jobs the scheduler measures how far the wall
clock moved against the monotonic one since the last pass and moves every job's next run time by
the same amount: intervals and backoffs keep their length in real (monotonic) time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger(__name__)

Job = Callable[..., Awaitable[Any]]
STEP_S = 1.0  # a wall-clock move beyond the monotonic clock's by more than this is a step


def _clock_offset() -> float:
    return time.time() - time.monotonic()


class _SteadyScheduler(AsyncIOScheduler):
    """AsyncIOScheduler that absorbs wall-clock steps before it looks for due jobs."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._offset = _clock_offset()

    def absorb_clock_step(self) -> None:
        """Move every job by the wall clock's step since the last look (if it stepped)."""
        offset = _clock_offset()
        step = offset - self._offset
        if abs(step) <= STEP_S:
            return
        self._offset = offset
        log.warning("the wall clock stepped %+.0f s; timed jobs keep their pace", step)
        for job in self.get_jobs():
            if job.next_run_time is not None:
                job.modify(next_run_time=job.next_run_time + timedelta(seconds=step))

    def _process_jobs(self) -> float | None:
        self.absorb_clock_step()
        wait: float | None = super()._process_jobs()
        return wait


class Jobs:
    """Named jobs: `every(s, fn)` runs `fn` each `s` seconds (never two runs of one job at once;
    missed ticks are coalesced into one), `after(s, fn)` runs it once. A job with the name of an
    existing one replaces it. The scheduler starts with the first job (on the running loop); after
    `shutdown` new jobs are ignored."""

    def __init__(self) -> None:
        self._scheduler = _SteadyScheduler(
            timezone="UTC",
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self._closed = False

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    def start(self) -> None:
        """Start on the running event loop (without one, jobs wait until a later `start`)."""
        if self._closed or self._scheduler.running:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        self._scheduler.start()

    def every(self, seconds: float, fn: Job, *, name: str, args: tuple[Any, ...] = ()) -> None:
        trigger = IntervalTrigger(seconds=seconds, timezone=UTC)
        self._add(fn, trigger, name, args)

    def after(self, seconds: float, fn: Job, *, name: str, args: tuple[Any, ...] = ()) -> None:
        trigger = DateTrigger(run_date=datetime.now(UTC) + timedelta(seconds=max(0.0, seconds)), timezone=UTC)
        self._add(fn, trigger, name, args)

    def _add(self, fn: Job, trigger: Any, name: str, args: tuple[Any, ...]) -> None:
        if self._closed:
            return
        self.start()
        self._scheduler.absorb_clock_step()  # a step before this job must not move it too
        self._scheduler.add_job(fn, trigger, args=list(args), id=name, name=name, replace_existing=True)

    def cancel(self, name: str) -> None:
        with contextlib.suppress(JobLookupError):
            self._scheduler.remove_job(name)

    def names(self) -> list[str]:
        return sorted(job.id for job in self._scheduler.get_jobs())

    def shutdown(self) -> None:
        self._closed = True
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
