"""The inbox's shared pieces: the refusal, what a verified activity carries, the calls into the
outgoing side (part B's `outgoing.accept` / `outgoing.reject`), small helpers, and the applier's
lookups (local actors and notes from ActivityPub ids)."""

from __future__ import annotations

import html
import importlib
import logging
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session, col, func, select

from clawnet.models import Comment, Follow, Like, Post, Profile
from clawnet.models.federation import ApObject, FederationHost
from clawnet.settings import Settings
from clawnet.social.federation import urls
from clawnet.social.rules import Outbox

log = logging.getLogger("clawnet.social.federation.inbox")

MAX_BODY = 1024 * 1024
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
PUBLIC_ALIASES = frozenset({PUBLIC, "as:Public", "Public"})
NOTE_TYPES = frozenset({"Note", "Article", "Question", "Page"})


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Incoming:
    """What `receive` learned before applying: the activity, its signer, fetched documents."""

    activity: dict[str, Any]
    signer_uri: str
    fetched_note: dict[str, Any] | None = None
    fetched: list[dict[str, Any]] = field(default_factory=list)  # actor documents to store first


# --- the outgoing side (part B's module, looked up when needed) ---------------------------------


def _outgoing() -> Any:
    return importlib.import_module("clawnet.social.federation.outgoing")


def send_accept(session: Session, settings: Settings, local: Profile, follow: dict[str, Any]) -> None:
    _outgoing().accept(session, settings, local, follow)


def send_reject(session: Session, settings: Settings, local: Profile, follow: dict[str, Any]) -> None:
    _outgoing().reject(session, settings, local, follow)


# --- helpers -------------------------------------------------------------------------------------


def object_id(value: Any) -> str:
    """An object's id: the string itself, or a dict's `id`."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return str(value["id"])
    return ""


def host_of(uri: str) -> str:
    try:
        return urlsplit(uri).netloc.lower()
    except ValueError:
        return ""


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def plain_text(markup: str) -> str:
    text = re.sub(r"<br\s*/?>|</p>\s*<p>", "\n", markup)
    return html.unescape(re.sub(r"<[^>]+>", "", text)).strip()


def blocked(session: Session, hosts: set[str]) -> str | None:
    """The first of these hosts an admin blocked (with or without its port), or None."""
    names = {h for h in hosts if h} | {h.rsplit(":", 1)[0] for h in hosts if h}
    row = session.exec(
        select(FederationHost.host).where(col(FederationHost.host).in_(names), col(FederationHost.blocked))
    ).first()
    return row


def recount_follows(session: Session, *profile_ids: int) -> None:
    session.flush()
    for pid in profile_ids:
        profile = session.get(Profile, pid)
        if profile is None:
            continue
        profile.followers_count = session.exec(
            select(func.count()).select_from(Follow).where(Follow.followee_id == pid)
        ).one()
        profile.following_count = session.exec(
            select(func.count()).select_from(Follow).where(Follow.follower_id == pid)
        ).one()
        session.add(profile)


def recount_post(session: Session, post: Post) -> None:
    session.flush()
    post.like_count = session.exec(
        select(func.count()).select_from(Like).where(Like.post_id == post.id)
    ).one()
    post.reply_count = session.exec(
        select(func.count()).select_from(Comment).where(Comment.post_id == post.id)
    ).one()
    post.reblog_count = session.exec(
        select(func.count()).select_from(Post).where(Post.reblog_of_id == post.id)
    ).one()
    session.add(post)


def recount_posts(session: Session, profile: Profile) -> None:
    session.flush()
    profile.posts_count = session.exec(
        select(func.count())
        .select_from(Post)
        .where(Post.author_id == profile.id, col(Post.reblog_of_id).is_(None))
    ).one()
    session.add(profile)


class ApplierBase:
    def __init__(self, session: Session, settings: Settings, outbox: Outbox, signer: Profile) -> None:
        self.session = session
        self.settings = settings
        self.outbox = outbox
        self.signer = signer
        assert signer.id is not None
        self.signer_id: int = signer.id

    # lookups

    def local_profile(self, uri: str) -> Profile | None:
        handle = urls.local_handle(self.settings, uri)
        if handle is None:
            return None
        return self.session.exec(
            select(Profile).where(Profile.handle == handle, col(Profile.domain).is_(None))
        ).first()

    def mapped(self, ap_id: str) -> ApObject | None:
        return self.session.exec(select(ApObject).where(ApObject.ap_id == ap_id)).first() if ap_id else None

    def post_for(self, ap_id: str) -> Post | None:
        """The post an id names: a local one, or a remote one we stored."""
        local = urls.local_post_id(self.settings, ap_id)
        if local is not None:
            return self.session.get(Post, local)
        row = self.mapped(ap_id)
        return self.session.get(Post, row.post_id) if row is not None and row.post_id else None

    # dispatch
