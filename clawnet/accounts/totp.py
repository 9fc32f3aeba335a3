"""TOTP (RFC 6238, SHA-1, 6 digits, 30 s) on the standard library, and recovery codes.

Codes are compared in constant time; `verify` returns the matching time step so the caller can
refuse a code that was already used (a step is accepted once)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time
from urllib.parse import quote, urlencode

DIGITS = 6
PERIOD_S = 30
WINDOW = 1  # accept the previous and the next step too (clock drift)
ISSUER = "ClawNet"
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


def new_secret() -> str:
    """160 random bits, base32 (what authenticator apps expect)."""
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii").rstrip("=")


def _key(secret: str) -> bytes:
    secret = secret.strip().replace(" ", "").upper()
    return base64.b32decode(secret + "=" * (-len(secret) % 8))


def code_at(secret: str, step: int) -> str:
    digest = hmac.new(_key(secret), struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**DIGITS).zfill(DIGITS)


def current_step(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // PERIOD_S)


def now_code(secret: str, now: float | None = None) -> str:
    return code_at(secret, current_step(now))


def verify(secret: str, code: str, *, after_step: int = 0, now: float | None = None) -> int | None:
    """The time step `code` belongs to (within one step of now, later than `after_step`), or None."""
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isdigit():
        return None
    found: int | None = None
    here = current_step(now)
    for step in range(here - WINDOW, here + WINDOW + 1):
        # Check every candidate (no early exit), so the time taken says nothing about which matched.
        if hmac.compare_digest(code_at(secret, step), code) and step > after_step:
            found = step
    return found


def provisioning_uri(secret: str, account: str) -> str:
    label = quote(f"{ISSUER}:{account}", safe="@:")
    query = urlencode({"secret": secret, "issuer": ISSUER, "digits": DIGITS, "period": PERIOD_S})
    return f"otpauth://totp/{label}?{query}"


def new_recovery_codes(count: int = RECOVERY_CODES) -> list[str]:
    """`count` codes like `k3mx-9pqa-t7wn` (about 70 random bits each)."""
    codes = []
    for _ in range(count):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(12))
        codes.append(f"{raw[:4]}-{raw[4:8]}-{raw[8:]}")
    return codes


def normalize_recovery_code(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def hash_recovery_code(user_id: int, code: str) -> str:
    return hashlib.sha256(f"clawnet-recovery:{user_id}:{normalize_recovery_code(code)}".encode()).hexdigest()
