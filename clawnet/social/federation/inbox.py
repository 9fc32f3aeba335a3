"""The inbox: verify an incoming activity, de-duplicate it, and apply it.

`receive` refuses what it must not take: federation off (404), a body that is not JSON (400) or
over 1 MiB (413), a missing or bad HTTP Signature (401, the `SignatureError`'s message), a blocked
host (403), an activity whose `actor` is not the key's owner (401). The signer's key comes from
the cached `RemoteActor`; when it does not verify, the actor is fetched again once (a rotated
key). An activity id seen before is acknowledged (202) and not applied again.

Each activity is applied in one transaction with its `InboxSeen` row; notifications go through
`rules.notify` (so mutes and blocks apply) and their events are published after commit.
"""

from __future__ import annotations

import html
import importlib
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from clawnet.db import run_in_session
from clawnet.enums import NotificationKind, Visibility
from clawnet.events import Kind
from clawnet.models import Comment, Follow, Like, Post, PostEdit, PostMention, Profile, utcnow
from clawnet.models.federation import ApObject, FederationHost, InboxSeen, RemoteActor
from clawnet.security.sanitize import clean_html, clean_text
from clawnet.settings import Settings
from clawnet.social import hashtags, moderation
from clawnet.social.federation import remote, signatures, urls
from clawnet.social.rules import Outbox, notify

log = logging.getLogger(__name__)

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


