"""Keys that sign the messages ClawNet's processes send each other over Redis.

Each key of the installation's key ring gives, through HKDF-SHA256, a separate 32-byte signing key
(so the signing key reveals nothing about the encryption key, and the other way round). Messages
are signed with the active key's and name its key id; any key in the ring verifies.

Key rotation (`clawnet rotate-key`) rewrites the key file: processes that share it notice the
change (its modification time, looked at every 2 seconds, and at once when a message names a key
they do not know) and reload it, so workers keep agreeing while a key is rotated out.
"""

from __future__ import annotations

import logging
import threading
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from clawnet.security.crypto import KeyRing, SecretError, load_key_ring, read_key_file
from clawnet.settings import Settings

log = logging.getLogger(__name__)

INFO = b"clawnet/redis-messages/v1"
CHECK_EVERY_S = 2.0
RELOAD_UNKNOWN_EVERY_S = 1.0


def message_key(key: bytes) -> bytes:
    """The signing key that `key` (an encryption key of the ring) gives."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INFO).derive(key)


class RingMessageKeys:
    """Signing keys from the installation's key ring (what `events.redis.MessageKeys` asks for)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._derived: dict[str, bytes] = {}
        self._active = ""
        self._mtime_ns = -1
        self._checked_at = 0.0
        self._unknown_at = 0.0
        self._use(load_key_ring(settings.secret_key, settings.previous_secret_keys, settings.key_file))
        self._mtime_ns = self._file_mtime()

    @property
    def _from_file(self) -> bool:
        return not self.settings.secret_key

    def _file_mtime(self) -> int:
        try:
            return self.settings.key_file.stat().st_mtime_ns if self._from_file else -1
        except OSError:
            return -1

    def _use(self, ring: KeyRing) -> None:
        self._derived = {kid: message_key(key) for kid, key in ring.keys.items()}
        self._active = ring.active_id

    def _reload(self) -> None:
        mtime = self._file_mtime()
        try:
            ring = read_key_file(self.settings.key_file)
        except SecretError as exc:  # mid-write or damaged: keep the keys we have
            log.warning("could not reload the key file for message signing: %s", exc)
            return
        self._use(ring)
        self._mtime_ns = mtime

    def _refresh(self, force: bool = False) -> None:
        if not self._from_file:
            return
        now = time.monotonic()
        if not force and now - self._checked_at < CHECK_EVERY_S:
            return
        self._checked_at = now
        if force or self._file_mtime() != self._mtime_ns:
            self._reload()

    def signing_key(self) -> tuple[str, bytes]:
        with self._lock:
            self._refresh()
            return self._active, self._derived[self._active]

    def verifying_key(self, key_id: str) -> bytes | None:
        with self._lock:
            self._refresh()
            found = self._derived.get(key_id)
            now = time.monotonic()
            if found is None and self._from_file and now - self._unknown_at > RELOAD_UNKNOWN_EVERY_S:
                self._unknown_at = now  # a key rotated in by another process: read the file again
                self._refresh(force=True)
                found = self._derived.get(key_id)
            return found
