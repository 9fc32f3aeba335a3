"""Delivering an alert's news outside the app: email (the mail service), a signed webhook, and
a message from one of the owner's own bots to the owner's chat id (through the gateway's `send`).

The webhook's body is JSON; `X-ClawNet-Signature: sha256=<hex>` is HMAC-SHA256 with the owner's
secret over `<timestamp>.<body>`, the timestamp (Unix seconds) in `X-ClawNet-Timestamp`, so a
receiver can refuse replays. Failures (network, 5xx, 429) are retried with backoff; every attempt
is returned for the caller to record.

A webhook may not point at an internal address (loopback, private, link-local, multicast,
unspecified, reserved) unless `CLAWNET_ALERT_WEBHOOK_ALLOW_PRIVATE` says so: `webhook_url_problem`
checks the URL's host and every address it resolves to, when the URL is saved and again before
each delivery. Redirects are never followed."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from clawnet.aio import wait_for

SIGNATURE_HEADER = "X-ClawNet-Signature"
TIMESTAMP_HEADER = "X-ClawNet-Timestamp"
WEBHOOK_DELAYS_S = (1.0, 2.0, 4.0, 8.0)  # waits before the 2nd..5th try
WEBHOOK_TIMEOUT_S = 10.0
RESOLVE_TIMEOUT_S = 5.0


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value for `body` sent at `timestamp`."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


@dataclass(frozen=True)
class Attempt:
    attempt: int
    ok: bool
    outcome: str


def _internal(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return True  # not an address we can judge: refuse
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_unspecified
        or ip.is_reserved
        or not ip.is_global
    )


async def webhook_url_problem(url: str, *, allow_private: bool, unresolved_ok: bool = False) -> str | None:
    """Why `url` may not be a webhook, or None. It must be http(s) with a host; unless
    `allow_private`, neither the host nor any address it resolves to may be internal. A host that
    does not resolve is a problem unless `unresolved_ok` (saving: delivery checks again)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError:
        return "An http(s) address."
    if parts.scheme not in ("http", "https") or not host:
        return "An http(s) address."
    if allow_private:
        return None
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
        addresses = [host]
    except ValueError:
        try:
            infos = await wait_for(
                asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT_S
            )
        except (OSError, UnicodeError, TimeoutError):
            return None if unresolved_ok else f"The host {host} could not be resolved."
        addresses = [str(info[4][0]) for info in infos]
        if not addresses:
            return None if unresolved_ok else f"The host {host} could not be resolved."
    for address in addresses:
        if _internal(address):
            return f"{host} is an internal address ({address}); a webhook must be a public address."
    return None


def _retryable(status: int) -> bool:
    return status >= 500 or status in (408, 425, 429)


async def post_webhook(
    url: str,
    secret: str,
    payload: dict[str, Any],
    *,
    delays_s: tuple[float, ...] = WEBHOOK_DELAYS_S,
    timeout_s: float = WEBHOOK_TIMEOUT_S,
) -> list[Attempt]:
    """POST `payload` signed; retry with backoff until a 2xx, a final refusal (4xx) or the tries
    run out. Returns every attempt (the last says how it ended)."""
    body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    attempts: list[Attempt] = []
    async with httpx.AsyncClient(timeout=timeout_s, follow_redirects=False) as client:
        for n, delay in enumerate((0.0, *delays_s), start=1):
            if delay:
                await asyncio.sleep(delay)
            timestamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "ClawNet-Alerts/1",
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: sign(secret, timestamp, body),
            }
            try:
                response = await client.post(url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                attempts.append(Attempt(n, False, f"{type(exc).__name__}: {exc}"[:500]))
                continue
            ok = 200 <= response.status_code < 300
            attempts.append(Attempt(n, ok, f"HTTP {response.status_code}"))
            if ok or not _retryable(response.status_code):
                break
    return attempts


def alert_text(title: str, detail: str, event: str, url: str) -> tuple[str, str]:
    """(subject, text) of an email or bot message about an alert."""
    prefix = "Resolved" if event == "resolved" else "Alert"
    subject = f"[ClawNet] {prefix}: {title}"
    lines = [f"{prefix}: {title}"]
    if detail and event != "resolved":
        lines.append(detail)
    lines.append(f"Alert centre: {url}")
    return subject, "\n\n".join(lines)
