"""Activities made from local writes, queued for delivery in the writer's own transaction.

Each hook is called inside a social write (no network there): it works out the remote inboxes
the activity must reach and puts one `Delivery` row per inbox (`enqueue`); the delivery worker
(`delivery.DeliveryWorker`, on the leader) sends them after the commit. Nothing is queued when
federation is off for the instance, the sender opted out (`Profile.federated`), the sender is
itself a remote account, or nobody remote is in the audience (the common case costs at most one
indexed query: the remote followers).

Activity ids: a post's Create is `{note}/activity` and a boost's Announce `{boost note}/activity`
(post ids are never reused, models/ids.py); a Like `{actor}#likes/{post}/{ms}` and a Follow
`{actor}#follows/{profile}/{ms}` with the row's creation time, so one made again after an undo
has a new id (inboxes drop an id seen before) and its Undo names the same id.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session, col, func, select

from clawnet.enums import Visibility
from clawnet.models import Comment, Follow, Like, Post, Profile, utcnow
from clawnet.models.federation import ApObject, Delivery, RemoteActor
from clawnet.settings import Settings
from clawnet.social.federation import documents, urls

CONTEXT = "https://www.w3.org/ns/activitystreams"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"

# Set (from a database thread) when a transaction queued something; the write's publish step
# wakes the delivery worker when it is set (`delivery.wake_if_enqueued`).
enqueued = threading.Event()


# --- the queue -------------------------------------------------------------------------------


def host_of(url: str) -> str:
    return urlsplit(url).netloc.lower()


def enqueue(
    session: Session, settings: Settings, sender: Profile, activity: dict[str, Any], inboxes: Iterable[str]
) -> int:
    """One pending `Delivery` per distinct inbox (never one of this instance's own), in the
    caller's transaction. Returns how many were queued."""
    assert sender.id is not None
    own = host_of(urls.base(settings))
    targets = sorted({i for i in inboxes if i and host_of(i) and host_of(i) != own})
    if not targets:
        return 0
    body = json.dumps(activity, separators=(",", ":"), ensure_ascii=False)
    now = utcnow()
    for inbox in targets:
        session.add(
            Delivery(
                activity_id=str(activity.get("id", ""))[:2000],
                inbox_url=inbox,
                host=host_of(inbox)[:255],
                sender_profile_id=sender.id,
                body=body,
                next_attempt_at=now,
                created_at=now,
            )
        )
    session.flush()
    enqueued.set()
    return len(targets)


def _inbox_column() -> Any:
    """The shared inbox when the remote server has one, else the actor's own."""
    return func.coalesce(func.nullif(RemoteActor.shared_inbox_url, ""), RemoteActor.inbox_url)


def follower_inboxes(session: Session, profile_id: int) -> set[str]:
    """The inboxes of this profile's remote followers, shared inboxes when known (one query)."""
    rows = session.exec(
        select(_inbox_column())
        .join(Follow, col(Follow.follower_id) == RemoteActor.profile_id)
        .where(Follow.followee_id == profile_id)
    ).all()
    return {r for r in rows if r}


def actor_inboxes(session: Session, profiles: Iterable[Profile], *, personal: bool = False) -> set[str]:
    """The inboxes of these profiles that are remote accounts (none asked for local ones);
    `personal`: each actor's own inbox rather than the shared one (Follow, Accept, Like)."""
    ids = [p.id for p in profiles if p.domain is not None and p.id is not None]
    if not ids:
        return set()
    column: Any = RemoteActor.inbox_url if personal else _inbox_column()
    return {r for r in session.exec(select(column).where(col(RemoteActor.profile_id).in_(ids))).all() if r}


def remote_actor(session: Session, profile: Profile) -> RemoteActor | None:
    if profile.domain is None:
        return None
    return session.exec(select(RemoteActor).where(RemoteActor.profile_id == profile.id)).first()


def sends(settings: Settings, sender: Profile | None) -> bool:
    """Whether this profile's writes federate at all."""
    return bool(
        settings.federation_enabled and sender is not None and sender.domain is None and sender.federated
    )


# --- activity documents ------------------------------------------------------------------------


def _wrap(settings: Settings, sender: Profile, kind: str, obj: Any, activity_id: str, **extra: Any) -> dict:
    activity: dict[str, Any] = {
        "@context": CONTEXT,
        "id": activity_id,
        "type": kind,
        "actor": urls.actor(settings, sender.handle),
        "object": obj,
    }
    activity.update(extra)
    return activity


def _addressed(
    settings: Settings, sender: Profile, kind: str, note: dict[str, Any], activity_id: str
) -> dict:
    """Create/Update/Delete of a note, addressed as the note is."""
    inner = {k: v for k, v in note.items() if k != "@context"}
    return _wrap(
        settings,
        sender,
        kind,
        inner,
        activity_id,
        to=note.get("to", []),
        cc=note.get("cc", []),
        published=utcnow().isoformat().replace("+00:00", "Z"),
    )


def _tombstone(settings: Settings, sender: Profile, object_id: str, followers_only: bool) -> dict:
    return _wrap(
        settings,
        sender,
        "Delete",
        {"id": object_id, "type": "Tombstone"},
        urls.activity(settings),
        to=[urls.followers(settings, sender.handle)] if followers_only else [PUBLIC],
        cc=[] if followers_only else [urls.followers(settings, sender.handle)],
    )


def _undo(settings: Settings, sender: Profile, inner: dict[str, Any]) -> dict:
    original = {k: v for k, v in inner.items() if k != "@context"}
    return _wrap(settings, sender, "Undo", original, urls.activity(settings))


def _object_uri(session: Session, settings: Settings, post: Post) -> str:
    """A post's ActivityPub id: the remote one it came from, or ours."""
    assert post.id is not None
    known = session.exec(select(ApObject.ap_id).where(ApObject.post_id == post.id)).first()
    return known or urls.post_note(settings, post.id)


def _actor_uri(session: Session, settings: Settings, profile: Profile) -> str:
    remote = remote_actor(session, profile)
    if remote is not None:
        return remote.actor_uri
    return urls.actor(settings, profile.handle)


def _stamp(moment: datetime) -> int:
    """A row's creation in milliseconds: part of the ids of the activities it makes, so a like or
    follow made again (after an undo) has a new id, and its Undo names the same one."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return int(aware.timestamp() * 1000)


def follow_activity(
    settings: Settings, follower: Profile, followee_uri: str, followee_id: int, since: datetime
) -> dict:
    return _wrap(
        settings,
        follower,
        "Follow",
        followee_uri,
        f"{urls.actor(settings, follower.handle)}#follows/{followee_id}/{_stamp(since)}",
    )


def like_activity(settings: Settings, liker: Profile, object_uri: str, post_id: int, since: datetime) -> dict:
    return _wrap(
        settings,
        liker,
        "Like",
        object_uri,
        f"{urls.actor(settings, liker.handle)}#likes/{post_id}/{_stamp(since)}",
    )


def announce_activity(settings: Settings, booster: Profile, boost_id: int, object_uri: str) -> dict:
    return _wrap(
        settings,
        booster,
        "Announce",
        object_uri,
        f"{urls.post_note(settings, boost_id)}/activity",
        to=[PUBLIC],
        cc=[urls.followers(settings, booster.handle)],
        published=utcnow().isoformat().replace("+00:00", "Z"),
    )


# --- hooks (inside the social writes) ------------------------------------------------------------


def _post_audience(
    session: Session, settings: Settings, author: Profile, post: Post, mentioned: Iterable[Profile]
) -> set[str]:
    """The remote followers' inboxes, and the mentioned remote actors' (whatever the visibility:
    a followers-only post is addressed to whom it mentions too, as on Mastodon)."""
    assert author.id is not None
    return follower_inboxes(session, author.id) | actor_inboxes(session, mentioned)


def _mentioned(session: Session, post: Post) -> list[Profile]:
    from clawnet.models import PostMention

    return list(
        session.exec(
            select(Profile)
            .join(PostMention, col(PostMention.profile_id) == Profile.id)
            .where(PostMention.post_id == post.id, col(Profile.domain).is_not(None))
        ).all()
    )


def _send_create(
    session: Session, settings: Settings, author: Profile, note: dict[str, Any], inboxes: set[str]
) -> int:
    """Create of a note (its id `{note}/activity`: notes ids are never reused)."""
    return enqueue(
        session,
        settings,
        author,
        _addressed(settings, author, "Create", note, note["id"] + "/activity"),
        inboxes,
    )


def post_created(
    session: Session, settings: Settings, author: Profile, post: Post, mentioned: Iterable[Profile] = ()
) -> int:
    """Create Note: to the remote followers' inboxes and the mentioned remote actors'."""
    if not sends(settings, author) or post.reblog_of_id is not None:
        return 0
    inboxes = _post_audience(session, settings, author, post, mentioned)
    if not inboxes:
        return 0
    note = documents.note(session, settings, post)
    return _send_create(session, settings, author, note, inboxes)


def post_edited(session: Session, settings: Settings, author: Profile, post: Post) -> int:
    """Update Note to the same audience as its Create."""
    if not sends(settings, author) or post.reblog_of_id is not None:
        return 0
    inboxes = _post_audience(session, settings, author, post, _mentioned(session, post))
    if not inboxes:
        return 0
    note = documents.note(session, settings, post)
    return enqueue(
        session,
        settings,
        author,
        _addressed(settings, author, "Update", note, urls.activity(settings)),
        inboxes,
    )


def post_deleted(session: Session, settings: Settings, author: Profile | None, post: Post) -> int:
    """Delete with a Tombstone (or Undo Announce for a boost). Call before the row goes."""
    if author is None or not sends(settings, author) or post.id is None:
        return 0
    if post.reblog_of_id is not None:
        original = session.get(Post, post.reblog_of_id)
        return unboosted(session, settings, author, post, original) if original else 0
    inboxes = _post_audience(session, settings, author, post, _mentioned(session, post))
    if not inboxes:
        return 0
    activity = _tombstone(
        settings, author, urls.post_note(settings, post.id), post.visibility != Visibility.PUBLIC.value
    )
    return enqueue(session, settings, author, activity, inboxes)


def _thread_authors(session: Session, post: Post, parent: Comment | None) -> list[Profile]:
    ids = {post.author_id} | ({parent.author_id} if parent is not None else set())
    return [p for i in ids if (p := session.get(Profile, i)) is not None]


def comment_created(
    session: Session,
    settings: Settings,
    author: Profile,
    comment: Comment,
    post: Post,
    parent: Comment | None = None,
    mentioned: Iterable[Profile] = (),
) -> int:
    """Create Note with inReplyTo: to the remote author of the post (and of the comment
    answered) and remote mentioned actors, plus the commenter's remote followers when public."""
    if not sends(settings, author):
        return 0
    assert author.id is not None
    inboxes = actor_inboxes(session, [*_thread_authors(session, post, parent), *mentioned])
    if post.visibility == Visibility.PUBLIC.value:
        inboxes |= follower_inboxes(session, author.id)
    if not inboxes:
        return 0
    note = documents.comment_note(session, settings, comment)
    return _send_create(session, settings, author, note, inboxes)


def comment_deleted(session: Session, settings: Settings, author: Profile | None, comment: Comment) -> int:
    """Delete (Tombstone) of a comment, to whom its Create went. Call before the row goes."""
    if author is None or not sends(settings, author) or comment.id is None:
        return 0
    assert author.id is not None
    post = session.get(Post, comment.post_id)
    if post is None:
        return 0
    parent = session.get(Comment, comment.parent_id) if comment.parent_id else None
    inboxes = actor_inboxes(session, _thread_authors(session, post, parent))
    public = post.visibility == Visibility.PUBLIC.value
    if public:
        inboxes |= follower_inboxes(session, author.id)
    if not inboxes:
        return 0
    activity = _tombstone(settings, author, urls.comment_note(settings, comment.id), not public)
    return enqueue(session, settings, author, activity, inboxes)


def liked(session: Session, settings: Settings, liker: Profile, post: Post, like: Like, liked: bool) -> int:
    """Like / Undo Like (`liked` False: `like` is the row being removed) of a remote-authored
    post, to its author's inbox."""
    if not sends(settings, liker) or post.id is None:
        return 0
    author = session.get(Profile, post.author_id)
    if author is None or author.domain is None:
        return 0
    inboxes = actor_inboxes(session, [author], personal=True)
    if not inboxes:
        return 0
    activity = like_activity(settings, liker, _object_uri(session, settings, post), post.id, like.created_at)
    return enqueue(session, settings, liker, activity if liked else _undo(settings, liker, activity), inboxes)


def boosted(session: Session, settings: Settings, booster: Profile, boost: Post, original: Post) -> int:
    """Announce: to the booster's remote followers and the original's remote author."""
    if not sends(settings, booster) or boost.id is None:
        return 0
    assert booster.id is not None
    original_author = session.get(Profile, original.author_id)
    inboxes = follower_inboxes(session, booster.id) | actor_inboxes(
        session, [original_author] if original_author else []
    )
    if not inboxes:
        return 0
    activity = announce_activity(settings, booster, boost.id, _object_uri(session, settings, original))
    return enqueue(session, settings, booster, activity, inboxes)


def unboosted(
    session: Session, settings: Settings, booster: Profile, boost: Post, original: Post | None
) -> int:
    """Undo Announce, to whom the Announce went. Call before the boost row goes."""
    if not sends(settings, booster) or boost.id is None or original is None:
        return 0
    assert booster.id is not None
    original_author = session.get(Profile, original.author_id)
    inboxes = follower_inboxes(session, booster.id) | actor_inboxes(
        session, [original_author] if original_author else []
    )
    if not inboxes:
        return 0
    activity = announce_activity(settings, booster, boost.id, _object_uri(session, settings, original))
    return enqueue(session, settings, booster, _undo(settings, booster, activity), inboxes)


def followed(
    session: Session, settings: Settings, follower: Profile, followee: Profile, row: Follow, follow: bool
) -> int:
    """Follow / Undo Follow (`follow` False: `row` is being removed) of a remote account, to its
    inbox."""
    if not sends(settings, follower) or followee.domain is None or followee.id is None:
        return 0
    remote = remote_actor(session, followee)
    if remote is None or not remote.inbox_url:
        return 0
    activity = follow_activity(settings, follower, remote.actor_uri, followee.id, row.created_at)
    return enqueue(
        session,
        settings,
        follower,
        activity if follow else _undo(settings, follower, activity),
        [remote.inbox_url],
    )


def profile_updated(session: Session, settings: Settings, profile: Profile) -> int:
    """Update Person/Service to the profile's remote followers."""
    if not sends(settings, profile):
        return 0
    assert profile.id is not None
    inboxes = follower_inboxes(session, profile.id)
    if not inboxes:
        return 0
    document = documents.actor(session, settings, profile)
    activity = _wrap(
        settings,
        profile,
        "Update",
        {k: v for k, v in document.items() if k != "@context"},
        urls.activity(settings),
        to=[PUBLIC],
        cc=[urls.followers(settings, profile.handle)],
    )
    return enqueue(session, settings, profile, activity, inboxes)


def _answer(
    kind: str, session: Session, settings: Settings, local_profile: Profile, follow: dict[str, Any]
) -> int:
    follower_uri = follow.get("actor")
    if isinstance(follower_uri, dict):
        follower_uri = follower_uri.get("id")
    if not isinstance(follower_uri, str) or not settings.federation_enabled:
        return 0
    remote = session.exec(select(RemoteActor).where(RemoteActor.actor_uri == follower_uri)).first()
    if remote is None or not remote.inbox_url:
        return 0
    inner = {k: v for k, v in follow.items() if k != "@context"}
    activity = _wrap(settings, local_profile, kind, inner, urls.activity(settings), to=[follower_uri])
    return enqueue(session, settings, local_profile, activity, [remote.inbox_url])


def accept(
    session: Session, settings: Settings, local_profile: Profile, follow_activity: dict[str, Any]
) -> int:
    """Accept a remote Follow (part C's inbox calls this), to the follower's own inbox."""
    return _answer("Accept", session, settings, local_profile, follow_activity)


def reject(
    session: Session, settings: Settings, local_profile: Profile, follow_activity: dict[str, Any]
) -> int:
    """Reject a remote Follow, to the follower's own inbox."""
    return _answer("Reject", session, settings, local_profile, follow_activity)
