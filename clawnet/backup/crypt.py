"""Passphrase encryption of a whole backup archive, as a stream.

Format (all integers big-endian):

    magic     8 bytes  b"CNBKENC1"
    log2_n    1 byte   scrypt cost (N = 2**log2_n), r 1 byte, p 1 byte
    salt     16 bytes
    prefix    7 bytes  random nonce prefix
    check    32 bytes  HMAC-SHA256(check key, header before this field): tells a wrong passphrase
                       apart from a damaged file
    chunks            AES-256-GCM, each `CHUNK` plaintext bytes (the last may be shorter or empty)

scrypt derives 64 bytes from the passphrase: an AES key and an HMAC key. Chunk i uses the nonce
prefix || i (4 bytes) || last (1 byte: 1 for the final chunk) and the header as associated data,
so chunks cannot be reordered, dropped, or the archive cut short without decryption failing
(the STREAM construction of Hoang, Reyhanitabar, Rogaway and Vizár).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
from pathlib import Path
from typing import IO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

MAGIC = b"CNBKENC1"
CHUNK = 1 << 20
TAG = 16
LOG2_N, R, P = 15, 8, 1
# What a header may ask for: scrypt needs 128 * r * N bytes of memory (1 GiB at these limits), so
# a crafted header cannot make a restore allocate more or compute for long.
MAX_LOG2_N, MAX_R, MAX_P = 20, 8, 4
HEADER_LEN = len(MAGIC) + 3 + 16 + 7 + 32


class DecryptionError(Exception):
    """Wrong passphrase (`wrong_passphrase`) or a damaged encrypted archive."""

    def __init__(self, message: str, *, wrong_passphrase: bool = False) -> None:
        super().__init__(message)
        self.wrong_passphrase = wrong_passphrase


def _derive(passphrase: str, salt: bytes, log2_n: int, r: int, p: int) -> tuple[bytes, bytes]:
    if not 10 <= log2_n <= MAX_LOG2_N or not 1 <= r <= MAX_R or not 1 <= p <= MAX_P:
        raise DecryptionError(
            f"its encryption header asks for scrypt parameters ClawNet never writes "
            f"(log2 N {log2_n}, r {r}, p {p}; at most {MAX_LOG2_N}, {MAX_R}, {MAX_P})"
        )
    key = Scrypt(salt=salt, length=64, n=1 << log2_n, r=r, p=p).derive(passphrase.encode("utf-8"))
    return key[:32], key[32:]


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    if index >= 1 << 32:
        raise ValueError("archive too large to encrypt")
    return prefix + struct.pack(">IB", index, 1 if last else 0)


def is_encrypted(path: os.PathLike[str] | str) -> bool:
    with Path(path).open("rb") as handle:
        return handle.read(len(MAGIC)) == MAGIC


class EncryptingWriter:
    """A write-only file object: what is written goes encrypted to `out`. `close()` writes the
    final chunk (and does not close `out`)."""

    def __init__(self, out: IO[bytes], passphrase: str) -> None:
        salt, prefix = os.urandom(16), os.urandom(7)
        head = MAGIC + bytes([LOG2_N, R, P]) + salt + prefix
        aes_key, check_key = _derive(passphrase, salt, LOG2_N, R, P)
        self._header = head + hmac.new(check_key, head, hashlib.sha256).digest()
        self._aead = AESGCM(aes_key)
        self._prefix = prefix
        self._out = out
        self._buffer = bytearray()
        self._index = 0
        self._closed = False
        out.write(self._header)

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:
        self._buffer += data
        while len(self._buffer) > CHUNK:  # keep at least one byte back: the last chunk is flagged
            self._emit(bytes(self._buffer[:CHUNK]), last=False)
            del self._buffer[:CHUNK]
        return len(data)

    def flush(self) -> None:
        self._out.flush()

    def _emit(self, chunk: bytes, *, last: bool) -> None:
        nonce = _nonce(self._prefix, self._index, last)
        self._out.write(self._aead.encrypt(nonce, chunk, self._header))
        self._index += 1

    def close(self) -> None:
        if not self._closed:
            self._emit(bytes(self._buffer), last=True)
            self._buffer.clear()
            self._closed = True


class DecryptingReader:
    """A read-only file object giving the plaintext of an encrypted archive; raises
    DecryptionError on a wrong passphrase, on any altered byte, or on a cut-short file."""

    def __init__(self, source: IO[bytes], passphrase: str) -> None:
        header = source.read(HEADER_LEN)
        if len(header) < HEADER_LEN or not header.startswith(MAGIC):
            raise DecryptionError("This is not an encrypted ClawNet archive, or it is damaged.")
        log2_n, r, p = header[8], header[9], header[10]
        salt, prefix, check = header[11:27], header[27:34], header[34:]
        aes_key, check_key = _derive(passphrase, salt, log2_n, r, p)
        expected = hmac.new(check_key, header[:34], hashlib.sha256).digest()
        if not hmac.compare_digest(expected, check):
            raise DecryptionError("Wrong passphrase for this archive.", wrong_passphrase=True)
        self._aead = AESGCM(aes_key)
        self._header = header
        self._prefix = prefix
        self._source = source
        self._index = 0
        self._pending = source.read(CHUNK + TAG)
        self._plain = b""
        self._pos = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def _next(self) -> None:
        chunk = self._pending
        following = self._source.read(CHUNK + TAG)
        last = not following
        try:
            plain = self._aead.decrypt(_nonce(self._prefix, self._index, last), chunk, self._header)
        except InvalidTag:
            raise DecryptionError("The encrypted archive is damaged or incomplete.") from None
        self._plain = self._plain[self._pos :] + plain
        self._pos = 0
        self._index += 1
        self._pending = following
        self._done = last

    def read(self, size: int = -1) -> bytes:
        while not self._done and (size < 0 or len(self._plain) - self._pos < size):
            self._next()
        end = len(self._plain) if size < 0 else min(len(self._plain), self._pos + size)
        out = self._plain[self._pos : end]
        self._pos = end
        return out
