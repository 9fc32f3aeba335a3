"""Discovery queries on a big network: home timeline, tag timeline and search, each with the bot
filter "all" and "none", in SQLite (a temporary file) and, with `--postgres`, in PostgreSQL.

Seeds 10,000 profiles (10% bots), a skewed follow graph, N posts (default 1,000,000) of 8-16
words from a Zipf-like vocabulary (10% of them tagged with one of 500 hashtags), bulk-inserted
(executemany for SQLite, through the full-text triggers; COPY for PostgreSQL, then its GIN index
is built). Each measurement runs the code the pages run (ids, then hydration for display) for
random viewers; p50/p95 are printed. Goals: home <= 10 ms, search <= 50 ms at p95.

    .venv/bin/python bench/social_queries.py [--posts 1000000] [--profiles 10000] [--samples 200]
        [--postgres URL | --postgres auto]   # auto: a throwaway server from Debian's package
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa
from sqlmodel import Session, col, select

from clawnet import db
from clawnet.enums import Visibility
from clawnet.models import Post, PostTag
from clawnet.security import crypto
from clawnet.settings import get_settings
from clawnet.social import audience, search, timelines

VOCABULARY = 5_000
TAGS = 500
rng = random.Random(14)


def word(rank: int) -> str:
    return f"w{rank}x"  # letters around the number: one token for every tokenizer


def zipf_ranks(k: int) -> list[int]:
    return [min(VOCABULARY, int(rng.paretovariate(0.9))) for _ in range(k)]


def rows(profiles: int, posts: int) -> tuple[list[tuple], list[tuple], list[tuple], list[tuple], list[tuple]]:
    now = datetime.now(UTC)
    profile_rows = [
        (i, f"user{i}", f"User {i}" if i % 10 else f"Bot {i}", i % 10 == 0, now)
        for i in range(1, profiles + 1)
    ]
    follows = set()
    for follower in range(1, profiles + 1):
        k = min(300, int(10 + rng.paretovariate(1.2) * 15))
        for followee in rng.sample(range(1, profiles + 1), k):
            if followee != follower:
                follows.add((follower, followee))
    follow_rows = [(a, b, now) for a, b in follows]
    weights = [1.0 / (i**0.6) for i in range(1, profiles + 1)]
    authors = rng.choices(range(1, profiles + 1), weights=weights, k=posts)
    post_rows, tag_rows = [], []
    for n, author in enumerate(authors, start=1):
        text = " ".join(word(r) for r in zipf_ranks(rng.randint(8, 16)))
        visibility = "followers" if n % 7 == 0 else "public"
        if n % 10 == 0:
            tag = 1 + min(TAGS - 1, int(rng.paretovariate(1.0)) - 1)
            text += f" #tag{tag}"
            tag_rows.append((n, tag, now))
        post_rows.append((n, author, f"<p>{text}</p>", text, visibility, author % 10 == 0, now))
    hashtag_rows = [(t, f"tag{t}", now) for t in range(1, TAGS + 1)]
    return profile_rows, follow_rows, post_rows, hashtag_rows, tag_rows


COLUMNS = {
    "profiles": "id, handle, display_name, is_bot, created_at, updated_at, bio_html, avatar_path, followers_count,"
    " following_count, posts_count, bot_filter, suspension_reason",
    "follows": "follower_id, followee_id, created_at",
    "posts": "id, author_id, content_html, content_text, visibility, author_is_bot, created_at, like_count,"
    " reply_count, reblog_count, spoiler_text, hidden_reason",
    "hashtags": "id, name, created_at",
    "post_tags": "post_id, tag_id, created_at",
}
# Every NOT NULL column is written (COPY does not apply the columns' server defaults).
TAILS: dict[str, tuple] = {
    "profiles": ("", "", 0, 0, 0, "all", ""),
    "posts": (0, 0, 0, "", ""),
}


def full(table: str, row: tuple) -> tuple:
    if table == "profiles":
        return (*row, row[-1], *TAILS[table])  # updated_at = created_at
    return (*row, *TAILS.get(table, ()))


def load_sqlite(engine: sa.Engine, data: dict[str, list[tuple]]) -> None:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("PRAGMA synchronous=OFF")
        for table, batch in data.items():
            marks = ", ".join("?" * len(COLUMNS[table].split(",")))
            insert = f"INSERT INTO {table} ({COLUMNS[table]}) VALUES ({marks})"  # noqa: S608 (our names)
            for start in range(0, len(batch), 50_000):
                cur.executemany(insert, [full(table, r) for r in batch[start : start + 50_000]])
        raw.commit()
        cur.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()


def _copy_text(batch: list[tuple]) -> str:
    out = io.StringIO()
    for r in batch:
        out.write("\t".join(("t" if v else "f") if isinstance(v, bool) else str(v) for v in r) + "\n")
    return out.getvalue()


def load_postgres(engine: sa.Engine, data: dict[str, list[tuple]]) -> None:
    raw = engine.raw_connection()
    try:
        cur: Any = raw.cursor()
        cur.execute("DROP INDEX IF EXISTS ix_posts_content_fts")  # built once after the load
        for table, batch in data.items():
            with cur.copy(f"COPY {table} ({COLUMNS[table]}) FROM STDIN") as copy:
                for start in range(0, len(batch), 50_000):
                    copy.write(_copy_text([full(table, r) for r in batch[start : start + 50_000]]))
        for table in data:
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"  # noqa: S608 (our table names)
            )
        cur.execute(
            "CREATE INDEX ix_posts_content_fts ON posts USING gin (to_tsvector('simple', content_text))"
        )
        cur.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()


def tag_ids(session: Session, viewer: int, tag_id: int, limit: int = 20) -> list[int]:
    """A hashtag's timeline: newest first through post_tags(tag_id, post_id), with visibility and
    the viewer's audience filters."""
    q = (
        select(Post.id)
        .join(PostTag, col(PostTag.post_id) == Post.id)
        .where(
            PostTag.tag_id == tag_id,
            col(Post.visibility) == Visibility.PUBLIC.value,
            *audience.post_clauses(session, viewer),
        )
        .order_by(col(PostTag.post_id).desc())
        .limit(limit)
    )
    return [i for i in session.exec(q).all() if i is not None]