def _id(value: Any) -> str:
    """An object's id: the string itself, or a dict's `id`."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return str(value["id"])
    return ""


def _host(uri: str) -> str:
    try:
        return urlsplit(uri).netloc.lower()
    except ValueError:
        return ""


def _list(value: Any) -> list[Any]:
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


def _recount_follows(session: Session, *profile_ids: int) -> None:
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


def _recount_post(session: Session, post: Post) -> None:
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


def _recount_posts(session: Session, profile: Profile) -> None:
    session.flush()
    profile.posts_count = session.exec(
        select(func.count())
        .select_from(Post)
        .where(Post.author_id == profile.id, col(Post.reblog_of_id).is_(None))
    ).one()
    session.add(profile)


# --- the applier ---------------------------------------------------------------------------------


class Applier:
    """Applies one verified activity in the caller's transaction."""

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

    def apply(self, incoming: Incoming) -> tuple[int, str]:
        activity = incoming.activity
        kind = activity.get("type")
        handler: Callable[[Incoming], tuple[int, str]] | None = getattr(self, f"on_{kind}", None)
        if handler is None or not isinstance(kind, str):
            return 202, f"Ignored ({kind})."
        return handler(incoming)

    # follows

    def on_Follow(self, incoming: Incoming) -> tuple[int, str]:  # noqa: N802
        activity = incoming.activity
        local = self.local_profile(_id(activity.get("object")))
        if local is None or local.id is None:
            raise Refused(404, "No such actor here.")
        if (
            not self.settings.federation_enabled
            or not local.federated
            or local.suspended_at is not None
            or moderation.blocked_between(self.session, self.signer_id, local.id)
        ):
            send_reject(self.session, self.settings, local, activity)
            return 202, "Follow rejected."
        existing = self.session.exec(
            select(Follow).where(Follow.follower_id == self.signer_id, Follow.followee_id == local.id)
        ).first()
        if existing is None:
            try:
                with self.session.begin_nested():
                    self.session.add(Follow(follower_id=self.signer_id, followee_id=local.id))
                    self.session.flush()
                notify(self.session, self.outbox, local.id, NotificationKind.FOLLOW, self.signer_id)
            except IntegrityError:
                pass
        _recount_follows(self.session, local.id, self.signer_id)
        self.outbox.add(
            Kind.POST_CHANGED, {"what": "followed", "follower_id": self.signer_id, "followee_id": local.id}
        )
        send_accept(self.session, self.settings, local, activity)
        return 202, "Follow accepted."

    def on_Accept(self, incoming: Incoming) -> tuple[int, str]:  # noqa: N802
        return 202, "Accepted."  # our Follow row was made when we sent it

    def on_Reject(self, incoming: Incoming) -> tuple[int, str]:  # noqa: N802
        follow = incoming.activity.get("object")
        follower = self.local_profile(_id(follow.get("actor"))) if isinstance(follow, dict) else None
        rows = self.session.exec(
            select(Follow).where(
                Follow.followee_id == self.signer_id,
                *([Follow.follower_id == follower.id] if follower is not None else []),
            )
        ).all()
        if follower is None and not isinstance(follow, dict):
            # A bare Follow id: every local follow of the signer that we cannot tell apart is
            # kept, unless there is exactly one.
            rows = rows if len(rows) == 1 else []
        touched = {self.signer_id}
        for row in rows:
            touched.add(row.follower_id)
            self.session.delete(row)
        _recount_follows(self.session, *touched)
        return 202, "Follow rejected."

    # undo

    def on_Undo(self, incoming: Incoming) -> tuple[int, str]:  # noqa: N802
        inner = incoming.activity.get("object")
        inner_id = _id(inner)
        inner_type = inner.get("type") if isinstance(inner, dict) else None
        if isinstance(inner, dict) and _id(inner.get("actor")) not in ("", incoming.signer_uri):
            raise Refused(403, "Only the actor of an activity can undo it.")
        if inner_type == "Follow":
            local = self.local_profile(_id(inner.get("object")) if isinstance(inner, dict) else "")
            if local is not None and local.id is not None:
                row = self.session.exec(
                    select(Follow).where(Follow.follower_id == self.signer_id, Follow.followee_id == local.id)
                ).first()
                if row is not None:
                    self.session.delete(row)
                _recount_follows(self.session, local.id, self.signer_id)
            return 202, "Unfollowed."
        if inner_type == "Like":
            post = self.post_for(_id(inner.get("object")) if isinstance(inner, dict) else "")
            if post is not None:
                like = self.session.exec(
                    select(Like).where(Like.profile_id == self.signer_id, Like.post_id == post.id)
                ).first()
                if like is not None:
                    self.session.delete(like)
                _recount_post(self.session, post)
                self.outbox.add(
                    Kind.POST_CHANGED, {"post_id": post.id, "what": "liked", "like_count": post.like_count}
                )
            return 202, "Unliked."
        # An Announce (or an id we mapped when it arrived)
        mapped = self.mapped(inner_id)
        boost = self.session.get(Post, mapped.post_id) if mapped is not None and mapped.post_id else None
        if boost is None and inner_type == "Announce" and isinstance(inner, dict):
            original = self.post_for(_id(inner.get("object")))
            if original is not None:
                boost = self.session.exec(
                    select(Post).where(Post.author_id == self.signer_id, Post.reblog_of_id == original.id)
                ).first()
        if boost is not None and boost.reblog_of_id is not None:
            if boost.author_id != self.signer_id:
                raise Refused(403, "Only the booster can undo a boost.")
            original = self.session.get(Post, boost.reblog_of_id)
            self.outbox.add(Kind.POST_CHANGED, {"post_id": boost.id, "what": "deleted"})
            self.session.delete(boost)
            if original is not None:
                _recount_post(self.session, original)
                self.outbox.add(
                    Kind.POST_CHANGED,
                    {"post_id": original.id, "what": "boosted", "reblog_count": original.reblog_count},
                )
            return 202, "Unboosted."
        return 202, "Nothing to undo."

    # notes

    def _visibility(self, note: dict[str, Any]) -> str:
        addressed = {_id(a) for a in (*_list(note.get("to")), *_list(note.get("cc")))}
        return Visibility.PUBLIC.value if addressed & PUBLIC_ALIASES else Visibility.FOLLOWERS.value

    def _mentions_and_tags(self, note: dict[str, Any]) -> tuple[list[Profile], list[str]]:
        mentioned: dict[int, Profile] = {}
        tags: list[str] = []
        for tag in _list(note.get("tag")):
            if not isinstance(tag, dict):
                continue
            if tag.get("type") == "Mention":
                profile = self.local_profile(_id(tag.get("href")))
                if profile is not None and profile.id is not None:
                    mentioned[profile.id] = profile
            elif tag.get("type") == "Hashtag" and isinstance(tag.get("name"), str):
                name = hashtags.normalize(str(tag["name"]))
                if name and len(name) <= 100 and name not in tags:
                    tags.append(name)
        return list(mentioned.values()), tags

    @staticmethod
    def _summary(note: dict[str, Any]) -> str:
        summary = note.get("summary")
        return " ".join(clean_text(summary if isinstance(summary, str) else "").split())[:500]

    @staticmethod
    def _content(note: dict[str, Any]) -> tuple[str, str]:
        raw = note.get("content")
        markup = clean_html(clean_text(raw if isinstance(raw, str) else ""))[:20000]
        return markup, plain_text(markup)[:10000]

    def create_note(self, note: dict[str, Any], author: Profile) -> tuple[int, str]:
        assert author.id is not None
        note_id = _id(note)
        if not note_id or _host(note_id) != (author.domain or ""):
            raise Refused(400, "A note's id must be on its author's host.")
        if self.mapped(note_id) is not None:
            return 202, "Already have it."
        markup, text = self._content(note)
        mentioned, tags = self._mentions_and_tags(note)
        reply_to = _id(note.get("inReplyTo"))
        post: Post | None = None
        parent: Comment | None = None
        if reply_to:
            local_comment = urls.local_comment_id(self.settings, reply_to)
            mapped = self.mapped(reply_to)
            if local_comment is not None:
                parent = self.session.get(Comment, local_comment)
            elif mapped is not None and mapped.comment_id:
                parent = self.session.get(Comment, mapped.comment_id)
            post = self.session.get(Post, parent.post_id) if parent is not None else self.post_for(reply_to)
        if post is not None and post.id is not None:
            return self._comment(note_id, note, author, post, parent, markup, text, mentioned)
        summary = self._summary(note)
        row = Post(
            author_id=author.id,
            content_html=markup,
            content_text=text,
            visibility=self._visibility(note),
            author_is_bot=author.is_bot,
            spoiler_text=summary[:500],
        )
        self.session.add(row)
        self.session.flush()
        assert row.id is not None
        self.session.add(ApObject(ap_id=note_id, post_id=row.id))
        hashtags.set_tags(self.session, row, tags)
        for other in mentioned:
            assert other.id is not None
            self.session.add(PostMention(post_id=row.id, profile_id=other.id))
            notify(self.session, self.outbox, other.id, NotificationKind.MENTION, author.id, row.id)
        _recount_posts(self.session, author)
        self.outbox.add(
            Kind.POST_CREATED,
            {
                "post_id": row.id,
                "author_id": author.id,
                "visibility": row.visibility,
                "mentions": [m.id for m in mentioned],
            },
        )
        return 202, "Post created."

    def _comment(
        self,
        note_id: str,
        note: dict[str, Any],
        author: Profile,
        post: Post,
        parent: Comment | None,
        markup: str,
        text: str,
        mentioned: list[Profile],
    ) -> tuple[int, str]:
        assert author.id is not None and post.id is not None
        comment = Comment(
            post_id=post.id,
            author_id=author.id,
            parent_id=parent.id if parent is not None else None,
            content_html=markup,
            content_text=text,
        )
        self.session.add(comment)
        self.session.flush()
        assert comment.id is not None
        self.session.add(ApObject(ap_id=note_id, comment_id=comment.id))
        _recount_post(self.session, post)
        notify(
            self.session, self.outbox, post.author_id, NotificationKind.REPLY, author.id, post.id, comment.id
        )
        if parent is not None and parent.author_id != post.author_id:
            notify(
                self.session,
                self.outbox,
                parent.author_id,
                NotificationKind.REPLY,
                author.id,
                post.id,
                comment.id,
            )
        for other in mentioned:
            if other.id not in (post.author_id, parent.author_id if parent else None):
                notify(
                    self.session,
                    self.outbox,
                    other.id or 0,
                    NotificationKind.MENTION,
                    author.id,
                    post.id,
                    comment.id,
                )
        self.outbox.add(
            Kind.POST_CHANGED,
            {
                "post_id": post.id,
                "what": "replied",
                "reply_count": post.reply_count,
                "comment_id": comment.id,
            },
        )
        self.outbox.add(
            Kind.COMMENT_CREATED,
            {
                "post_id": post.id,
                "comment_id": comment.id,
                "author_id": author.id,
                "mentions": [m.id for m in mentioned],
            },
        )
        return 202, "Reply created."

    def on_Create(self, incoming: Incoming) -> tuple[int, str]:  # noqa: N802
        note = incoming.activity.get("object")
        if isinstance(note, str) and incoming.fetched_note is not None:
            note = incoming.fetched_note
        if not isinstance(note, dict) or note.get("type") not in NOTE_TYPES:
            return 202, "Ignored (not a note)."
        if _id(note.get("attributedTo")) not in ("", incoming.signer_uri):
            raise Refused(403, "The note's author is not the actor.")
        return self.create_note(note, self.signer)

    def _owned(self, ap_id: str) -> tuple[Post | None, Comment | None]:
        row = self.mapped(ap_id)
        if row is None:
            return None, None
        post = self.session.get(Post, row.post_id) if row.post_id else None
        comment = self.session.get(Comment, row.comment_id) if row.comment_id else None
        author = post.author_id if post is not None else comment.author_id if comment is not None else None
        if author is not None and author != self.signer_id:
            raise Refused(403, "Only a note's author can change it.")
        return post, comment

    def on_Update(self, incoming: Incoming) -> tuple[int, str]:  # noqa: N802
        obj = incoming.activity.get("object")
        if not isinstance(obj, dict):
            return 202, "Ignored."
        if obj.get("type") in remote.ACTOR_TYPES:
            if _id(obj) != incoming.signer_uri:
                raise Refused(403, "An actor can only update itself.")
            try:
                remote.check_actor(obj, incoming.signer_uri)
            except remote.RemoteError as exc:
                raise Refused(400, str(exc)) from exc
            remote.store_actor(self.session, self.settings, obj)
            return 202, "Profile updated."
        if obj.get("type") not in NOTE_TYPES:
            return 202, "Ignored."
        post, comment = self._owned(_id(obj))
        markup, text = self._content(obj)
        if post is not None and post.id is not None:
            warning = self._summary(obj)
            if markup == post.content_html and warning == post.spoiler_text:
                return 202, "Unchanged."
            self.session.add(
                PostEdit(
                    post_id=post.id,
                    content_html=post.content_html,
                    content_text=post.content_text,
                    spoiler_text=post.spoiler_text,
                    created_at=post.edited_at or post.created_at,
                )
            )
            post.content_html, post.content_text, post.spoiler_text = markup, text, warning
            post.edited_at = utcnow()
            self.session.add(post)
            mentioned, tags = self._mentions_and_tags(obj)
            hashtags.set_tags(self.session, post, tags)
            existing = {
                m.profile_id: m
                for m in self.session.exec(select(PostMention).where(PostMention.post_id == post.id))
            }
            wanted = {m.id: m for m in mentioned if m.id is not None}
            for pid, mention in existing.items():
                if pid not in wanted:
                    self.session.delete(mention)
            for pid in wanted:
                if pid not in existing:
                    self.session.add(PostMention(post_id=post.id, profile_id=pid))
                    notify(self.session, self.outbox, pid, NotificationKind.MENTION, self.signer_id, post.id)
            self.outbox.add(Kind.POST_CHANGED, {"post_id": post.id, "what": "edited"})
            return 202, "Post updated."
        if comment is not None:
            comment.content_html, comment.content_text, comment.edited_at = markup, text, utcnow()
            self.session.add(comment)
            self.outbox.add(Kind.POST_CHANGED, {"post_id": comment.post_id, "what": "replied"})
            return 202, "Reply updated."
        return 202, "Unknown note."

    def on_Delete(self, incoming: Incoming) -> tuple[int, str]:  # noqa: N802
        target = _id(incoming.activity.get("object"))
        if target == incoming.signer_uri:
            return self._delete_actor()
        post, comment = self._owned(target)
        if post is not None:
            author = self.session.get(Profile, post.author_id)
            self.outbox.add(Kind.POST_CHANGED, {"post_id": post.id, "what": "deleted"})
            self.session.delete(post)
            if author is not None:
                _recount_posts(self.session, author)
            return 202, "Post deleted."
        if comment is not None:
            parent_post = self.session.get(Post, comment.post_id)
            self.session.delete(comment)
            if parent_post is not None:
                _recount_post(self.session, parent_post)
            self.outbox.add(Kind.POST_CHANGED, {"post_id": comment.post_id, "what": "replied"})
            return 202, "Reply deleted."
        return 202, "Unknown note."

    def _delete_actor(self) -> tuple[int, str]:
        followed = self.session.exec(
            select(Follow.followee_id).where(Follow.follower_id == self.signer_id)
        ).all()
        followers = self.session.exec(
            select(Follow.follower_id).where(Follow.followee_id == self.signer_id)
        ).all()
        liked = self.session.exec(select(Like.post_id).where(Like.profile_id == self.signer_id)).all()
        boosted = self.session.exec(
            select(Post.reblog_of_id).where(
                Post.author_id == self.signer_id, col(Post.reblog_of_id).is_not(None)
            )
        ).all()
        commented = self.session.exec(
            select(Comment.post_id).where(Comment.author_id == self.signer_id)
        ).all()
        self.session.delete(self.signer)
        self.session.flush()
        _recount_follows(self.session, *{*followed, *followers})
        for post_id in {*liked, *boosted, *commented}:
            post = self.session.get(Post, post_id) if post_id else None
            if post is not None:
                _recount_post(self.session, post)
        return 202, "Account removed."

    # likes and boosts

    def on_Like(self, incoming: Incoming) -> tuple[int, str]:  # noqa: N802
        post = self.post_for(_id(incoming.activity.get("object")))
        if post is None or post.id is None:
            return 202, "Unknown post."
        if not self._may_see(post):
            return 202, "Not visible."
        existing = self.session.exec(
            select(Like).where(Like.profile_id == self.signer_id, Like.post_id == post.id)
        ).first()
        if existing is None:
            try:
                with self.session.begin_nested():
                    self.session.add(Like(profile_id=self.signer_id, post_id=post.id))
                    self.session.flush()
                notify(
                    self.session, self.outbox, post.author_id, NotificationKind.LIKE, self.signer_id, post.id
                )
            except IntegrityError:
                pass
        _recount_post(self.session, post)
        self.outbox.add(
            Kind.POST_CHANGED, {"post_id": post.id, "what": "liked", "like_count": post.like_count}
        )
        return 202, "Liked."

    def _may_see(self, post: Post) -> bool:
        from clawnet.social.rules import can_see

        return can_see(self.session, self.signer_id, post)

    def on_Announce(self, incoming: Incoming) -> tuple[int, str]:  # noqa: N802
        activity = incoming.activity
        object_id = _id(activity.get("object"))
        post = self.post_for(object_id)
        if post is None and incoming.fetched_note is not None:
            author_uri = _id(incoming.fetched_note.get("attributedTo"))
            author = remote.actor_profile(self.session, self.settings, author_uri)
            if author is not None and _host(author_uri) == _host(object_id):
                self.create_note(incoming.fetched_note, author)
                post = self.post_for(object_id)
        if post is None or post.id is None:
            log.info("inbox: Announce of %s skipped (unknown note)", object_id)
            return 202, "Unknown note."
        if post.reblog_of_id is not None:
            post = self.session.get(Post, post.reblog_of_id) or post
        if post.visibility != Visibility.PUBLIC.value or post.hidden_at is not None:
            return 202, "Only public posts can be boosted."
        assert post.id is not None
        existing = self.session.exec(
            select(Post.id).where(Post.author_id == self.signer_id, Post.reblog_of_id == post.id)
        ).first()
        if existing is not None:
            return 202, "Already boosted."
        original_author = self.session.get(Profile, post.author_id)
        row = Post(
            author_id=self.signer_id,
            content_html="",
            content_text="",
            visibility=post.visibility,
            reblog_of_id=post.id,
            author_is_bot=self.signer.is_bot or bool(original_author and original_author.is_bot),
        )
        self.session.add(row)
        self.session.flush()
        if activity.get("id"):
            self.session.add(ApObject(ap_id=str(activity["id"])[:2000], post_id=row.id))
        _recount_post(self.session, post)
        notify(self.session, self.outbox, post.author_id, NotificationKind.REBLOG, self.signer_id, post.id)
        self.outbox.add(
            Kind.POST_CREATED,
            {
                "post_id": row.id,
                "author_id": self.signer_id,
                "visibility": row.visibility,
                "mentions": [],
                "reblog_of_id": post.id,
            },
        )
        self.outbox.add(
            Kind.POST_CHANGED, {"post_id": post.id, "what": "boosted", "reblog_count": post.reblog_count}
        )
        return 202, "Boosted."


