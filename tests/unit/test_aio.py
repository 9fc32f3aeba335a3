"""clawnet.aio.wait_for keeps a cancellation that arrives while its inner wait completes
(asyncio.wait_for on Python 3.11 returns instead, so a loop built on it outlived its cancel: a
stopped ClawNet kept reconciling and its stop waited forever)."""

from __future__ import annotations

import asyncio

import pytest

from clawnet import aio


async def _kicked_loop(wait, kick: asyncio.Event) -> int:
    rounds = 0
    while True:
        try:
            await wait(kick.wait(), 5)
        except TimeoutError:
            pass
        kick.clear()
        rounds += 1


async def _cancel_as_kicked(wait) -> asyncio.Task[int]:
    """Set the loop's event and cancel the loop in the same step, a few times."""
    kick = asyncio.Event()
    task = asyncio.create_task(_kicked_loop(wait, kick))
    await asyncio.sleep(0.01)
    for _ in range(5):
        kick.set()
        task.cancel()
        await asyncio.sleep(0.01)
        if task.done():
            break
    return task


async def test_a_cancel_racing_the_wake_up_ends_the_loop() -> None:
    task = await _cancel_as_kicked(aio.wait_for)
    assert task.cancelled()


async def test_the_race_is_real_for_asyncio_wait_for_on_this_python() -> None:
    """The reason the helper exists (fixed upstream in Python 3.12)."""
    import sys

    if sys.version_info >= (3, 12):
        pytest.skip("Python 3.12 rebuilt asyncio.wait_for on asyncio.timeout")
    task = await _cancel_as_kicked(asyncio.wait_for)
    try:
        assert not task.done(), "asyncio.wait_for kept the cancellation here: the helper could go"
    finally:
        task.cancel()  # the loop now sleeps in its wait: this one is not lost
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_a_timeout_raises_and_cancels_the_awaited_task() -> None:
    inner = asyncio.create_task(asyncio.sleep(30))
    with pytest.raises(TimeoutError):
        await aio.wait_for(inner, 0.05)
    await asyncio.sleep(0)
    assert inner.cancelled()


async def test_a_result_in_time_is_returned_and_none_means_no_limit() -> None:
    async def answer() -> int:
        await asyncio.sleep(0.01)
        return 42

    assert await aio.wait_for(answer(), 5) == 42
    assert await aio.wait_for(answer(), None) == 42