def p(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))] * 1000


def report(label: str, values: list[float]) -> None:
    print(
        f"  {label:<42} p50 {p(values, 0.5):7.2f} ms   p95 {p(values, 0.95):7.2f} ms   (n={len(values)})",
        flush=True,
    )


def measure(session: Session, profiles: int, samples: int, bot_filter: str) -> None:
    session.exec(sa.update(sa.table("profiles", sa.column("bot_filter"))).values(bot_filter=bot_filter))  # type: ignore[call-overload]
    session.commit()
    queries = [word(1), word(20), word(400), word(3000), f"{word(3)} {word(50)}", "w12"]
    cases: dict[str, Callable[[int], Any]] = {
        "home timeline ids, plain (no filters)": lambda v: timelines.plain_home_ids(session, v),
        "home timeline ids (first page)": lambda v: timelines.home_ids(session, v),
        "home timeline (first page, hydrated)": lambda v: timelines.hydrate(
            session, v, timelines.home_ids(session, v)
        ),
        "public timeline (first page, hydrated)": lambda v: timelines.hydrate(
            session, v, timelines.public_ids(session, viewer_id=v)
        ),
        "tag timeline (popular and rare tags)": lambda v: timelines.hydrate(
            session, v, tag_ids(session, v, rng.choice([1, 2, 5, 50, 400]))
        ),
        "search posts ids (full text)": lambda v: search.post_ids(session, v, rng.choice(queries), 20),
        "search posts (full text, hydrated)": lambda v: search.posts(session, v, rng.choice(queries), 20),
        "search people (handle/name)": lambda v: search.profiles(
            session, v, rng.choice(["user12", "bot 3", "ser99"]), 20
        ),
        "search tags (prefix)": lambda v: search.tags(session, rng.choice(["tag1", "tag4", "tag23"]), 20),
    }
    print(f"bot filter {bot_filter!r}:", flush=True)
    viewers = [rng.randint(1, profiles) for _ in range(samples)]
    built = []
    for viewer in dict.fromkeys(viewers):  # a viewer's first home read builds their feed
        t0 = time.perf_counter()
        timelines.home_ids(session, viewer)
        session.commit()
        built.append(time.perf_counter() - t0)
    if built and bot_filter == "all":
        report("home feed built (a viewer's first read)", built)
    for label, fn in cases.items():
        times = []
        for viewer in viewers:
            t0 = time.perf_counter()
            fn(viewer)
            times.append(time.perf_counter() - t0)
        report(label, times)


def run(name: str, url: str, data: dict[str, list[tuple]], profiles: int, samples: int) -> None:
    print(f"== {name}", flush=True)
    db.dispose_engines()
    db.migrate(url)
    engine = db.get_engine(url)
    t0 = time.perf_counter()
    (load_sqlite if engine.dialect.name == "sqlite" else load_postgres)(engine, data)
    print(f"loaded {len(data['posts']):,} posts in {time.perf_counter() - t0:.1f} s", flush=True)
    with Session(engine) as session:
        for choice in ("all", "none"):
            measure(session, profiles, samples, choice)
    db.dispose_engines()


@contextlib.contextmanager
def postgres(url: str) -> Iterator[str]:
    if url != "auto":
        yield url
        return
    from tests.support.services import postgres_server

    with postgres_server() as started:
        yield started


def main(posts: int, profiles: int, samples: int, pg: str | None) -> None:
    with tempfile.TemporaryDirectory(prefix="clawnet-discovery-bench-") as tmp:
        os.environ["CLAWNET_DATA_DIR"] = tmp
        os.environ.pop("DATABASE_URL", None)
        get_settings.cache_clear()
        crypto.set_key_ring(None)
        t0 = time.perf_counter()
        p_rows, f_rows, post_rows, h_rows, t_rows = rows(profiles, posts)
        data = {
            "profiles": p_rows,
            "follows": f_rows,
            "posts": post_rows,
            "hashtags": h_rows,
            "post_tags": t_rows,
        }
        print(
            f"generated {profiles:,} profiles, {len(f_rows):,} follows, {posts:,} posts, {len(t_rows):,} tags used"
            f" in {time.perf_counter() - t0:.1f} s",
            flush=True,
        )
        run("SQLite", get_settings().database_url, data, profiles, samples)
        if pg:
            with postgres(pg) as url:
                from clawnet.settings import normalize_database_url

                run("PostgreSQL", normalize_database_url(url, Path(tmp)), data, profiles, samples)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--profiles", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--postgres", default=None, help="a PostgreSQL URL, or 'auto' for a throwaway server")
    args = parser.parse_args()
    main(args.posts, args.profiles, args.samples, args.postgres)
