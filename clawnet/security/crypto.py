"""Secrets at rest: AES-256-GCM with a key ring.

Every ciphertext names the key that made it: ``cn1:<key id>:<base64url(nonce || ciphertext+tag)>``.
The key id and a *context* (which column the value belongs to) are bound in as associated data,
so a ciphertext moved to another column, or altered by one bit, is refused.

Keys come from ``CLAWNET_SECRET_KEY`` (base64, 32 bytes; with ``CLAWNET_PREVIOUS_SECRET_KEYS``
for keys being rotated out) or from a key file in the data folder, generated on first use with
mode 0600. Rotation (``clawnet rotate-key``) re-encrypts every stored secret with a new key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from clawnet.files import write_file_atomically

PREFIX = "cn1"
KEY_BYTES = 32
NONCE_BYTES = 12


class SecretError(Exception):
    """A secret could not be encrypted or decrypted; the message says why."""


class UnknownKeyError(SecretError):
    """The ciphertext names a key this key ring does not hold."""


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def key_id_for(key: bytes) -> str:
    """A short, stable, non-secret name for a key (first 8 hex digits of its SHA-256)."""
    return hashlib.sha256(b"clawnet-key-id:" + key).hexdigest()[:8]


def generate_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def parse_key(text: str, *, source: str) -> bytes:
    """Decode a base64 (standard or url-safe) 32-byte key; `source` names it in errors."""
    cleaned = text.strip()
    try:
        key = base64.b64decode(cleaned.replace("-", "+").replace("_", "/") + "=" * (-len(cleaned) % 4))
    except (binascii.Error, ValueError):
        raise SecretError(f"{source} is not valid base64.") from None
    if len(key) != KEY_BYTES:
        raise SecretError(
            f"{source} must decode to {KEY_BYTES} bytes (AES-256), got {len(key)}. "
            'Generate one with: python -c "import secrets,base64;'
            'print(base64.b64encode(secrets.token_bytes(32)).decode())"'
        )
    return key


@dataclass
class KeyRing:
    """The keys that can decrypt, and the one that encrypts."""

    keys: dict[str, bytes] = field(default_factory=dict)
    active_id: str = ""

    @classmethod
    def with_keys(cls, active: bytes, others: Iterable[bytes] = ()) -> KeyRing:
        ring = cls()
        for key in others:
            ring.keys[key_id_for(key)] = key
        ring.active_id = ring.add(active)
        return ring

    def add(self, key: bytes) -> str:
        kid = key_id_for(key)
        self.keys[kid] = key
        return kid

    def encrypt(self, plaintext: str, context: str) -> str:
        if not self.active_id:
            raise SecretError("no active encryption key")
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.keys[self.active_id]).encrypt(
            nonce, plaintext.encode("utf-8"), self._aad(self.active_id, context)
        )
        return f"{PREFIX}:{self.active_id}:{_b64encode(nonce + sealed)}"

    def decrypt(self, token: str, context: str) -> str:
        kid, blob = self._split(token, context)
        key = self.keys.get(kid)
        if key is None:
            raise UnknownKeyError(
                f"The secret in {context} was encrypted with key {kid}, which this installation "
                "does not have. Restore that key (key file or CLAWNET_PREVIOUS_SECRET_KEYS)."
            )
        if len(blob) < NONCE_BYTES + 16:
            raise SecretError(f"The secret in {context} is truncated or corrupted.")
        try:
            plain = AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], self._aad(kid, context))
        except InvalidTag:
            raise SecretError(
                f"The secret in {context} failed its integrity check: it was altered, "
                "or belongs to another field. It was not used."
            ) from None
        return plain.decode("utf-8")

    def key_id_of(self, token: str, context: str = "value") -> str:
        return self._split(token, context)[0]

    @staticmethod
    def _aad(kid: str, context: str) -> bytes:
        return f"{PREFIX}|{kid}|{context}".encode()

    @staticmethod
    def _split(token: str, context: str) -> tuple[str, bytes]:
        parts = token.split(":", 2)
        if len(parts) != 3 or parts[0] != PREFIX or not parts[1]:
            raise SecretError(f"The value in {context} is not a ClawNet ciphertext.")
        try:
            return parts[1], _b64decode(parts[2])
        except (binascii.Error, ValueError):
            raise SecretError(f"The secret in {context} is corrupted (bad encoding).") from None


# --- The key file --------------------------------------------------------------------------


def read_key_file(path: Path) -> KeyRing:
    try:
        data = json.loads(path.read_text())
        ring = KeyRing()
        for kid, text in data["keys"].items():
            key = parse_key(text, source=f"key {kid} in {path}")
            if key_id_for(key) != kid:
                raise SecretError(f"Key file {path}: key {kid} does not match its id.")
            ring.keys[kid] = key
        ring.active_id = data["active"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SecretError(f"Key file {path} is unreadable or malformed: {exc}") from None
    if ring.active_id not in ring.keys:
        raise SecretError(f"Key file {path}: the active key {ring.active_id} is missing.")
    return ring


def write_key_file(path: Path, ring: KeyRing) -> None:
    """Write the key ring atomically, readable by its owner only."""
    data = {
        "active": ring.active_id,
        "keys": {kid: base64.b64encode(key).decode("ascii") for kid, key in ring.keys.items()},
    }
    write_file_atomically(path, json.dumps(data, indent=2) + "\n", mode=0o600)


def load_key_ring(secret_key: str | None, previous: Iterable[str], key_file: Path) -> KeyRing:
    """The installation's key ring: from the environment if a key is given there, else the
    key file (created with a fresh key the first time)."""
    if secret_key:
        active = parse_key(secret_key, source="CLAWNET_SECRET_KEY")
        others = [parse_key(k, source="CLAWNET_PREVIOUS_SECRET_KEYS") for k in previous]
        return KeyRing.with_keys(active, others)
    if key_file.exists():
        mode = key_file.stat().st_mode & 0o777
        if mode & 0o077:
            raise SecretError(
                f"Key file {key_file} is readable by others (mode {mode:o}); run: chmod 600 {key_file}"
            )
        return read_key_file(key_file)
    ring = KeyRing.with_keys(generate_key())
    write_key_file(key_file, ring)
    return ring


_ring: KeyRing | None = None


def get_key_ring() -> KeyRing:
    """This process's key ring, loaded from settings on first use."""
    global _ring
    if _ring is None:
        from clawnet.settings import get_settings

        s = get_settings()
        _ring = load_key_ring(s.secret_key, s.previous_secret_keys, s.key_file)
    return _ring


def set_key_ring(ring: KeyRing | None) -> None:
    """Replace this process's key ring (after a rotation, and in tests)."""
    global _ring
    _ring = ring


def encrypt(plaintext: str, context: str) -> str:
    return get_key_ring().encrypt(plaintext, context)


def decrypt(token: str, context: str) -> str:
    try:
        return get_key_ring().decrypt(token, context)
    except UnknownKeyError:
        # Another process may have rotated the key file since this one loaded it.
        from clawnet.settings import get_settings

        s = get_settings()
        if s.secret_key or not s.key_file.exists():
            raise
        set_key_ring(read_key_file(s.key_file))
        return get_key_ring().decrypt(token, context)
