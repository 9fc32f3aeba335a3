"""Search: people and bots (handle or name, prefix first, then contains), posts (full text, newest
first) and hashtags (prefix).

Posts come from the full-text index (`search_index`), newest first, and only those the viewer may
see (public, their own, followers-only posts of people they follow or that mention them), with
the viewer's audience filters (bot filter, moderation). Boost rows are left out (they carry no
text of their own).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from clawnet import media, routes
from clawnet.enums import Visibility
from clawnet.models import Bot, Follow, Hashtag, Post, PostMention, PostTag, Profile
from clawnet.social import audience, moderation, search_index, timelines
from clawnet.social.views import PostView, ProfileCard, TagView

KINDS = ("all", "profiles", "posts", "tags")
MAX_QUERY = 100
PG_WINDOW = 20_000  # posts: the newest ones searched first in PostgreSQL


def normalize(query: str) -> str:
    return " ".join(query.split())[:MAX_QUERY]


def remote_address(query: str) -> str | None:
    """The "user@host" a query names (typed as `@user@host` or `user@host`), or None."""
    from clawnet.social.federation.remote import parse_address

    parsed = parse_address(query)
    return f"{parsed[0]}@{parsed[1]}" if parsed else None


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def profiles(session: Session, viewer_id: int | None, query: str, limit: int) -> list[ProfileCard]:
    """Handles or display names starting with the query first, then those containing it (most
    followed first). Bots are listed whatever the bot filter (so they can be found and followed);
    blocked and suspended profiles follow the moderation rules."""
    text = query.strip().removeprefix("@").strip().lower()
    if not text:
        return []
    pattern = _like_escape(text)
    name = func.lower(Profile.display_name)
    prefix = sa.or_(
        col(Profile.handle).like(pattern + "%", escape="\\"), name.like(pattern + "%", escape="\\")
    )
    contains = sa.or_(
        col(Profile.handle).like("%" + pattern + "%", escape="\\"),
        name.like("%" + pattern + "%", escape="\\"),
    )
    found = session.exec(
        select(Profile)
        .where(contains)
        .order_by(sa.case((prefix, 0), else_=1), col(Profile.followers_count).desc(), col(Profile.handle))
        .limit(limit * 2)
    ).all()
    hidden = moderation.excluded_authors(session, viewer_id, [p.id for p in found if p.id is not None])
    return cards(session, viewer_id, [p for p in found if p.id not in hidden][:limit])


def cards(session: Session, viewer_id: int | None, found: list[Profile]) -> list[ProfileCard]:
    """Profile cards for a list of profiles, in a few queries (not a few per profile)."""
    ids = [p.id for p in found if p.id is not None]
    following = (
        set(
            session.exec(
                select(Follow.followee_id).where(
                    Follow.follower_id == viewer_id, col(Follow.followee_id).in_(ids)
                )
            ).all()
        )
        if viewer_id is not None and ids
        else set()
    )
    owner_ids = {p.user_id for p in found if p.is_bot and p.user_id}
    owners = {
        o.user_id: o.handle
        for o in (
            session.exec(
                select(Profile).where(col(Profile.user_id).in_(owner_ids), col(Profile.is_bot).is_(False))
            ).all()
            if owner_ids
            else []
        )
    }
    bot_ids = {p.bot_id for p in found if p.bot_id}
    bot_names = (
        dict(session.exec(select(Bot.id, Bot.name).where(col(Bot.id).in_(bot_ids))).all()) if bot_ids else {}
    )
    return [
        ProfileCard(
            id=p.id or 0,
            handle=p.handle,
            name=p.display_name,
            bio=p.bio_html,
            avatar=media.url(p.avatar_path),
            is_bot=p.is_bot,
            owner=owners.get(p.user_id, "") if p.is_bot else "",
            bot_name=bot_names.get(p.bot_id, "") if p.bot_id else "",
            followers=p.followers_count,
            following_count=p.following_count,
            posts=p.posts_count,
            me=viewer_id == p.id,
            following=p.id in following,
            suspended=p.suspended_at is not None,
        )
        for p in found
    ]


def _visible(viewer_id: int | None) -> Any:
    public = col(Post.visibility) == Visibility.PUBLIC.value
    if viewer_id is None:
        return public
    return sa.or_(
        public,
        col(Post.author_id) == viewer_id,
        col(Post.author_id).in_(select(Follow.followee_id).where(Follow.follower_id == viewer_id)),
        col(Post.id).in_(select(PostMention.post_id).where(PostMention.profile_id == viewer_id)),
    )


def post_ids(session: Session, viewer_id: int | None, query: str, limit: int) -> list[int]:
    terms = search_index.words(query)
    if not terms:
        return []
    clauses = [
        col(Post.reblog_of_id).is_(None),
        _visible(viewer_id),
        *audience.post_clauses(session, viewer_id),
    ]
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        # A whole word streams from FTS5's index newest first, so a page of a word found in most
        # posts costs well under a millisecond; a prefix makes FTS5 gather every document of every
        # word it expands to first (~85 ms for a word in nearly all of 1M posts). So the words as
        # typed come first, and only a page they do not fill looks for words they begin.
        whole = _fts5_ids(session, search_index.fts5_query(terms, prefix=False), clauses, limit)
        if len(whole) >= limit:
            return whole
        return _fts5_ids(session, search_index.fts5_query(terms), clauses, limit)
    elif dialect == "postgresql":
        vector = func.to_tsvector(search_index.TS_CONFIG, Post.content_text)
        matches = vector.op("@@")(func.to_tsquery(search_index.TS_CONFIG, search_index.tsquery(terms)))
        q = select(Post.id).where(matches, *clauses).order_by(col(Post.id).desc())
        # A common word matches a large share of all posts: reading every match from the GIN
        # index and sorting them is slow. The newest posts first (a bounded id range) find a
        # page at once; a rare word falls through to the whole index.
        top = session.exec(select(func.max(Post.id))).one() or 0
        if top > PG_WINDOW:
            recent = [
                i
                for i in session.exec(q.where(col(Post.id) > top - PG_WINDOW).limit(limit)).all()
                if i is not None
            ]
            if len(recent) >= limit:
                return recent
    else:  # any other database: a plain scan (correct, not fast)
        q = select(Post.id).where(
            *(func.lower(Post.content_text).like("%" + _like_escape(t) + "%", escape="\\") for t in terms),
            *clauses,
        )
        q = q.order_by(col(Post.id).desc())
    return [i for i in session.exec(q.limit(limit)).all() if i is not None]


def _fts5_ids(session: Session, fts_query: str, clauses: list[Any], limit: int) -> list[int]:
    fts = sa.table(search_index.FTS_TABLE, sa.column("rowid"))
    q = (
        select(Post.id)
        .select_from(fts.join(Post, col(Post.id) == fts.c.rowid))
        .where(
            sa.text(f"{search_index.FTS_TABLE} MATCH :fts_query").bindparams(fts_query=fts_query),
            *clauses,
        )
        .order_by(fts.c.rowid.desc())
    )
    return [i for i in session.exec(q.limit(limit)).all() if i is not None]


def posts(session: Session, viewer_id: int | None, query: str, limit: int) -> list[PostView]:
    return timelines.hydrate(session, viewer_id, post_ids(session, viewer_id, query, limit))


def tags(session: Session, query: str, limit: int) -> list[TagView]:
    """Hashtags starting with the query (without '#'), by name (an index range), with how many
    posts use each (counted on the `(tag_id, post_id)` index alone; `people` is not counted here:
    it would read every post of a popular tag)."""
    text = query.strip().removeprefix("#").strip().lower()
    if not text:
        return []
    found = session.exec(
        select(Hashtag.id, Hashtag.name)
        .where(col(Hashtag.name).like(_like_escape(text) + "%", escape="\\"))
        .order_by(func.length(Hashtag.name), col(Hashtag.name))
        .limit(limit)
    ).all()
    ids = [i for i, _ in found if i is not None]
    used = (
        dict(
            session.exec(
                select(PostTag.tag_id, func.count())
                .where(col(PostTag.tag_id).in_(ids))
                .group_by(col(PostTag.tag_id))
            ).all()
        )
        if ids
        else {}
    )
    return [
        TagView(name=name, url=routes.tag(name), posts=used.get(i or 0, 0), people=0) for i, name in found
    ]
