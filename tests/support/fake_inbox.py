"""A fake ActivityPub server on loopback for delivery tests and the fan-out bench: it answers
POSTs to any path with a chosen status after an optional delay, keeps each request, and
measures how many requests it was serving at once (`max_concurrent`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from tests.support.fake_http import FakeHttp, Request


class FakeInbox(FakeHttp):
    name = "fake-inbox"

    def __init__(self, *, delay: float = 0.0, statuses: list[int] | None = None) -> None:
        super().__init__()
        self.delay = delay
        self.statuses = list(statuses or [])  # answered in turn; 202 once used up
        self.current = 0
        self.max_concurrent = 0
        self.on_request: Callable[[Request], None] | None = None
        self.up = True

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def inbox(self, name: str = "inbox") -> str:
        return f"{self.url}/{name}"

    def answer(self, request: Request) -> tuple[int, object]:
        if self.on_request is not None:
            self.on_request(request)
        return (self.statuses.pop(0) if self.statuses else 202), {}

    async def respond(self, request: Request) -> tuple[int, object]:
        """Held `delay` seconds, counting how many are answered at once (`max_concurrent`)."""
        self.current += 1
        self.max_concurrent = max(self.max_concurrent, self.current)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            return await super().respond(request)
        finally:
            self.current -= 1
