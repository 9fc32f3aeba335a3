"""The ActivityPub documents this instance serves and sends: actors (people `Person`, bots
`Service`), notes (posts and comments) and the activities wrapping them, an actor's outbox,
followers and following collections, WebFinger, host-meta and NodeInfo.

Every function takes the caller's session (reads only, apart from an actor's key pair made on
first use) and returns plain JSON-ready dicts. Ids and URLs come from `urls`; the HTML is what was
stored, already sanitized by the allowlist, with the instance's relative links made absolute.

What is not served (None): remote profiles, a local profile whose owner switched federation off,
a suspended one, everything when the instance's federation is off; hidden posts, boosts (an
`Announce`, not a note) and followers-only posts and their comments (never to anonymous fetches).
"""

from __future__ import annotations

import importlib.metadata
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.sax.saxutils import quoteattr

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from clawnet import media, routes
from clawnet.enums import Visibility
from clawnet.models import (
    ApObject,
    Comment,
    Follow,
    Hashtag,
    Media,
    Post,
    PostMention,
    PostTag,
    Profile,
    RemoteActor,
    User,
    utcnow,
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
PAGE_SIZE = 20
NODEINFO_SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/2.0"
NODEINFO_PATH = "/nodeinfo/2.0"
WEBFINGER_PATH = "/.well-known/webfinger"
PROFILE_PAGE_REL = "http://webfinger.net/rel/profile-page"
ACTIVITY_JSON = "application/activity+json"

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


def _profile_url(settings: Settings, profile: Profile) -> str:
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
        "url": _profile_url(settings, profile),
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
            owner_url = _profile_url(settings, owner)
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
        html=post.content_html,
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
        html=comment.content_html,
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


# --- collections ---------------------------------------------------------------------------------


def _collection(collection_id: str, total: int) -> dict[str, Any]:
    return {
        "@context": AS_CONTEXT,
        "id": collection_id,
        "type": "OrderedCollection",
        "totalItems": total,
        "first": f"{collection_id}?page=true",
    }


def _page(collection_id: str, page: str, items: list[Any], next_cursor: int | None) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": AS_CONTEXT,
        "id": f"{collection_id}?page={page}",
        "type": "OrderedCollectionPage",
        "partOf": collection_id,
        "orderedItems": items,
    }
    if next_cursor is not None:
        document["next"] = f"{collection_id}?page={next_cursor}"
    return document


def _cursor(page: str) -> int | None:
    """`?page=true` is the first page; `?page=<id>` the items older than that id."""
    return int(page) if page.isdigit() else None


def _outbox_clauses(profile: Profile) -> list[Any]:
    return [
        Post.author_id == profile.id,
        Post.visibility == Visibility.PUBLIC.value,
        col(Post.reblog_of_id).is_(None),
        col(Post.hidden_at).is_(None),
    ]


def outbox(session: Session, settings: Settings, profile: Profile, page: str | None = None) -> dict[str, Any]:
    """The profile's public posts as `Create` activities, newest first, `PAGE_SIZE` a page."""
    collection_id = urls.outbox(settings, profile.handle)
    if not page:
        total = session.exec(select(func.count()).select_from(Post).where(*_outbox_clauses(profile))).one()
        return _collection(collection_id, total)
    q = select(Post).where(*_outbox_clauses(profile))
    if (before := _cursor(page)) is not None:
        q = q.where(col(Post.id) < before)
    posts = session.exec(q.order_by(col(Post.id).desc()).limit(PAGE_SIZE)).all()
    items = [create(note(session, settings, p)) for p in posts]
    more = len(posts) == PAGE_SIZE
    return _page(collection_id, page, items, posts[-1].id if more else None)


def _federating() -> Any:
    """Profiles listed in collections: remote ones, and local ones that are published."""
    return sa.or_(
        col(Profile.domain).is_not(None),
        sa.and_(col(Profile.federated).is_(True), col(Profile.suspended_at).is_(None)),
    )


def _follow_collection(
    session: Session, settings: Settings, profile: Profile, page: str | None, *, followers: bool
) -> dict[str, Any]:
    collection_id = (urls.followers if followers else urls.following)(settings, profile.handle)
    mine, theirs = (
        (Follow.followee_id, Follow.follower_id) if followers else (Follow.follower_id, Follow.followee_id)
    )
    clauses = [mine == profile.id, _federating()]
    joined = select(Follow, Profile).join(Profile, col(Profile.id) == theirs)
    if not page:
        total = session.exec(
            select(func.count()).select_from(Follow).join(Profile, col(Profile.id) == theirs).where(*clauses)
        ).one()
        return _collection(collection_id, total)
    q = joined.where(*clauses)
    if (before := _cursor(page)) is not None:
        q = q.where(col(Follow.id) < before)
    rows = session.exec(q.order_by(col(Follow.id).desc()).limit(PAGE_SIZE)).all()
    items = [uri for _, other in rows if (uri := actor_uri(session, settings, other))]
    more = len(rows) == PAGE_SIZE
    return _page(collection_id, page, items, rows[-1][0].id if more else None)


