"""Timelines: public, home and profile, with Mastodon's cursor pagination (`max_id`: older than;
`min_id`: newer than; 20 per page, at most 40), and the posts hydrated for display.

The home timeline must not slow down as the network grows. It reads, for each followed profile,
only its newest posts before the cursor (an index seek on `(author_id, id)`), then merges: cost
grows with how many profiles someone follows, not with how many posts exist. When someone follows
very many profiles, a scan back through the newest posts finds a page sooner, and is used instead.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from clawnet import media, routes
from clawnet.enums import Visibility
from clawnet.humanize import ago
from clawnet.models import Bot, Comment, Follow, Like, Media, Post, Profile
from clawnet.models.federation import ApObject, RemoteActor
from clawnet.social import audience, bot_filter, home_feed, moderation
from clawnet.social.rules import can_see
from clawnet.social.views import CommentView, PostView, ProfileCard

DEFAULT_LIMIT = 20
MAX_LIMIT = 40
MERGE_MAX_FOLLOWEES = 150  # above this, scanning the newest posts finds a page faster
UNION_CHUNK = 400  # SQLite allows 500 terms in one compound select
SCAN_WINDOWS = (20_000,)  # wider windows cost more than merging


def clamp_limit(limit: int | None) -> int:
    return max(1, min(MAX_LIMIT, limit or DEFAULT_LIMIT))


def _followees(session: Session, profile_id: int) -> list[int]:
    return list(session.exec(select(Follow.followee_id).where(Follow.follower_id == profile_id)).all())


def _merge_newest(
    session: Session, authors: list[int], *, max_id: int | None, min_id: int | None, limit: int
) -> list[int]:
    """The newest `limit` post ids of `authors` (before max_id / after min_id): one index seek per
    author for at most `limit` ids each, merged, sorted and cut inside the database, so only the
    page itself comes back."""
    bounds = ""
    params: dict[str, int] = {"limit": limit}
    if max_id is not None:
        bounds += " AND id < :max_id"
        params["max_id"] = max_id
    if min_id is not None:
        bounds += " AND id > :min_id"
        params["min_id"] = min_id
    ids: list[int] = []
    for start in range(0, len(authors), UNION_CHUNK):
        terms = " UNION ALL ".join(
            f"SELECT id FROM (SELECT id FROM posts WHERE author_id = {int(a)}{bounds} "  # noqa: S608 (ints only)
            f"ORDER BY id DESC LIMIT :limit) AS p{n}"
            for n, a in enumerate(authors[start : start + UNION_CHUNK])
        )
        statement = sa.text(f"SELECT id FROM ({terms}) AS merged ORDER BY id DESC LIMIT :limit")  # noqa: S608 (ints only)
        ids.extend(row[0] for row in session.exec(statement.bindparams(**params)).all())  # type: ignore[call-overload]
    return sorted(set(ids), reverse=True)[:limit]


def _scan_newest(
    session: Session, authors: list[int], *, max_id: int | None, min_id: int | None, limit: int
) -> list[int] | None:
    """Walk back through the newest posts (rowid order) keeping those by `authors`. Bounded: None
    when the window holds too few (then merging is used)."""
    if session.get_bind().dialect.name != "sqlite":
        return None
    top = max_id if max_id is not None else (session.exec(select(sa.func.max(Post.id))).one() or 0) + 1
    author_list = ",".join(str(int(a)) for a in authors)
    for window in SCAN_WINDOWS:
        floor = max(min_id or 0, top - window)
        rows = session.exec(
            sa.text(  # type: ignore[call-overload]
                f"SELECT id FROM posts NOT INDEXED WHERE id < :top AND id > :floor AND author_id IN ({author_list}) "  # noqa: S608 (ints only)
                "ORDER BY id DESC LIMIT :limit"
            ).bindparams(top=top, floor=floor, limit=limit)
        ).all()
        if len(rows) >= limit or floor <= (min_id or 0):
            return [r[0] for r in rows]
    return None


def home_ids(
    session: Session,
    profile_id: int,
    *,
    max_id: int | None = None,
    min_id: int | None = None,
    limit: int = DEFAULT_LIMIT,
) -> list[int]:
    """The home timeline's page, from the viewer's feed written at post time (`home_feed`;
    built on the first read), and by merging the followees' posts below its floor. Authors the
    viewer must not see are dropped; post-level filters (hidden posts, boosts of filtered
    authors) are applied to each page, and a page thinned by them is topped up from further back."""
    choice, floor = home_feed.viewer_state(session, profile_id)
    if floor is None:
        everyone = [profile_id, *_followees(session, profile_id)]
        floor = home_feed.build(
            session,
            profile_id,
            everyone,
            lambda n: _home_page(session, everyone, max_id=None, min_id=None, limit=n),
        )
    hidden = moderation.viewer_state(session, profile_id)
    feed_clauses = moderation.clauses_for(profile_id, hidden)
    merging: tuple[list[int], list[Any]] | None = None  # (authors, clauses), read when needed
    low = min_id or 0
    kept: list[int] = []
    cursor = max_id
    for _ in range(8):
        if floor > low and cursor is not None and cursor <= floor + 1:  # below the feed: merge
            if merging is None:
                followees = _followees(session, profile_id)
                excluded, clauses = audience.home_filters(session, profile_id, followees, choice, hidden)
                merging = ([profile_id, *(a for a in followees if a not in excluded)], clauses)
            authors, clauses = merging
            page = _home_page(session, authors, max_id=cursor, min_id=min_id, limit=limit)
            ended = len(page) < limit
            next_cursor = page[-1] if page else cursor
        else:
            clauses = feed_clauses
            page = home_feed.entries(
                session,
                profile_id,
                before=cursor,
                after=max(low, floor),
                limit=limit,
                no_bots=choice == bot_filter.NONE,
                skip=hidden,
            )
            if len(page) < limit:  # the feed is read to its floor: go on below it, if wanted
                ended = floor <= low
                next_cursor = floor + 1
            else:
                ended = False
                next_cursor = page[-1]
        if clauses and page:
            allowed_posts = set(session.exec(select(Post.id).where(col(Post.id).in_(page), *clauses)).all())
            kept.extend(i for i in page if i in allowed_posts)
        else:
            kept.extend(page)
        if len(kept) >= limit or ended:
            break
        cursor = next_cursor
    return kept[:limit]


def plain_home_ids(session: Session, profile_id: int, *, limit: int = DEFAULT_LIMIT) -> list[int]:
    """The home timeline's first page without the viewer's filters (the plain way, for
    bench/social_queries.py to compare the filters' cost with)."""
    return _home_page(
        session, [profile_id, *_followees(session, profile_id)], max_id=None, min_id=None, limit=limit
    )


def _home_page(
    session: Session, authors: list[int], *, max_id: int | None, min_id: int | None, limit: int
) -> list[int]:
    if len(authors) > MERGE_MAX_FOLLOWEES:
        scanned = _scan_newest(session, authors, max_id=max_id, min_id=min_id, limit=limit)
        if scanned is not None:
            return scanned
    return _merge_newest(session, authors, max_id=max_id, min_id=min_id, limit=limit)


def public_ids(
    session: Session,
    *,
    viewer_id: int | None = None,
    max_id: int | None = None,
    min_id: int | None = None,
    limit: int = DEFAULT_LIMIT,
) -> list[int]:
    q = select(Post.id).where(
        Post.visibility == Visibility.PUBLIC.value, *audience.post_clauses(session, viewer_id)
    )
    q = q.where(col(Post.reblog_of_id).is_(None))  # as on Mastodon: boosts show in home timelines
    if max_id is not None:
        q = q.where(col(Post.id) < max_id)
    if min_id is not None:
        q = q.where(col(Post.id) > min_id)
    return [i for i in session.exec(q.order_by(col(Post.id).desc()).limit(limit)).all() if i is not None]


def profile_ids(
    session: Session,
    viewer_id: int | None,
    profile_id: int,
    *,
    max_id: int | None = None,
    limit: int = DEFAULT_LIMIT,
) -> list[int]:
    q = select(Post.id).where(Post.author_id == profile_id, *audience.post_clauses(session, viewer_id))
    sees_all = viewer_id == profile_id or (
        viewer_id is not None
        and session.exec(
            select(Follow.id).where(Follow.follower_id == viewer_id, Follow.followee_id == profile_id)
        ).first()
        is not None
    )
    if not sees_all:
        q = q.where(Post.visibility == Visibility.PUBLIC.value)
    if max_id is not None:
        q = q.where(col(Post.id) < max_id)
    return [i for i in session.exec(q.order_by(col(Post.id).desc()).limit(limit)).all() if i is not None]


def _ago(post: Post) -> str:
    return ago(post.created_at)


def hydrate(session: Session, viewer_id: int | None, ids: list[int]) -> list[PostView]:
    """Posts ready to show: author, bot badge and owner, counts, whether the viewer liked or
    boosted them. `ids` are timeline rows: a boost's row shows its original, with who boosted it
    (`row_id` stays the row's, for cursor paging)."""
    if not ids:
        return []
    rows = {p.id: p for p in session.exec(select(Post).where(col(Post.id).in_(ids))).all()}
    original_ids = {p.reblog_of_id for p in rows.values() if p.reblog_of_id is not None} - set(rows)
    posts = dict(rows)
    if original_ids:
        posts.update(
            {p.id: p for p in session.exec(select(Post).where(col(Post.id).in_(original_ids))).all()}
        )
    shown_ids = [p.id for p in posts.values() if p.reblog_of_id is None and p.id is not None]
    authors = {
        p.id: p
        for p in session.exec(
            select(Profile).where(col(Profile.id).in_({p.author_id for p in posts.values()}))
        ).all()
    }
    owners: dict[int, str] = {}
    bot_owner_ids = {a.user_id for a in authors.values() if a.is_bot and a.user_id}
    if bot_owner_ids:
        for owner in session.exec(
            select(Profile).where(col(Profile.user_id).in_(bot_owner_ids), col(Profile.is_bot).is_(False))
        ).all():
            if owner.user_id is not None:
                owners[owner.user_id] = owner.handle
    liked: set[int] = set()
    boosted: set[int] = set()
    if viewer_id:
        liked = set(
            session.exec(
                select(Like.post_id).where(Like.profile_id == viewer_id, col(Like.post_id).in_(shown_ids))
            ).all()
        )
        boosted = {
            i
            for i in session.exec(
                select(Post.reblog_of_id).where(
                    Post.author_id == viewer_id, col(Post.reblog_of_id).in_(shown_ids)
                )
            ).all()
            if i is not None
        }
    images: dict[int, list[str]] = {}
    for m in session.exec(
        select(Media).where(col(Media.post_id).in_(shown_ids)).order_by(col(Media.id))
    ).all():
        if m.post_id is not None:
            images.setdefault(m.post_id, []).append(media.url(m.path))
    remote_ids = [p.id for p in posts.values() if p.id is not None and authors[p.author_id].domain]
    originals: dict[int | None, str] = (
        dict(
            session.exec(
                select(ApObject.post_id, ApObject.ap_id).where(col(ApObject.post_id).in_(remote_ids))
            ).all()
        )
        if remote_ids
        else {}
    )
    out = []
    for rid in ids:
        row = rows.get(rid)
        if row is None:
            continue
        post = posts.get(row.reblog_of_id) if row.reblog_of_id is not None else row
        if post is None or post.id is None:
            continue
        pid = post.id
        booster = authors.get(row.author_id) if row.reblog_of_id is not None else None
        author = authors[post.author_id]
        out.append(
            PostView(
                id=pid,
                html=post.content_html,
                text=post.content_text,
                visibility=post.visibility,
                author_id=author.id or 0,
                author_handle=author.handle,
                author_name=author.display_name,
                author_avatar=media.url(author.avatar_path),
                is_bot=author.is_bot,
                bot_owner=owners.get(author.user_id or 0, "") if author.is_bot else "",
                likes=post.like_count,
                replies=post.reply_count,
                liked=pid in liked,
                mine=viewer_id == author.id,
                ago=_ago(post),
                edited=post.edited_at is not None,
                images=images.get(pid, []),
                url=routes.post_detail(pid),
                spoiler_text=post.spoiler_text,
                boosts=post.reblog_count,
                boosted=pid in boosted,
                row_id=rid,
                boosted_by_handle=booster.handle if booster else "",
                boosted_by_name=booster.display_name if booster else "",
                hidden_reason=(
                    post.hidden_reason or "Hidden by an admin."
                    if post.hidden_at is not None and viewer_id == author.id
                    else ""
                ),
                original_url=originals.get(pid, ""),
            )
        )
    return out


def comments_of(session: Session, viewer_id: int | None, post_id: int) -> list[CommentView]:
    """A post's comments in thread order (each reply right under what it answers), with depth."""
    post = session.get(Post, post_id)
    if post is None or not can_see(session, viewer_id, post):
        return []
    rows = session.exec(
        select(Comment, Profile)
        .join(Profile, col(Profile.id) == Comment.author_id)
        .where(Comment.post_id == post_id)
        .order_by(col(Comment.id))
    ).all()
    children: dict[int | None, list[tuple[Comment, Profile]]] = {}
    hidden = moderation.comment_authors_hidden(session, viewer_id, {a.id or 0 for _c, a in rows})
    for comment, author in rows:
        if author.id in hidden:
            continue
        children.setdefault(comment.parent_id, []).append((comment, author))
    ordered: list[CommentView] = []

    def walk(parent: int | None, depth: int) -> None:
        for comment, author in children.get(parent, []):
            ordered.append(
                CommentView(
                    id=comment.id or 0,
                    html=comment.content_html,
                    author_handle=author.handle,
                    author_name=author.display_name,
                    is_bot=author.is_bot,
                    depth=min(depth, 6),
                    mine=author.id == viewer_id,
                    ago=ago(comment.created_at),
                )
            )
            walk(comment.id, depth + 1)

    walk(None, 0)
    return ordered


def profile_card(session: Session, viewer_id: int | None, handle: str) -> ProfileCard | None:
    profile = session.exec(select(Profile).where(Profile.handle == handle.lower())).first()
    if profile is None:
        return None
    owner = ""
    if profile.is_bot and profile.user_id:
        owner_profile = session.exec(
            select(Profile).where(Profile.user_id == profile.user_id, col(Profile.is_bot).is_(False))
        ).first()
        owner = owner_profile.handle if owner_profile else ""
    following = (
        viewer_id is not None
        and session.exec(
            select(Follow.id).where(Follow.follower_id == viewer_id, Follow.followee_id == profile.id)
        ).first()
        is not None
    )
    bot_name = ""
    if profile.bot_id:
        bot = session.get(Bot, profile.bot_id)
        bot_name = bot.name if bot else ""
    remote_url = ""
    if profile.domain:
        actor = session.exec(select(RemoteActor).where(RemoteActor.profile_id == profile.id)).first()
        remote_url = (actor.url or actor.actor_uri) if actor is not None else ""
    return ProfileCard(
        id=profile.id or 0,
        handle=profile.handle,
        name=profile.display_name,
        bio=profile.bio_html,
        avatar=media.url(profile.avatar_path),
        is_bot=profile.is_bot,
        owner=owner,
        bot_name=bot_name,
        followers=profile.followers_count,
        following_count=profile.following_count,
        posts=profile.posts_count,
        me=viewer_id == profile.id,
        following=bool(following),
        **moderation.card_fields(session, viewer_id, profile),
        remote_url=remote_url,
    )
