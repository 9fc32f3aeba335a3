"""HTTP Signatures as the fediverse uses them (draft-cavage-http-signatures, `rsa-sha256`,
with a SHA-256 `Digest` of the body), the way Mastodon signs and checks its requests.

Signing covers `(request-target) host date digest` (and `content-type` when sent); verifying
requires `(request-target)`, `host` and `date` to be signed, `digest` for a request with a body,
the body to match the digest, and the date to be within `SKEW` of now (an old request replayed is
refused). `hs2019` (the newer name) is accepted for RSA keys.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

SKEW = timedelta(hours=1)
KEY_BITS = 2048
ALGORITHMS = {"rsa-sha256", "hs2019"}
_PARAM = re.compile(r'\s*([a-zA-Z]+)\s*=\s*"([^"]*)"\s*(?:,|$)')


class SignatureError(ValueError):
    """A request's signature is missing, malformed, stale, or does not verify (the message says
    which; it is safe to return to the sender)."""


@dataclass(frozen=True)
class SignatureParams:
    key_id: str
    algorithm: str
    headers: tuple[str, ...]
    signature: bytes


def new_key_pair() -> tuple[str, str]:
    """A fresh RSA key pair as (public PEM, private PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return public, private


def digest(body: bytes) -> str:
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()


def http_date(moment: datetime | None = None) -> str:
    return format_datetime((moment or datetime.now(UTC)).astimezone(UTC), usegmt=True)


def _target(method: str, url: str) -> str:
    parts = urlsplit(url)
    path = parts.path or "/"
    return f"{method.lower()} {path}?{parts.query}" if parts.query else f"{method.lower()} {path}"


def _signing_string(names: tuple[str, ...], target: str, headers: Mapping[str, str]) -> bytes:
    lines = []
    for name in names:
        if name == "(request-target)":
            lines.append(f"(request-target): {target}")
        else:
            value = headers.get(name)
            if value is None:
                raise SignatureError(f"The signed header {name!r} is missing from the request.")
            lines.append(f"{name}: {value.strip()}")
    return "\n".join(lines).encode()


def sign(
    method: str,
    url: str,
    body: bytes | None,
    key_id: str,
    private_key_pem: str,
    *,
    content_type: str | None = None,
    now: datetime | None = None,
) -> dict[str, str]:
    """The headers to send with a request to `url`: Host, Date, (Digest,) (Content-Type,) and
    Signature. `url` must be the exact URL requested."""
    headers: dict[str, str] = {"host": urlsplit(url).netloc, "date": http_date(now)}
    names = ["(request-target)", "host", "date"]
    if body is not None:
        headers["digest"] = digest(body)
        names.append("digest")
    if content_type:
        headers["content-type"] = content_type
        names.append("content-type")
    key = _private_key(private_key_pem)
    data = _signing_string(tuple(names), _target(method, url), headers)
    signature = base64.b64encode(key.sign(data, padding.PKCS1v15(), hashes.SHA256())).decode()
    headers["signature"] = (
        f'keyId="{key_id}",algorithm="rsa-sha256",headers="{" ".join(names)}",signature="{signature}"'
    )
    return {name.title(): value for name, value in headers.items()}


@functools.lru_cache(maxsize=512)
def _private_key(private_key_pem: str) -> rsa.RSAPrivateKey:
    """A private key, loaded once: loading checks the RSA key, which takes tens of milliseconds
    (a fan-out to many inboxes signs with the same key each time)."""
    key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("HTTP Signatures here need an RSA key.")
    return key


def parse(header: str) -> SignatureParams:
    """The parameters of a `Signature` header."""
    params: dict[str, str] = {}
    position = 0
    while position < len(header):
        match = _PARAM.match(header, position)
        if match is None:
            raise SignatureError("The Signature header is malformed.")
        params[match.group(1).lower()] = match.group(2)
        position = match.end()
    if not params.get("keyid") or not params.get("signature"):
        raise SignatureError("The Signature header needs keyId and signature.")
    algorithm = params.get("algorithm", "hs2019").lower()
    if algorithm not in ALGORITHMS:
        raise SignatureError(f"The signature algorithm {algorithm!r} is not supported (use rsa-sha256).")
    try:
        raw = base64.b64decode(params["signature"], validate=True)
    except ValueError as exc:
        raise SignatureError("The signature is not valid base64.") from exc
    names = tuple(params.get("headers", "date").lower().split())
    return SignatureParams(params["keyid"], algorithm, names, raw)


def verify(
    method: str,
    path_and_query: str,
    headers: Mapping[str, str],
    body: bytes,
    public_key_pem: str,
    *,
    params: SignatureParams | None = None,
    now: datetime | None = None,
) -> None:
    """Raise SignatureError unless the request was signed by the key `public_key_pem`.

    `headers` must be case-insensitive with lower-case lookups working (Starlette's Headers are);
    `path_and_query` is the request's path with its query string, if any."""
    if params is None:
        header = headers.get("signature")
        if not header:
            raise SignatureError("The request is not signed (no Signature header).")
        params = parse(header)
    required = {"(request-target)", "host", "date"} | ({"digest"} if body else set())
    if missing := sorted(required - set(params.headers)):
        raise SignatureError(f"The signature must cover {', '.join(missing)}.")
    try:
        signed_at = parsedate_to_datetime(headers.get("date", ""))
    except (TypeError, ValueError) as exc:
        raise SignatureError("The Date header is malformed.") from exc
    if signed_at.tzinfo is None:
        signed_at = signed_at.replace(tzinfo=UTC)
    if abs((now or datetime.now(UTC)) - signed_at) > SKEW:
        raise SignatureError("The request's Date is too far from now (a stale or replayed request).")
    if body or "digest" in params.headers:
        sent = headers.get("digest", "")
        wanted = digest(body)
        sha256 = [d.strip() for d in sent.split(",") if d.strip().upper().startswith("SHA-256=")]
        if not sha256 or sha256[0][len("SHA-256=") :] != wanted[len("SHA-256=") :]:
            raise SignatureError("The body does not match its Digest.")
    method_target = f"{method.lower()} {path_and_query or '/'}"
    data = _signing_string(params.headers, method_target, headers)
    try:
        key = serialization.load_pem_public_key(public_key_pem.encode())
    except ValueError as exc:
        raise SignatureError("The signer's public key is malformed.") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise SignatureError("Only RSA keys are supported.")
    try:
        key.verify(params.signature, data, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature as exc:
        raise SignatureError("The signature does not verify with the signer's key.") from exc
