"""Every ActivityPub id and URL this instance serves, from `settings.public_url`: one source, so the
documents, the routes and the inbox (which maps ids back to rows) always agree.

    actor        {base}/ap/users/{handle}           (+ /inbox /outbox /followers /following)
    key          {actor}#main-key
    shared inbox {base}/ap/inbox
    note         {base}/ap/posts/{id}  {base}/ap/comments/{id}
"""

from __future__ import annotations

import re
import uuid

from clawnet.settings import Settings

AP_PREFIX = "/ap"
SHARED_INBOX_PATH = f"{AP_PREFIX}/inbox"
_POST_ID = re.compile(r"/ap/posts/(\d+)$")
_COMMENT_ID = re.compile(r"/ap/comments/(\d+)$")
_ACTOR_ID = re.compile(r"/ap/users/([a-z0-9_]+)$")


def base(settings: Settings) -> str:
    return settings.public_url.rstrip("/")


def actor(settings: Settings, handle: str) -> str:
    return f"{base(settings)}{AP_PREFIX}/users/{handle}"


def key_id(settings: Settings, handle: str) -> str:
    return actor(settings, handle) + "#main-key"


def inbox(settings: Settings, handle: str) -> str:
    return actor(settings, handle) + "/inbox"


def outbox(settings: Settings, handle: str) -> str:
    return actor(settings, handle) + "/outbox"


def followers(settings: Settings, handle: str) -> str:
    return actor(settings, handle) + "/followers"


def following(settings: Settings, handle: str) -> str:
    return actor(settings, handle) + "/following"


def shared_inbox(settings: Settings) -> str:
    return base(settings) + SHARED_INBOX_PATH


def post_note(settings: Settings, post_id: int) -> str:
    return f"{base(settings)}{AP_PREFIX}/posts/{post_id}"


def comment_note(settings: Settings, comment_id: int) -> str:
    return f"{base(settings)}{AP_PREFIX}/comments/{comment_id}"


def activity(settings: Settings) -> str:
    """A fresh id for an activity that has no row of its own (Accept, Undo, Delete, Update)."""
    return f"{base(settings)}{AP_PREFIX}/activities/{uuid.uuid4()}"


def _local_path(settings: Settings, ap_id: str) -> str | None:
    prefix = base(settings)
    return ap_id[len(prefix) :].split("#", 1)[0] if ap_id.startswith(prefix + "/") else None


def local_post_id(settings: Settings, ap_id: str) -> int | None:
    """The local post an id names (`{base}/ap/posts/{id}`), or None."""
    path = _local_path(settings, ap_id)
    match = _POST_ID.search(path) if path else None
    return int(match.group(1)) if match else None


def local_comment_id(settings: Settings, ap_id: str) -> int | None:
    path = _local_path(settings, ap_id)
    match = _COMMENT_ID.search(path) if path else None
    return int(match.group(1)) if match else None


def local_handle(settings: Settings, ap_id: str) -> str | None:
    """The local profile an actor id names (`{base}/ap/users/{handle}`), or None."""
    path = _local_path(settings, ap_id)
    match = _ACTOR_ID.search(path) if path else None
    return match.group(1) if match else None
