"""Uploaded images (bot avatars, profile avatars, post images): checked by their content,
stored under the data folder with a random name, served by `/media/...`."""

from __future__ import annotations

import secrets
from pathlib import Path

from clawnet.errors import UserError
from clawnet.files import write_file_atomically
from clawnet.settings import Settings

# The formats browsers display, recognised by their first bytes (never by the file name).
SIGNATURES: list[tuple[bytes, str, str]] = [
    (b"\x89PNG\r\n\x1a\n", "png", "image/png"),
    (b"\xff\xd8\xff", "jpg", "image/jpeg"),
    (b"GIF87a", "gif", "image/gif"),
    (b"GIF89a", "gif", "image/gif"),
]
MIME_BY_EXT = {"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}
KINDS = ("avatars", "posts")


class MediaError(UserError):
    """An upload was refused; the message says why."""


def sniff(data: bytes) -> tuple[str, str]:
    """(extension, MIME type) of an image, or MediaError."""
    for magic, ext, mime in SIGNATURES:
        if data.startswith(magic):
            return ext, mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp", "image/webp"
    raise MediaError("Only PNG, JPEG, GIF or WebP images can be uploaded.")


def save_image(
    settings: Settings, data: bytes, kind: str, *, max_bytes: int | None = None
) -> tuple[str, str, int]:
    """Store an image; returns (path relative to the media folder, MIME type, size)."""
    if kind not in KINDS:
        raise MediaError("Unknown upload kind.")
    limit = max_bytes or settings.media_max_bytes
    if not data:
        raise MediaError("The file is empty.")
    if len(data) > limit:
        raise MediaError(f"The image is {len(data) / 2**20:.1f} MB; the limit is {limit / 2**20:.0f} MB.")
    ext, mime = sniff(data)
    relative = f"{kind}/{secrets.token_urlsafe(16)}.{ext}"
    write_file_atomically(settings.media_dir / relative, data, mode=0o644)
    return relative, mime, len(data)


def resolve(settings: Settings, relative: str) -> tuple[Path, str] | None:
    """The file and MIME type for a `/media/<relative>` request, or None (no traversal)."""
    root = settings.media_dir.resolve()
    parts = relative.split("/")
    if len(parts) != 2 or parts[0] not in KINDS or "." not in parts[1] or parts[1].startswith("."):
        return None
    path = (root / parts[0] / parts[1]).resolve()
    if path.parent.parent != root or not path.is_file():
        return None
    mime = MIME_BY_EXT.get(path.suffix.lstrip("."))
    return (path, mime) if mime else None


def url(relative: str) -> str:
    return f"/media/{relative}" if relative else ""