# --- receiving -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Signer:
    actor_uri: str
    public_key_pem: str
    key_id: str


def _signer(session: Session, key_id: str) -> _Signer | None:
    row = remote.by_key(session, key_id)
    return (
        _Signer(row.actor_uri, row.public_key_pem, row.key_id)
        if row is not None and row.public_key_pem
        else None
    )


def _seen(session: Session, activity_id: str) -> bool:
    return session.exec(select(InboxSeen.id).where(InboxSeen.activity_id == activity_id)).first() is not None


async def _fetch_signer(settings: Settings, key_id: str) -> _Signer:
    try:
        doc = await remote.fetch_actor(settings, key_id.split("#", 1)[0])
    except remote.RemoteError as exc:
        raise Refused(401, f"The signer's key could not be fetched ({exc}).") from exc
    key = remote.as_dict(doc.get("publicKey"))
    if _id(key) != key_id and str(doc["id"]) != key_id.split("#", 1)[0]:
        raise Refused(401, "The signer's actor does not publish that key.")
    await run_in_session(lambda s: remote.store_actor(s, settings, doc), settings.database_url)
    pem = key.get("publicKeyPem") if isinstance(key.get("publicKeyPem"), str) else ""
    if not pem:
        raise Refused(401, "The signer has no public key.")
    return _Signer(str(doc["id"]), str(pem), key_id)


