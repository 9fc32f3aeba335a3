"""Mastodon's JSON entities (Account, Status, Notification, Relationship) built from ClawNet's
rows, in batches (one query per kind of row, whatever the page size).

ClawNet's comments are replies: they appear as statuses with ids `c<comment id>`, replying to
their post (or to the comment they answer).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from clawnet import media, routes
from clawnet.enums import Visibility
from clawnet.models import (
    Comment,
    Follow,
    Hashtag,
    Like,
    Media,
    Notification,
    Post,
    PostMention,
    PostTag,
    Profile,
)

# ClawNet's visibilities as Mastodon names them, and back ("unlisted" is posted as public).
TO_MASTODON = {Visibility.PUBLIC.value: "public", Visibility.FOLLOWERS.value: "private"}
FROM_MASTODON = {
    "public": Visibility.PUBLIC.value,
    "unlisted": Visibility.PUBLIC.value,
    "private": Visibility.FOLLOWERS.value,
}  # "direct" is refused: ClawNet has no direct messages, and followers must not see one
NOTIFICATION_TYPES = {"like": "favourite", "reply": "mention", "mention": "mention", "follow": "follow"}


def iso(when: datetime | None) -> str | None:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z" if when else None


@dataclass(frozen=True)
class Ctx:
    """Who is looking (a profile id or None) and the server's absolute address."""

    base: str
    viewer: int | None


def _abs(ctx: Ctx, path: str) -> str:
    return path if path.startswith(("http://", "https://")) else ctx.base + path


def account(ctx: Ctx, p: Profile) -> dict[str, Any]:
    avatar = _abs(ctx, media.url(p.avatar_path)) if p.avatar_path else ""
    return {
        "id": str(p.id),
        "username": p.handle,
        "acct": p.handle,
        "display_name": p.display_name,
        "locked": False,
        "bot": p.is_bot,
        "discoverable": True,
        "group": False,
        "created_at": iso(p.created_at),
        "note": p.bio_html,
        "url": _abs(ctx, routes.profile(p.handle)),
        "uri": _abs(ctx, routes.profile(p.handle)),
        "avatar": avatar,
        "avatar_static": avatar,
        "header": "",
        "header_static": "",
        "followers_count": p.followers_count,
        "following_count": p.following_count,
        "statuses_count": p.posts_count,
        "last_status_at": None,
        "emojis": [],
        "fields": [],
    }


