"""THROWAWAY stand-in for part A's documents.py (branch fed-fedB only, so part B's tests run):
drop at merge in favour of part A's module. Same interface: `note`, `comment_note`, `actor`."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from clawnet.enums import Visibility
from clawnet.models import Comment, Post, PostMention, Profile
from clawnet.models.federation import ApObject, RemoteActor
from clawnet.settings import Settings
from clawnet.social.federation import urls

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
CONTEXT = "https://www.w3.org/ns/activitystreams"


def actor_uri(session: Session, settings: Settings, profile: Profile) -> str:
    if profile.domain is None:
        return urls.actor(settings, profile.handle)
    remote = session.exec(select(RemoteActor).where(RemoteActor.profile_id == profile.id)).first()
    return remote.actor_uri if remote else ""


def _addressing(
    session: Session, settings: Settings, author: Profile, visibility: str, mentioned: list[Profile]
):
    followers = urls.followers(settings, author.handle)
    cc = [actor_uri(session, settings, m) for m in mentioned]
    if visibility == Visibility.PUBLIC.value:
        return [PUBLIC], [followers, *cc]
    return [followers], cc


def note(session: Session, settings: Settings, post: Post) -> dict[str, Any]:
    author = session.get(Profile, post.author_id)
    assert author is not None and post.id is not None
    ids = session.exec(select(PostMention.profile_id).where(PostMention.post_id == post.id)).all()
    mentioned = [p for i in ids if (p := session.get(Profile, i)) is not None]
    to, cc = _addressing(session, settings, author, post.visibility, mentioned)
    return {
        "id": urls.post_note(settings, post.id),
        "type": "Note",
        "attributedTo": urls.actor(settings, author.handle),
        "content": post.content_html,
        "to": to,
        "cc": cc,
        "summary": post.spoiler_text or None,
        "sensitive": bool(post.spoiler_text),
        "tag": [{"type": "Mention", "href": actor_uri(session, settings, m)} for m in mentioned],
    }


def _object_id(session: Session, settings: Settings, post_id: int | None, comment_id: int | None) -> str:
    q = select(ApObject.ap_id).where(
        ApObject.post_id == post_id if comment_id is None else ApObject.comment_id == comment_id
    )
    known = session.exec(q).first()
    if known:
        return known
    if comment_id is not None:
        return urls.comment_note(settings, comment_id)
    return urls.post_note(settings, post_id or 0)


def comment_note(session: Session, settings: Settings, comment: Comment) -> dict[str, Any]:
    author = session.get(Profile, comment.author_id)
    post = session.get(Post, comment.post_id)
    assert author is not None and post is not None and comment.id is not None
    to, cc = _addressing(session, settings, author, post.visibility, [])
    reply_to = (
        _object_id(session, settings, None, comment.parent_id)
        if comment.parent_id
        else _object_id(session, settings, post.id, None)
    )
    return {
        "id": urls.comment_note(settings, comment.id),
        "type": "Note",
        "attributedTo": urls.actor(settings, author.handle),
        "content": comment.content_html,
        "inReplyTo": reply_to,
        "to": to,
        "cc": cc,
    }


def actor(session: Session, settings: Settings, profile: Profile) -> dict[str, Any]:
    uri = urls.actor(settings, profile.handle)
    return {
        "@context": [CONTEXT, "https://w3id.org/security/v1"],
        "id": uri,
        "type": "Service" if profile.is_bot else "Person",
        "preferredUsername": profile.handle,
        "name": profile.display_name,
        "summary": profile.bio_html,
        "inbox": urls.inbox(settings, profile.handle),
        "outbox": urls.outbox(settings, profile.handle),
        "followers": urls.followers(settings, profile.handle),
        "following": urls.following(settings, profile.handle),
    }