async def receive(
    settings: Settings,
    publish: Callable[[Outbox], Awaitable[None]],
    inbox_handle: str | None,
    method: str,
    path_and_query: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    verify: bool = True,
) -> tuple[int, str]:
    """Verify, de-duplicate and apply one POSTed activity: (HTTP status, short message).
    `verify=False` is for the benchmark's plain way only."""
    try:
        return await _receive(settings, publish, inbox_handle, method, path_and_query, headers, body, verify)
    except Refused as refused:
        return refused.status, refused.message


async def _receive(
    settings: Settings,
    publish: Callable[[Outbox], Awaitable[None]],
    inbox_handle: str | None,
    method: str,
    path_and_query: str,
    headers: Mapping[str, str],
    body: bytes,
    verify: bool,
) -> tuple[int, str]:
    url = settings.database_url
    if not settings.federation_enabled:
        raise Refused(404, "Federation is switched off on this server.")
    if len(body) > MAX_BODY:
        raise Refused(413, "The activity is larger than 1 MiB.")
    try:
        activity = json.loads(body)
    except ValueError as exc:
        raise Refused(400, "The body is not JSON.") from exc
    if not isinstance(activity, dict) or not isinstance(activity.get("type"), str):
        raise Refused(400, "The body is not an activity.")
    activity_id = _id(activity)
    actor_uri = _id(activity.get("actor"))
    if not activity_id or not actor_uri:
        raise Refused(400, "The activity needs an id and an actor.")
    if _host(activity_id) != _host(actor_uri):
        raise Refused(400, "The activity's id is not on its actor's host.")
    header = headers.get("signature")
    if not header:
        raise Refused(401, "The request is not signed (no Signature header).")
    try:
        params = signatures.parse(header)
    except signatures.SignatureError as exc:
        raise Refused(401, str(exc)) from exc

    def first_look(session: Session) -> tuple[str | None, bool, _Signer | None, bool]:
        host_blocked = blocked(session, {_host(params.key_id), _host(actor_uri)})
        seen = _seen(session, activity_id)
        signer = _signer(session, params.key_id)
        inbox_ok = inbox_handle is None or (
            session.exec(
                select(Profile.id).where(Profile.handle == inbox_handle, col(Profile.domain).is_(None))
            ).first()
            is not None
        )
        return host_blocked, seen, signer, inbox_ok

    host_blocked, seen, signer, inbox_ok = await run_in_session(first_look, url)
    if not inbox_ok:
        raise Refused(404, "No such actor here.")
    if host_blocked:
        raise Refused(403, f"{host_blocked} is blocked on this server.")
    fresh = False
    if signer is None:
        signer = await _fetch_signer(settings, params.key_id)
        fresh = True
    if verify:
        try:
            signatures.verify(method, path_and_query, headers, body, signer.public_key_pem, params=params)
        except signatures.SignatureError as exc:
            if fresh or not str(exc).startswith("The signature does not verify"):
                raise Refused(401, str(exc)) from exc
            signer = await _fetch_signer(settings, params.key_id)  # the key may have rotated
            try:
                signatures.verify(method, path_and_query, headers, body, signer.public_key_pem, params=params)
            except signatures.SignatureError as again:
                raise Refused(401, str(again)) from again
    if signer.actor_uri != actor_uri:
        raise Refused(401, "The activity's actor is not the key's owner.")
    if seen:
        return 202, "Already received."
    incoming = Incoming(activity, signer.actor_uri)
    await _prefetch(settings, incoming)
    outbox = Outbox()

    def apply(session: Session) -> tuple[int, str]:
        if _seen(session, activity_id):
            return 202, "Already received."
        for doc in incoming.fetched:
            remote.store_actor(session, settings, doc)
        try:
            with session.begin_nested():
                session.add(InboxSeen(activity_id=activity_id[:2000]))
                session.flush()
        except IntegrityError:
            return 202, "Already received."
        profile = remote.actor_profile(session, settings, signer.actor_uri)
        if profile is None:
            raise Refused(401, "The signer is unknown.")
        return Applier(session, settings, outbox, profile).apply(incoming)

    result = await run_in_session(apply, url)
    await publish(outbox)
    return result