def accounts(session: Session, ctx: Ctx, ids: set[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    rows = session.exec(select(Profile).where(col(Profile.id).in_(ids))).all()
    return {p.id or 0: account(ctx, p) for p in rows}


def statuses(session: Session, ctx: Ctx, ids: list[int]) -> list[dict[str, Any]]:
    """Posts (and boosts, with the original nested under `reblog`) in the order of `ids`."""
    if not ids:
        return []
    posts = {p.id: p for p in session.exec(select(Post).where(col(Post.id).in_(ids))).all()}
    originals = {p.reblog_of_id for p in posts.values() if p.reblog_of_id} - set(posts)
    if originals:
        posts.update({p.id: p for p in session.exec(select(Post).where(col(Post.id).in_(originals))).all()})
    all_ids = [i for i in posts if i is not None]
    people = accounts(session, ctx, {p.author_id for p in posts.values()})
    liked = (
        set(
            session.exec(
                select(Like.post_id).where(Like.profile_id == ctx.viewer, col(Like.post_id).in_(all_ids))
            ).all()
        )
        if ctx.viewer
        else set()
    )
    boosted = (
        set(
            session.exec(
                select(Post.reblog_of_id).where(
                    Post.author_id == ctx.viewer, col(Post.reblog_of_id).in_(all_ids)
                )
            ).all()
        )
        if ctx.viewer
        else set()
    )
    attachments: dict[int, list[dict[str, Any]]] = {}
    for m in session.exec(select(Media).where(col(Media.post_id).in_(all_ids)).order_by(col(Media.id))).all():
        url = _abs(ctx, media.url(m.path))
        attachments.setdefault(m.post_id or 0, []).append(
            {
                "id": str(m.id),
                "type": "image",
                "url": url,
                "preview_url": url,
                "remote_url": None,
                "description": m.alt_text or None,
                "meta": {"original": {"width": m.width, "height": m.height}},
                "blurhash": None,
            }
        )
    mentions: dict[int, list[dict[str, Any]]] = {}
    for pm, prof in session.exec(
        select(PostMention, Profile)
        .join(Profile, col(Profile.id) == PostMention.profile_id)
        .where(col(PostMention.post_id).in_(all_ids))
    ).all():
        mentions.setdefault(pm.post_id, []).append(
            {
                "id": str(prof.id),
                "username": prof.handle,
                "acct": prof.handle,
                "url": account(ctx, prof)["url"],
            }
        )
    tags: dict[int, list[dict[str, Any]]] = {}
    for pt, tag in session.exec(
        select(PostTag, Hashtag)
        .join(Hashtag, col(Hashtag.id) == PostTag.tag_id)
        .where(col(PostTag.post_id).in_(all_ids))
    ).all():
        tags.setdefault(pt.post_id, []).append({"name": tag.name, "url": f"{ctx.base}/tags/{tag.name}"})

    def one(pid: int) -> dict[str, Any]:
        post = posts[pid]
        url = _abs(ctx, routes.post_detail(pid))
        reblog = one(post.reblog_of_id) if post.reblog_of_id and post.reblog_of_id in posts else None
        return {
            "id": str(pid),
            "uri": url,
            "url": url,
            "created_at": iso(post.created_at),
            "edited_at": iso(post.edited_at),
            "account": people.get(post.author_id),
            "content": "" if reblog else post.content_html,
            "text": None,
            "visibility": TO_MASTODON.get(post.visibility, "public"),
            "sensitive": bool(post.spoiler_text),
            "spoiler_text": post.spoiler_text,
            "media_attachments": attachments.get(pid, []),
            "mentions": mentions.get(pid, []),
            "tags": tags.get(pid, []),
            "emojis": [],
            "reblogs_count": post.reblog_count,
            "favourites_count": post.like_count,
            "replies_count": post.reply_count,
            "favourited": pid in liked,
            "reblogged": pid in boosted,
            "muted": False,
            "bookmarked": False,
            "pinned": False,
            "in_reply_to_id": None,
            "in_reply_to_account_id": None,
            "reblog": reblog,
            "poll": None,
            "card": None,
            "language": None,
            "application": None,
        }

    return [one(i) for i in ids if i in posts]


def comment_statuses(session: Session, ctx: Ctx, post: Post, comments: list[Comment]) -> list[dict[str, Any]]:
    """A post's comments as Mastodon replies (ids `c<id>`)."""
    people = accounts(session, ctx, {c.author_id for c in comments})
    by_id = {c.id: c for c in comments}
    out: list[dict[str, Any]] = []
    for c in comments:
        parent = by_id.get(c.parent_id) if c.parent_id else None
        url = _abs(ctx, routes.post_detail(post.id or 0))
        out.append(
            {
                "id": f"c{c.id}",
                "uri": f"{url}#c{c.id}",
                "url": f"{url}#c{c.id}",
                "created_at": iso(c.created_at),
                "edited_at": iso(c.edited_at),
                "account": people.get(c.author_id),
                "content": c.content_html,
                "visibility": TO_MASTODON.get(post.visibility, "public"),
                "sensitive": False,
                "spoiler_text": "",
                "media_attachments": [],
                "mentions": [],
                "tags": [],
                "emojis": [],
                "reblogs_count": 0,
                "favourites_count": 0,
                "replies_count": 0,
                "favourited": False,
                "reblogged": False,
                "in_reply_to_id": f"c{parent.id}" if parent else str(post.id),
                "in_reply_to_account_id": str(parent.author_id if parent else post.author_id),
                "reblog": None,
                "poll": None,
                "card": None,
                "language": None,
                "application": None,
            }
        )
    return out


def notifications(session: Session, ctx: Ctx, rows: list[Notification]) -> list[dict[str, Any]]:
    people = accounts(session, ctx, {n.actor_id for n in rows})
    shown = {s["id"]: s for s in statuses(session, ctx, [n.post_id for n in rows if n.post_id])}
    return [
        {
            "id": str(n.id),
            "type": NOTIFICATION_TYPES.get(n.kind, n.kind),
            "created_at": iso(n.created_at),
            "account": people.get(n.actor_id),
            "status": shown.get(str(n.post_id)) if n.post_id else None,
        }
        for n in rows
    ]


def relationships(session: Session, viewer: int | None, ids: list[int]) -> list[dict[str, Any]]:
    following: set[int] = set()
    followed_by: set[int] = set()
    if viewer is not None and ids:
        following = set(
            session.exec(
                select(Follow.followee_id).where(
                    Follow.follower_id == viewer, col(Follow.followee_id).in_(ids)
                )
            ).all()
        )
        followed_by = set(
            session.exec(
                select(Follow.follower_id).where(
                    Follow.followee_id == viewer, col(Follow.follower_id).in_(ids)
                )
            ).all()
        )
    return [
        {
            "id": str(i),
            "following": i in following,
            "showing_reblogs": i in following,
            "notifying": False,
            "languages": None,
            "followed_by": i in followed_by,
            "blocking": False,
            "blocked_by": False,
            "muting": False,
            "muting_notifications": False,
            "requested": False,
            "requested_by": False,
            "domain_blocking": False,
            "endorsed": False,
            "note": "",
        }
        for i in ids
    ]