def followers(
    session: Session, settings: Settings, profile: Profile, page: str | None = None
) -> dict[str, Any]:
    """Who follows the profile (actor ids), newest first."""
    return _follow_collection(session, settings, profile, page, followers=True)


def following(
    session: Session, settings: Settings, profile: Profile, page: str | None = None
) -> dict[str, Any]:
    """Whom the profile follows (actor ids), newest first."""
    return _follow_collection(session, settings, profile, page, followers=False)


# --- discovery: WebFinger, host-meta, NodeInfo ---------------------------------------------------


def _handle_of_resource(settings: Settings, resource: str) -> str | None:
    """The local handle a WebFinger resource names: `acct:handle@host` (or `handle@host`), the
    actor's id, or the profile page's URL."""
    resource = resource.strip()
    if resource.startswith(("http://", "https://")):
        handle = urls.local_handle(settings, resource)
        if handle is not None:
            return handle
        page_prefix = absolute(settings, routes.profile(""))
        rest = resource[len(page_prefix) :].strip("/") if resource.startswith(page_prefix) else ""
        return rest if rest and "/" not in rest else None
    account = resource[len("acct:") :] if resource.lower().startswith("acct:") else resource
    account = account.lstrip("@")
    handle, _, host = account.rpartition("@")
    if not handle or host.lower() != settings.federation_host.lower():
        return None
    return handle


def webfinger(session: Session, settings: Settings, resource: str) -> dict[str, Any] | None:
    """The WebFinger answer (JRD) for a local, servable profile, or None."""
    handle = _handle_of_resource(settings, resource)
    profile = local_profile(session, settings, handle) if handle else None
    if profile is None:
        return None
    actor_id = urls.actor(settings, profile.handle)
    page = _profile_url(settings, profile)
    return {
        "subject": f"acct:{profile.handle}@{settings.federation_host}",
        "aliases": [actor_id, page],
        "links": [
            {"rel": PROFILE_PAGE_REL, "type": "text/html", "href": page},
            {"rel": "self", "type": ACTIVITY_JSON, "href": actor_id},
        ],
    }


def host_meta(settings: Settings) -> str:
    """host-meta (XRD): where WebFinger is, for servers that look there first."""
    template = quoteattr(f"{urls.base(settings)}{WEBFINGER_PATH}?resource={{uri}}")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" type="application/jrd+json" template={template}/>\n'
        "</XRD>\n"
    )


def nodeinfo_links(settings: Settings) -> dict[str, Any]:
    return {"links": [{"rel": NODEINFO_SCHEMA, "href": urls.base(settings) + NODEINFO_PATH}]}


def software_version() -> str:
    try:
        return importlib.metadata.version("clawnet")
    except importlib.metadata.PackageNotFoundError:
        return "0.0.0"


def _active_since(session: Session, since: datetime) -> int:
    """Local profiles that wrote (a post or a comment) since then, or whose person signed in."""
    local = [col(Profile.domain).is_(None), col(Profile.suspended_at).is_(None)]
    wrote = set(
        session.exec(
            select(Post.author_id)
            .join(Profile, col(Profile.id) == Post.author_id)
            .where(col(Post.created_at) >= since, *local)
            .distinct()
        ).all()
    )
    wrote |= set(
        session.exec(
            select(Comment.author_id)
            .join(Profile, col(Profile.id) == Comment.author_id)
            .where(col(Comment.created_at) >= since, *local)
            .distinct()
        ).all()
    )
    signed_in = set(
        session.exec(
            select(Profile.id)
            .join(User, col(User.id) == Profile.user_id)
            .where(col(Profile.is_bot).is_(False), col(User.last_login_at) >= since, *local)
        ).all()
    )
    return len(wrote | signed_in)


def nodeinfo(session: Session, settings: Settings) -> dict[str, Any]:
    """NodeInfo 2.0: the software, the protocol, and usage counts of local accounts (people and
    bots) and local posts (posts and comments, boosts not counted)."""
    now = utcnow()
    local = [col(Profile.domain).is_(None), col(Profile.suspended_at).is_(None)]
    users = session.exec(select(func.count()).select_from(Profile).where(*local)).one()
    posts = session.exec(
        select(func.count())
        .select_from(Post)
        .join(Profile, col(Profile.id) == Post.author_id)
        .where(col(Profile.domain).is_(None), col(Post.reblog_of_id).is_(None))
    ).one()
    comments = session.exec(
        select(func.count())
        .select_from(Comment)
        .join(Profile, col(Profile.id) == Comment.author_id)
        .where(col(Profile.domain).is_(None))
    ).one()
    return {
        "version": "2.0",
        "software": {"name": "clawnet", "version": software_version()},
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": ["atom1.0"]},
        "openRegistrations": False,
        "usage": {
            "users": {
                "total": users,
                "activeMonth": _active_since(session, now - timedelta(days=30)),
                "activeHalfyear": _active_since(session, now - timedelta(days=180)),
            },
            "localPosts": posts + comments,
        },
        "metadata": {"nodeName": "ClawNet", "federation": settings.federation_enabled},
    }
