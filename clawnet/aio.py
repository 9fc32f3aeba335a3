"""asyncio helpers the whole code base uses.

`wait_for` replaces `asyncio.wait_for`: on Python 3.11, `asyncio.wait_for` swallows a
cancellation that arrives while its inner wait completes (it returns the result instead), so a
loop like `while True: await asyncio.wait_for(kick.wait(), 5)` can outlive its own cancel: a
stopped ClawNet then kept reconciling (and restarting gateways it had just stopped) and a stop
that awaited such a loop waited forever. `asyncio.timeout` (3.11+) counts cancellations and does
not lose one; Python 3.12 rebuilt `wait_for` on it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def wait_for(aw: Awaitable[T], timeout: float | None) -> T:
    """Await `aw`, raising TimeoutError after `timeout` seconds (None: no limit). A future or
    task that times out is cancelled, as with `asyncio.wait_for`."""
    async with asyncio.timeout(timeout):
        return await aw
