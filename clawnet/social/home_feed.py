"""Reading, building and trimming the home feeds written at post time (`clawnet.models.home_feed`).

A viewer's feed is built on their first home read: the newest CAP posts of the viewer and the
profiles they follow are copied in, and the floor set below them. Building takes the write lock
first (its `HomeFeed` row), so on SQLite no post can be written between the look and the copy; on
PostgreSQL a post committed during a build is copied in by the catch-up that ends it.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Set as AbstractSet

import sqlalchemy as sa
from sqlmodel import Session

from clawnet.models.home_feed import ADD_ENTRY, CAP, HomeFeed
from clawnet.social import bot_filter

_CLAIM = sa.text("INSERT INTO home_feeds (viewer_id, floor) VALUES (:v, 0) ON CONFLICT DO NOTHING")
CATCH_UP_WINDOW = 1000  # post ids below the newest seen that a PostgreSQL build looks at again


_VIEWER = sa.text(
    "SELECT p.bot_filter, h.floor FROM profiles p LEFT JOIN home_feeds h ON h.viewer_id = p.id WHERE p.id = :v"
)


def viewer_state(session: Session, viewer_id: int) -> tuple[str, int | None]:
    """(the viewer's bot filter, their feed's floor or None when not built): one round trip."""
    row = session.exec(_VIEWER.bindparams(v=viewer_id)).first()  # type: ignore[call-overload]
    if row is None:
        return bot_filter.ALL, None
    return (row[0] if row[0] in bot_filter.CHOICES else bot_filter.ALL), row[1]


def floor_of(session: Session, viewer_id: int) -> int | None:
    row = session.get(HomeFeed, viewer_id)
    return None if row is None else row.floor


def build(session: Session, viewer_id: int, authors: list[int], newest: Callable[[int], list[int]]) -> int:
    """Build the viewer's feed from `newest(n)` (the n newest home post ids, the old way) unless
    it exists; its floor."""
    claimed = session.exec(_CLAIM.bindparams(v=viewer_id)).rowcount  # type: ignore[call-overload]
    if not claimed:  # someone else built it
        return floor_of(session, viewer_id) or 0
    ids = newest(CAP)
    floor = ids[-1] - 1 if len(ids) >= CAP else 0
    top = ids[0] if ids else 0
    if session.get_bind().dialect.name != "sqlite" and authors:
        # PostgreSQL: a post committed while we looked did not see our (uncommitted) feed.
        listed = ",".join(str(int(a)) for a in authors)
        ids += [
            r[0]
            for r in session.exec(
                sa.text(  # type: ignore[call-overload]
                    f"SELECT id FROM posts WHERE author_id IN ({listed}) AND id > :low"  # noqa: S608 (ints only)
                ).bindparams(low=max(floor, top - CATCH_UP_WINDOW))
            ).all()
        ]
    _copy(session, viewer_id, sorted(set(ids)))
    row = session.get(HomeFeed, viewer_id)
    assert row is not None
    row.floor = floor
    session.add(row)
    session.flush()
    return floor


def _copy(session: Session, viewer_id: int, ids: list[int]) -> None:
    for start in range(0, len(ids), 400):
        chunk = ",".join(str(int(i)) for i in ids[start : start + 400])
        rows = session.exec(
            sa.text(f"SELECT id, author_id, author_is_bot FROM posts WHERE id IN ({chunk})")  # type: ignore[call-overload]  # noqa: S608 (ints only)
        ).all()
        if rows:
            session.exec(  # type: ignore[call-overload]
                ADD_ENTRY,
                params=[{"viewer": viewer_id, "post": r[0], "author": r[1], "bot": bool(r[2])} for r in rows],
            )


SKIP_IN_SQL = 200  # more authors to leave out than this are left out after reading


def entries(
    session: Session,
    viewer_id: int,
    *,
    before: int | None,
    after: int,
    limit: int,
    no_bots: bool,
    skip: AbstractSet[int] = frozenset(),
) -> list[int]:
    """Post ids of the viewer's feed between `after` and `before`, newest first, without
    `skip`'s authors (muted, blocked, suspended: the moderation clauses catch them too, so
    leaving them out here only keeps pages full)."""
    where = "viewer_id = :v AND post_id > :after"
    if skip and len(skip) <= SKIP_IN_SQL:
        where += f" AND author_id NOT IN ({','.join(str(int(a)) for a in sorted(skip))})"
    params: dict[str, int] = {"v": viewer_id, "after": after, "limit": limit}
    if before is not None:
        where += " AND post_id < :before"
        params["before"] = before
    if no_bots:
        where += " AND author_is_bot = false"
    statement = sa.text(
        f"SELECT post_id FROM home_entries WHERE {where} ORDER BY post_id DESC LIMIT :limit"  # noqa: S608 (fixed terms)
    )
    return [r[0] for r in session.exec(statement.bindparams(**params)).all()]  # type: ignore[call-overload]


def trim(session: Session, keep: int = CAP) -> int:
    """Raise the floor of every feed holding over twice `keep` entries to keep its newest `keep`
    (older pages are merged); the number of feeds trimmed."""
    crowded = session.exec(
        sa.text(  # type: ignore[call-overload]
            "SELECT viewer_id FROM home_entries GROUP BY viewer_id HAVING count(*) > :most"
        ).bindparams(most=2 * keep)
    ).all()
    for (viewer_id,) in crowded:
        cut = session.exec(
            sa.text(  # type: ignore[call-overload]
                "SELECT post_id FROM home_entries WHERE viewer_id = :v ORDER BY post_id DESC LIMIT 1 OFFSET :k"
            ).bindparams(v=viewer_id, k=keep)
        ).first()
        if cut is None:
            continue
        session.exec(
            sa.text("UPDATE home_feeds SET floor = :f WHERE viewer_id = :v AND floor < :f").bindparams(  # type: ignore[call-overload]
                v=viewer_id, f=cut[0]
            )
        )
        session.exec(
            sa.text("DELETE FROM home_entries WHERE viewer_id = :v AND post_id <= :f").bindparams(  # type: ignore[call-overload]
                v=viewer_id, f=cut[0]
            )
        )
    return len(crowded)