async def _prefetch(settings: Settings, incoming: Incoming) -> None:
    """Fetch what applying needs and the database does not have: the note a Create names by id,
    the remote note an Announce boosts (with its author)."""
    activity = incoming.activity
    kind = activity.get("type")
    obj = activity.get("object")
    if kind not in ("Create", "Announce") or not isinstance(obj, str):
        return
    if urls.local_post_id(settings, obj) is not None or urls.local_comment_id(settings, obj) is not None:
        return

    def known(session: Session) -> tuple[bool, str | None]:
        return (
            session.exec(select(ApObject.id).where(ApObject.ap_id == obj)).first() is not None,
            blocked(session, {_host(obj)}),
        )

    have, host_blocked = await run_in_session(known, settings.database_url)
    if have or host_blocked:
        return
    try:
        note = await remote.get_json(settings, obj)
    except remote.RemoteError as exc:
        log.info("inbox: could not fetch %s: %s", obj, exc)
        return
    if note.get("type") not in NOTE_TYPES or _id(note) != obj:
        return
    author_uri = _id(note.get("attributedTo"))
    if _host(author_uri) != _host(obj):
        return

    def author_known(session: Session) -> bool:
        return (
            session.exec(select(RemoteActor.id).where(RemoteActor.actor_uri == author_uri)).first()
            is not None
        )

    if kind == "Announce" and not await run_in_session(author_known, settings.database_url):
        try:
            incoming.fetched.append(await remote.fetch_actor(settings, author_uri))
        except remote.RemoteError as exc:
            log.info("inbox: could not fetch %s: %s", author_uri, exc)
            return
    incoming.fetched_note = note
