"""Calling ClawNet's async services from synchronous test code (fixtures, Playwright tests): the
coroutine runs to completion on its own event loop in a helper thread, so it works whether or
not the calling thread already runs a loop."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
