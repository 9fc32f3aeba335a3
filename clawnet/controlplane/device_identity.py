"""ClawNet's device identity towards OpenClaw gateways it reaches over a network.

OpenClaw (2026.9.6) lets a shared-token "backend" client skip device identity only on a direct
loopback connection. Anything else must prove a device key in `connect.params.device`:

- the key is Ed25519; `device.publicKey` is the raw 32-byte public key, base64url without padding;
- `device.id` is the lowercase hex SHA-256 of those 32 raw bytes;
- `device.signedAt` is the `ts` of the gateway's `connect.challenge`, `device.nonce` its `nonce`;
- `device.signature` is base64url (no padding) of the Ed25519 signature over the UTF-8 string
  ``v3|<deviceId>|<client.id>|<client.mode>|<role>|<scopes joined by ",">|<signedAt>|<token>|<nonce>|<platform>|<deviceFamily>``
  where token is `auth.token` (else `auth.deviceToken`, else empty) and platform/deviceFamily are
  `client.platform`/`client.deviceFamily` trimmed and ASCII-lowercased (empty when absent).

A new device must be approved on the gateway host (`openclaw devices approve <requestId>`); after
that, `hello-ok.auth.deviceToken` carries a per-device token, which is kept per gateway.

Storage: one key pair per installation, in ``<data dir>/device-identity.json``, the private key
encrypted with the installation's key ring (`clawnet.security.crypto`, the same keys as every
other secret), written atomically with mode 0600. A file rather than a table: the identity
belongs to the installation, not to a row, the protocol client reads it without a database
session, and nothing else but ClawNet's own key ring is needed to use it. Key rotation
(`clawnet rotate-key`) re-encrypts table columns only: this file is re-sealed with the active
key the next time it is read, so rotate, let ClawNet connect once, and only then drop old keys. Device
tokens the gateways issue live next to it (``device-tokens.json``), each encrypted, keyed by
gateway URL + role.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from clawnet.files import write_file_atomically
from clawnet.security import crypto

IDENTITY_FILE = "device-identity.json"
TOKENS_FILE = "device-tokens.json"
_KEY_CONTEXT = "device_identity.private_key"
_TOKEN_CONTEXT = "device_tokens.token"  # noqa: S105 (an encryption context, not a secret)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def device_id_for(public_key_raw: bytes) -> str:
    """OpenClaw's device id: hex SHA-256 of the raw 32-byte Ed25519 public key."""
    return hashlib.sha256(public_key_raw).hexdigest()


def _normalize_metadata(value: str | None) -> str:
    """Trimmed, ASCII A-Z lowercased (OpenClaw's normalizeDeviceMetadataForAuth)."""
    if not value:
        return ""
    text = value.strip()
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in text)


def auth_payload_v3(
    *,
    device_id: str,
    client_id: str,
    client_mode: str,
    role: str,
    scopes: list[str],
    signed_at_ms: int,
    token: str | None,
    nonce: str,
    platform: str | None,
    device_family: str | None = None,
) -> str:
    """The exact string a v3 device signature covers."""
    return "|".join(
        [
            "v3",
            device_id,
            client_id,
            client_mode,
            role,
            ",".join(scopes),
            str(signed_at_ms),
            token or "",
            nonce,
            _normalize_metadata(platform),
            _normalize_metadata(device_family),
        ]
    )


