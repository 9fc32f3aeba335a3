"""The ActivityPub documents this instance serves and sends: actors (people `Person`, bots
`Service`), notes (posts and comments) and the activities wrapping them, (collections are in
`collections`, WebFinger, host-meta and NodeInfo in `discovery`).

Every function takes the caller's session (reads only, apart from an actor's key pair made on
first use) and returns plain JSON-ready dicts. Ids and URLs come from `urls`; the HTML is what was
stored, already sanitized by the allowlist, with the instance's relative links made absolute.

What is not served (None): remote profiles, a local profile whose owner switched federation off,
a suspended one, everything when the instance's federation is off; hidden posts, boosts (an
`Announce`, not a note) and followers-only posts and their comments (never to anonymous fetches).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from html import escape
from typing import Any
from xml.sax.saxutils import quoteattr

from sqlmodel import Session, col, select

from clawnet import media, routes
from clawnet.enums import Visibility
from clawnet.models import (
    ApObject,
    Comment,
    Hashtag,
    Media,
    Post,
    PostMention,
    PostTag,
    Profile,
    RemoteActor,
)
from clawnet.settings import Settings
from clawnet.social import profiles
from clawnet.social.federation import keys, urls

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"
# The terms Mastodon uses beyond ActivityStreams (bot fields, discoverable, sensitive, hashtags).
EXTENSIONS: dict[str, Any] = {
    "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
    "sensitive": "as:sensitive",
    "Hashtag": "as:Hashtag",
    "toot": "http://joinmastodon.org/ns#",
    "discoverable": "toot:discoverable",
    "schema": "http://schema.org#",
    "PropertyValue": "schema:PropertyValue",
    "value": "schema:value",
}
CONTEXT: list[Any] = [AS_CONTEXT, SECURITY_CONTEXT, EXTENSIONS]
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"

_RELATIVE_LINK = re.compile(r'(\s(?:href|src)=")(/(?!/)[^"]*)"')
_MENTION_LINK = re.compile(r'<a\b[^>]*\bclass="mention"[^>]*>@([^<]+)</a>')
_HASHTAG_LINK = re.compile(r'<a\b[^>]*\bclass="hashtag"[^>]*>#([^<]+)</a>')


# --- small helpers -------------------------------------------------------------------------------


def iso(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def absolute(settings: Settings, path: str) -> str:
    """A path of this site (`/u/ada`) as an absolute URL."""
    return urls.base(settings) + path if path.startswith("/") and not path.startswith("//") else path


def absolute_links(settings: Settings, html: str) -> str:
    """Stored HTML with this site's relative links (mentions, hashtags) made absolute, so they
    work on other servers."""
    return _RELATIVE_LINK.sub(lambda m: f'{m.group(1)}{absolute(settings, m.group(2))}"', html)


def servable(settings: Settings, profile: Profile | None) -> bool:
    """Whether this profile is published to other servers: local, its federation switch on, not
    suspended, and the instance federating at all."""
    return (
        profile is not None
        and settings.federation_enabled
        and profile.domain is None
        and profile.federated
        and profile.suspended_at is None
    )


def local_profile(session: Session, settings: Settings, handle: str) -> Profile | None:
    """The servable local profile with this handle, or None."""
    profile = session.exec(select(Profile).where(Profile.handle == handle.strip().lower())).first()
    return profile if profile is not None and servable(settings, profile) else None


def actor_uri(session: Session, settings: Settings, profile: Profile) -> str:
    """The ActivityPub id of any profile: ours from `urls`, a remote one's as fetched ('' when
    its actor was never fetched)."""
    if profile.domain is None:
        return urls.actor(settings, profile.handle)
    uri = session.exec(select(RemoteActor.actor_uri).where(RemoteActor.profile_id == profile.id)).first()
    return uri or ""


def address(settings: Settings, profile: Profile) -> str:
    """`@handle@host`, the address other servers find the profile by."""
    if profile.domain is not None:
        return "@" + profile.handle  # a remote handle already is `user@domain`
    return f"@{profile.handle}@{settings.federation_host}"


def post_object_id(session: Session, settings: Settings, post: Post) -> str:
    """The ActivityPub id of a post: the remote one it came from, or ours."""
    assert post.id is not None
    remote = session.exec(select(ApObject.ap_id).where(ApObject.post_id == post.id)).first()
    return remote or urls.post_note(settings, post.id)


def comment_object_id(session: Session, settings: Settings, comment: Comment) -> str:
    assert comment.id is not None
    remote = session.exec(select(ApObject.ap_id).where(ApObject.comment_id == comment.id)).first()
    return remote or urls.comment_note(settings, comment.id)


def profile_url(settings: Settings, profile: Profile) -> str:
    return absolute(settings, routes.profile(profile.handle))


def _image(settings: Settings, path: str) -> dict[str, Any] | None:
    if not path:
        return None
    mime = media.MIME_BY_EXT.get(path.rsplit(".", 1)[-1].lower(), "image/png")
    return {"type": "Image", "mediaType": mime, "url": absolute(settings, media.url(path))}


def _dedupe(items: Iterable[str]) -> list[str]:
    return [i for i in dict.fromkeys(items) if i]


# --- actors --------------------------------------------------------------------------------------


def actor(session: Session, settings: Settings, profile: Profile) -> dict[str, Any]:
    """The profile as an ActivityPub actor: `Service` for a bot (Mastodon's bot badge), `Person`
    for a person; a bot names the person operating it."""
    handle = profile.handle
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "id": urls.actor(settings, handle),
        "type": "Service" if profile.is_bot else "Person",
        "preferredUsername": handle,
        "name": profile.display_name,
        "summary": absolute_links(settings, profile.bio_html),
        "url": profile_url(settings, profile),
        "inbox": urls.inbox(settings, handle),
        "outbox": urls.outbox(settings, handle),
        "followers": urls.followers(settings, handle),
        "following": urls.following(settings, handle),
        "endpoints": {"sharedInbox": urls.shared_inbox(settings)},
        "publicKey": {
            "id": urls.key_id(settings, handle),
            "owner": urls.actor(settings, handle),
            "publicKeyPem": keys.public_key(session, settings, profile),
        },
        "published": iso(profile.created_at),
        "manuallyApprovesFollowers": False,
        "discoverable": True,
    }
    if icon := _image(settings, profile.avatar_path):
        document["icon"] = icon
    if profile.is_bot:
        owner = profiles.person_profile_of(session, profile.user_id) if profile.user_id else None
        if owner is not None:
            owner_url = profile_url(settings, owner)
            link = quoteattr(owner_url)
            label = address(settings, owner).replace("&", "&amp;").replace("<", "&lt;")
            document["attachment"] = [
                {
                    "type": "PropertyValue",
                    "name": "Operated by",
                    "value": f'<a href={link} rel="nofollow noopener noreferrer" target="_blank">{label}</a>',
                }
            ]
    return document


# --- notes and activities ------------------------------------------------------------------------


def _mention_tags(session: Session, settings: Settings, mentioned: Iterable[Profile]) -> list[dict[str, Any]]:
    tags = []
    for other in mentioned:
        uri = actor_uri(session, settings, other)
        if uri:
            tags.append({"type": "Mention", "href": uri, "name": address(settings, other)})
    return tags


def remote_mention_links(session: Session, html: str, mentioned: Iterable[Profile]) -> str:
    """Mention links to remote profiles (this site's page for them) pointed at their own pages,
    so they work on other servers (as Mastodon links mentions)."""
    for other in mentioned:
        if other.domain is None:
            continue
        row = session.exec(select(RemoteActor).where(RemoteActor.profile_id == other.id)).first()
        target = (row.url or row.actor_uri) if row is not None else ""
        if target.startswith(("http://", "https://")):
            html = html.replace(f'href="{escape(routes.profile(other.handle))}"', f"href={quoteattr(target)}")
    return html


def _hashtag_tags(settings: Settings, names: Iterable[str]) -> list[dict[str, Any]]:
    return [
        {"type": "Hashtag", "href": absolute(settings, routes.tag(name)), "name": "#" + name}
        for name in dict.fromkeys(n.lower() for n in names)
    ]


def _profiles_named(session: Session, handles: Iterable[str]) -> list[Profile]:
    wanted = list(dict.fromkeys(h.strip().lower() for h in handles))
    if not wanted:
        return []
    found = {p.handle: p for p in session.exec(select(Profile).where(col(Profile.handle).in_(wanted))).all()}
    return [found[h] for h in wanted if h in found]


def _addressing(
    session: Session, settings: Settings, author: Profile, visibility: str, cc_profiles: Iterable[Profile]
) -> tuple[list[str], list[str]]:
    """(to, cc): public -> to Public, cc the author's followers; followers-only -> to the
    followers collection. Mentioned (and replied-to) actors are added to cc."""
    followers = urls.followers(settings, author.handle)
    others = [actor_uri(session, settings, p) for p in cc_profiles if p.id != author.id]
    if visibility == Visibility.PUBLIC.value:
        return [PUBLIC], _dedupe([followers, *others])
    return [followers], _dedupe(others)


def _attachments(settings: Settings, rows: Iterable[Media]) -> list[dict[str, Any]]:
    found = []
    for m in rows:
        item: dict[str, Any] = {
            "type": "Document",
            "mediaType": m.mime_type,
            "url": absolute(settings, media.url(m.path)),
            "name": m.alt_text or None,
        }
        if m.width and m.height:
            item["width"], item["height"] = m.width, m.height
        found.append(item)
    return found


def note(session: Session, settings: Settings, post: Post) -> dict[str, Any]:
    """A post (not a boost: see `announce`) as a `Note`, addressed by its visibility."""
    assert post.id is not None
    if post.reblog_of_id is not None:
        raise ValueError("A boost is an Announce, not a Note.")
    author = session.get(Profile, post.author_id)
    assert author is not None
    mentioned_ids = session.exec(select(PostMention.profile_id).where(PostMention.post_id == post.id)).all()
    by_id = (
        {p.id: p for p in session.exec(select(Profile).where(col(Profile.id).in_(mentioned_ids))).all()}
        if mentioned_ids
        else {}
    )
    mentioned = [by_id[i] for i in mentioned_ids if i in by_id]
    known = {p.id for p in mentioned}
    mentioned += [
        p for p in _profiles_named(session, _MENTION_LINK.findall(post.content_html)) if p.id not in known
    ]
    tag_names = session.exec(
        select(Hashtag.name)
        .join(PostTag, col(PostTag.tag_id) == Hashtag.id)
        .where(PostTag.post_id == post.id)
        .order_by(col(PostTag.id))
    ).all()
    to, cc = _addressing(session, settings, author, post.visibility, mentioned)
    images = session.exec(select(Media).where(Media.post_id == post.id).order_by(col(Media.id))).all()
    return _note_document(
        settings,
        object_id=urls.post_note(settings, post.id),
        author=author,
        html=remote_mention_links(session, post.content_html, mentioned),
        spoiler=post.spoiler_text,
        to=to,
        cc=cc,
        tags=[*_mention_tags(session, settings, mentioned), *_hashtag_tags(settings, tag_names)],
        published=post.created_at,
        edited=post.edited_at,
        url=absolute(settings, routes.post_detail(post.id)),
        in_reply_to=None,
        attachments=_attachments(settings, images),
    )


def comment_note(session: Session, settings: Settings, comment: Comment) -> dict[str, Any]:
    """A comment as a `Note` answering its parent comment or its post (`inReplyTo`), addressed
    like the post it belongs to; the author it answers is in cc."""
    assert comment.id is not None
    post = session.get(Post, comment.post_id)
    author = session.get(Profile, comment.author_id)
    assert post is not None and author is not None
    parent = session.get(Comment, comment.parent_id) if comment.parent_id else None
    if parent is not None:
        in_reply_to = comment_object_id(session, settings, parent)
        answered = session.get(Profile, parent.author_id)
    else:
        in_reply_to = post_object_id(session, settings, post)
        answered = session.get(Profile, post.author_id)
    mentioned = _profiles_named(session, _MENTION_LINK.findall(comment.content_html))
    cc_profiles = [*mentioned, *([answered] if answered is not None else [])]
    to, cc = _addressing(session, settings, author, post.visibility, cc_profiles)
    return _note_document(
        settings,
        object_id=urls.comment_note(settings, comment.id),
        author=author,
        html=remote_mention_links(session, comment.content_html, mentioned),
        spoiler="",
        to=to,
        cc=cc,
        tags=[
            *_mention_tags(session, settings, mentioned),
            *_hashtag_tags(settings, _HASHTAG_LINK.findall(comment.content_html)),
        ],
        published=comment.created_at,
        edited=comment.edited_at,
        url=absolute(settings, routes.post_detail(post.id or 0)) + f"#comment-{comment.id}",
        in_reply_to=in_reply_to,
        attachments=[],
    )


def _note_document(
    settings: Settings,
    *,
    object_id: str,
    author: Profile,
    html: str,
    spoiler: str,
    to: list[str],
    cc: list[str],
    tags: list[dict[str, Any]],
    published: datetime,
    edited: datetime | None,
    url: str,
    in_reply_to: str | None,
    attachments: list[dict[str, Any]],
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "id": object_id,
        "type": "Note",
        "attributedTo": urls.actor(settings, author.handle),
        "content": absolute_links(settings, html),
        "summary": spoiler or None,
        "sensitive": bool(spoiler),
        "inReplyTo": in_reply_to,
        "published": iso(published),
        "url": url,
        "to": to,
        "cc": cc,
        "tag": tags,
        "attachment": attachments,
    }
    if edited is not None:
        document["updated"] = iso(edited)
    return document


def _activity(
    kind: str, activity_id: str, actor_id: str, obj: Any, to: list[str], cc: list[str]
) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "id": activity_id,
        "type": kind,
        "actor": actor_id,
        "object": obj,
        "to": to,
        "cc": cc,
    }


def _embedded(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "@context"}


def create(note_document: dict[str, Any]) -> dict[str, Any]:
    """The `Create` of a note (its id: the note's + `/activity`, stable for re-deliveries)."""
    activity = _activity(
        "Create",
        note_document["id"] + "/activity",
        note_document["attributedTo"],
        _embedded(note_document),
        note_document["to"],
        note_document["cc"],
    )
    activity["published"] = note_document["published"]
    return activity


def update(settings: Settings, document: dict[str, Any]) -> dict[str, Any]:
    """The `Update` of an edited note or a changed actor (a fresh id each time)."""
    actor_id = document.get("attributedTo") or document["id"]
    to = document.get("to") or [PUBLIC]
    cc = document.get("cc") or []
    return _activity("Update", urls.activity(settings), actor_id, _embedded(document), to, cc)


def delete(
    settings: Settings, author: Profile, object_id: str, to: list[str] | None = None
) -> dict[str, Any]:
    """The `Delete` of a note (a `Tombstone`), sent to whoever had it."""
    actor_id = urls.actor(settings, author.handle)
    tombstone = {"id": object_id, "type": "Tombstone"}
    followers = urls.followers(settings, author.handle)
    return _activity("Delete", urls.activity(settings), actor_id, tombstone, to or [PUBLIC], [followers])


def announce(session: Session, settings: Settings, boost: Post) -> dict[str, Any]:
    """A boost post as the `Announce` of the boosted post (id: the boost's note id + `/activity`,
    so its `Undo` names the same id)."""
    assert boost.id is not None and boost.reblog_of_id is not None
    booster = session.get(Profile, boost.author_id)
    original = session.get(Post, boost.reblog_of_id)
    assert booster is not None and original is not None
    original_author = session.get(Profile, original.author_id)
    cc = [urls.followers(settings, booster.handle)]
    if original_author is not None and original_author.id != booster.id:
        cc.append(actor_uri(session, settings, original_author))
    activity = _activity(
        "Announce",
        urls.post_note(settings, boost.id) + "/activity",
        urls.actor(settings, booster.handle),
        post_object_id(session, settings, original),
        [PUBLIC],
        _dedupe(cc),
    )
    activity["published"] = iso(boost.created_at)
    return activity


# --- what /ap/posts/{id} and /ap/comments/{id} serve ---------------------------------------------


def servable_post(session: Session, settings: Settings, post_id: int) -> Post | None:
    """A post served to anyone who asks: public, not hidden, not a boost, by a servable author."""
    post = session.get(Post, post_id)
    if post is None or post.reblog_of_id is not None or post.hidden_at is not None:
        return None
    if post.visibility != Visibility.PUBLIC.value:
        return None
    return post if servable(settings, session.get(Profile, post.author_id)) else None


def servable_comment(session: Session, settings: Settings, comment_id: int) -> Comment | None:
    comment = session.get(Comment, comment_id)
    if comment is None or not servable(settings, session.get(Profile, comment.author_id)):
        return None
    post = session.get(Post, comment.post_id)
    if post is None or post.hidden_at is not None or post.visibility != Visibility.PUBLIC.value:
        return None
    author = session.get(Profile, post.author_id)
    return comment if author is not None and author.suspended_at is None else None
