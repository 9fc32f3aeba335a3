"""Timelines on a big network: home and public timeline latency as the number of posts grows.

Seeds 10,000 profiles, a follow graph (each follows 10-300 others, skewed towards few), and posts
by skewed authors: first 100,000 posts, measured; then up to 1,000,000, measured again. Each
measurement runs the same code the feed runs (ids by cursor, then hydration for display) for
random viewers: a first page, and a page deeper down (max_id cursor).

    .venv/bin/python bench/social_timelines.py [--profiles 10000] [--posts 1000000] [--samples 300]
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _fleet import describe
from sqlmodel import col, select

from clawnet import db
from clawnet.db import session_scope
from clawnet.models import Post
from clawnet.security import crypto
from clawnet.settings import get_settings
from clawnet.social import timelines


def seed_profiles_and_follows(conn: sqlite3.Connection, profiles: int, rng: random.Random) -> int:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    conn.executemany(
        "INSERT INTO profiles (id, handle, display_name, bio_html, avatar_path, is_bot, followers_count, following_count,"
        " posts_count, created_at, updated_at) VALUES (?, ?, ?, '', '', ?, 0, 0, 0, ?, ?)",
        [(i, f"user{i}", f"User {i}", i % 10 == 0, now, now) for i in range(1, profiles + 1)],
    )
    follows = []
    for follower in range(1, profiles + 1):
        k = min(300, int(10 + rng.paretovariate(1.2) * 15))
        for followee in rng.sample(range(1, profiles + 1), k):
            if followee != follower:
                follows.append((follower, followee, now))
    conn.executemany(
        "INSERT OR IGNORE INTO follows (follower_id, followee_id, created_at) VALUES (?, ?, ?)", follows
    )
    conn.commit()
    return len(follows)


def seed_posts(conn: sqlite3.Connection, start: int, count: int, profiles: int, rng: random.Random) -> None:
    weights = [1.0 / (i**0.6) for i in range(1, profiles + 1)]  # some profiles post far more than others
    authors = rng.choices(range(1, profiles + 1), weights=weights, k=count)
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    batch = []
    for n, author in enumerate(authors, start=start):
        visibility = "followers" if n % 7 == 0 else "public"
        batch.append((n, author, f"<p>post {n}</p>", f"post {n}", visibility, now))
        if len(batch) == 50_000:
            conn.executemany(
                "INSERT INTO posts (id, author_id, content_html, content_text, visibility, like_count,"
                " reply_count, created_at) VALUES (?, ?, ?, ?, ?, 0, 0, ?)",
                batch,
            )
            batch.clear()
    if batch:
        conn.executemany(
            "INSERT INTO posts (id, author_id, content_html, content_text, visibility, like_count,"
            " reply_count, created_at) VALUES (?, ?, ?, ?, ?, 0, 0, ?)",
            batch,
        )
    conn.commit()


def measure(label: str, profiles: int, samples: int, rng: random.Random) -> None:
    home_first, home_deep, public_first, public_deep = [], [], [], []
    with session_scope() as session:
        top = session.exec(select(Post.id).order_by(col(Post.id).desc())).first()
        for _ in range(samples):
            viewer = rng.randint(1, profiles)
            t0 = time.perf_counter()
            ids = timelines.home_ids(session, viewer)
            timelines.hydrate(session, viewer, ids)
            home_first.append(time.perf_counter() - t0)
            second = timelines.home_ids(session, viewer, max_id=ids[-1] if ids else top)
            t0 = time.perf_counter()  # the third page
            deeper = timelines.home_ids(session, viewer, max_id=second[-1] if second else top)
            timelines.hydrate(session, viewer, deeper)
            home_deep.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            pub = timelines.public_ids(session)
            timelines.hydrate(session, viewer, pub)
            public_first.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            timelines.hydrate(session, viewer, timelines.public_ids(session, max_id=rng.randint(1, top or 1)))
            public_deep.append(time.perf_counter() - t0)
    print(describe(f"[{label}] home timeline, first page", home_first))
    print(describe(f"[{label}] home timeline, third page", home_deep))
    print(describe(f"[{label}] public timeline, first page", public_first))
    print(describe(f"[{label}] public timeline, random older page", public_deep), flush=True)


def main(profiles: int, posts: int, samples: int) -> None:
    rng = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="clawnet-social-bench-") as tmp:
        os.environ["CLAWNET_DATA_DIR"] = tmp
        os.environ.pop("DATABASE_URL", None)
        get_settings.cache_clear()
        db.dispose_engines()
        crypto.set_key_ring(None)
        db.migrate()
        path = Path(tmp) / "clawnet.db"
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")
        t0 = time.perf_counter()
        follows = seed_profiles_and_follows(conn, profiles, rng)
        print(
            f"seeded {profiles} profiles and {follows} follows in {time.perf_counter() - t0:.1f} s",
            flush=True,
        )
        first = min(100_000, posts)
        t0 = time.perf_counter()
        seed_posts(conn, 1, first, profiles, rng)
        print(f"seeded {first} posts in {time.perf_counter() - t0:.1f} s", flush=True)
        conn.execute("ANALYZE")
        conn.commit()
        measure(f"{first:,} posts", profiles, samples, rng)
        if posts > first:
            t0 = time.perf_counter()
            seed_posts(conn, first + 1, posts - first, profiles, rng)
            conn.execute("ANALYZE")
            conn.commit()
            print(
                f"seeded {posts - first} more posts in {time.perf_counter() - t0:.1f} s "
                f"(database {path.stat().st_size / 2**20:.0f} MiB)",
                flush=True,
            )
            measure(f"{posts:,} posts", profiles, samples, rng)
        conn.close()
        db.dispose_engines()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--profiles", type=int, default=10_000)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=300)
    args = parser.parse_args()
    main(args.profiles, args.posts, args.samples)