@dataclass(frozen=True)
class DeviceIdentity:
    private_key: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> DeviceIdentity:
        return cls(Ed25519PrivateKey.generate())

    @property
    def public_key_raw(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @property
    def public_key(self) -> str:
        return b64url(self.public_key_raw)

    @property
    def device_id(self) -> str:
        return device_id_for(self.public_key_raw)

    def sign(self, payload: str) -> str:
        return b64url(self.private_key.sign(payload.encode("utf-8")))

    def connect_device(
        self,
        *,
        client_id: str,
        client_mode: str,
        role: str,
        scopes: list[str],
        token: str | None,
        nonce: str,
        signed_at_ms: int,
        platform: str | None,
        device_family: str | None = None,
    ) -> dict[str, object]:
        """`connect.params.device` for one handshake."""
        payload = auth_payload_v3(
            device_id=self.device_id,
            client_id=client_id,
            client_mode=client_mode,
            role=role,
            scopes=scopes,
            signed_at_ms=signed_at_ms,
            token=token,
            nonce=nonce,
            platform=platform,
            device_family=device_family,
        )
        return {
            "id": self.device_id,
            "publicKey": self.public_key,
            "signature": self.sign(payload),
            "signedAt": signed_at_ms,
            "nonce": nonce,
        }

    def private_raw(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )


def verify(public_key_raw: bytes, payload: str, signature_b64url: str) -> bool:
    """Check a signature the way the gateway does (for tests)."""
    sig = base64.urlsafe_b64decode(signature_b64url + "=" * (-len(signature_b64url) % 4))
    try:
        Ed25519PublicKey.from_public_bytes(public_key_raw).verify(sig, payload.encode("utf-8"))
    except Exception:
        return False
    return True


# --- storage -------------------------------------------------------------------------------

_lock = threading.Lock()


class DeviceStore:
    """The installation's identity and the device tokens gateways issued, in `folder`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @property
    def identity_path(self) -> Path:
        return self.folder / IDENTITY_FILE

    @property
    def tokens_path(self) -> Path:
        return self.folder / TOKENS_FILE

    def identity(self) -> DeviceIdentity:
        """Load the identity, creating (and storing) it the first time."""
        with _lock:
            path = self.identity_path
            if path.exists():
                data = json.loads(path.read_text())
                raw = base64.b64decode(crypto.decrypt(data["private_key_enc"], _KEY_CONTEXT))
                ident = DeviceIdentity(Ed25519PrivateKey.from_private_bytes(raw))
                if ident.device_id != data.get("device_id"):
                    raise crypto.SecretError(f"{path}: the stored key does not match its device id.")
                ring = crypto.get_key_ring()
                if ring.key_id_of(data["private_key_enc"]) != ring.active_id:
                    # After `clawnet rotate-key`: re-seal with the active key, so a later
                    # rotation that drops retired keys does not strand the identity.
                    data["private_key_enc"] = crypto.encrypt(base64.b64encode(raw).decode(), _KEY_CONTEXT)
                    write_file_atomically(path, json.dumps(data, indent=2) + "\n", mode=0o600)
                return ident
            ident = DeviceIdentity.generate()
            self.folder.mkdir(parents=True, exist_ok=True)
            data = {
                "device_id": ident.device_id,
                "public_key": ident.public_key,
                "private_key_enc": crypto.encrypt(
                    base64.b64encode(ident.private_raw()).decode(), _KEY_CONTEXT
                ),
            }
            write_file_atomically(path, json.dumps(data, indent=2) + "\n", mode=0o600)
            return ident

    def _read_tokens(self) -> dict[str, dict[str, str]]:
        try:
            data = json.loads(self.tokens_path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    @staticmethod
    def _key(url: str, device_id: str, role: str) -> str:
        return f"{url.rstrip('/')}|{device_id}|{role}"

    def device_token(self, url: str, device_id: str, role: str) -> str | None:
        entry = self._read_tokens().get(self._key(url, device_id, role))
        if not entry:
            return None
        try:
            return crypto.decrypt(entry["token_enc"], _TOKEN_CONTEXT)
        except (crypto.SecretError, KeyError):
            return None

    def save_device_token(self, url: str, device_id: str, role: str, token: str, scopes: list[str]) -> None:
        """Keep a token the gateway issued (only when it is new or changed)."""
        if self.device_token(url, device_id, role) == token:
            return
        with _lock:
            tokens = self._read_tokens()
            tokens[self._key(url, device_id, role)] = {
                "token_enc": crypto.encrypt(token, _TOKEN_CONTEXT),
                "scopes": ",".join(scopes),
            }
            self.folder.mkdir(parents=True, exist_ok=True)
            write_file_atomically(self.tokens_path, json.dumps(tokens, indent=2) + "\n", mode=0o600)

    def forget_device_token(self, url: str, device_id: str, role: str) -> None:
        with _lock:
            tokens = self._read_tokens()
            if tokens.pop(self._key(url, device_id, role), None) is not None:
                write_file_atomically(self.tokens_path, json.dumps(tokens, indent=2) + "\n", mode=0o600)


_store: DeviceStore | None = None


def get_device_store() -> DeviceStore:
    """This installation's store (in the settings' data folder)."""
    global _store
    if _store is None:
        from clawnet.settings import get_settings

        _store = DeviceStore(get_settings().data_dir)
    return _store


def set_device_store(store: DeviceStore | None) -> None:
    """Replace the store (tests)."""
    global _store
    _store = store
