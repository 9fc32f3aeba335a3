"""Database work for the control plane, off the event loop.

SQLite can make a writer wait (busy timeout); doing that on the event loop would freeze every
gateway connection and every browser. One worker thread runs the control plane's database work
in submission order, so events about one session are written in the order they arrived.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlmodel import Session

from clawnet.db import session_scope

T = TypeVar("T")


class DbRunner:
    def __init__(self, url: str | None = None) -> None:
        self._url = url
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clawnet-fleet-db")

    async def run(self, fn: Callable[[Session], T]) -> T:
        """Run `fn(session)` in one transaction on the worker thread and return its result."""

        def work() -> T:
            with session_scope(self._url) as session:
                return fn(session)

        return await asyncio.get_running_loop().run_in_executor(self._pool, work)

    def submit(self, fn: Callable[[Session], T]) -> asyncio.Future[T]:
        """Queue `fn(session)` now (keeping the order of submissions) without waiting for it."""

        def work() -> T:
            with session_scope(self._url) as session:
                return fn(session)

        return asyncio.get_running_loop().run_in_executor(self._pool, work)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)
