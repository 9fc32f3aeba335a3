"""Where alerts land in tests: an SMTP server on loopback (aiosmtpd) that keeps every message,
and a webhook receiver that checks signatures and can be told to fail first."""

from __future__ import annotations

import email
import threading
import time
from email.message import Message
from typing import Any, Self

from aiosmtpd.controller import Controller

from clawnet.controlplane.alert_delivery import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from tests.support.fake_http import FakeHttp, Request
from tests.support.server import free_port


class SmtpSink:
    """`with SmtpSink() as smtp:` an SMTP server on 127.0.0.1:`smtp.port`; `smtp.messages`."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.received_at: list[float] = []
        self.port = free_port()
        self._got = threading.Condition()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        with self._got:
            self.messages.append(email.message_from_bytes(envelope.content))
            self.received_at.append(time.time())
            self._got.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 60) -> list[Message]:
        with self._got:
            if not self._got.wait_for(lambda: len(self.messages) >= count, timeout):
                raise TimeoutError(f"{len(self.messages)} of {count} messages arrived")
            return list(self.messages)

    def __enter__(self) -> Self:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()


class WebhookSink(FakeHttp):
    """Answers each POST with the next status of `statuses` (then 200); keeps arrival times."""

    name = "webhook-sink"

    def __init__(self, secret: str = "", statuses: list[int] | None = None) -> None:
        super().__init__()
        self.secret = secret
        self.statuses = list(statuses or [])
        self.arrived_at: list[float] = []
        self._got = threading.Condition()

    def answer(self, request: Request) -> tuple[int, Any]:
        with self._got:
            self.arrived_at.append(time.time())
            self._got.notify_all()
        return (self.statuses.pop(0) if self.statuses else 200), {"ok": True}

    def signed(self, request: Request) -> bool:
        return verify(
            self.secret,
            request.headers.get(TIMESTAMP_HEADER.lower(), ""),
            request.body,
            request.headers.get(SIGNATURE_HEADER.lower(), ""),
        )

    def wait_for(self, count: int, timeout: float = 60) -> list[Request]:
        with self._got:
            if not self._got.wait_for(lambda: len(self.requests) >= count, timeout):
                raise TimeoutError(f"{len(self.requests)} of {count} webhooks arrived")
        return list(self.requests)
