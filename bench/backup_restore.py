"""Backup and restore of a large installation: time and archive size, next to `tar czf`.

Builds a synthetic installation in a temporary folder (SQLite; PostgreSQL with DATABASE_URL is
not handled here):
- the database: 200 bots with a bot profile each, 10,000 sessions (50 per bot) with 10
  transcript messages each (100,000 rows), and 100,000 feed posts (~200 characters of random
  words), all by bulk inserts after `clawnet migrate`;
- each bot's folder: workspace files (SOUL.md, AGENTS.md, IDENTITY.md) and a per-agent
  `state/agent/openclaw-agent.sqlite` holding 50 sessions x 10 transcript events of ~400 bytes
  of JSON (a stand-in for OpenClaw's own database: same kind of file, not its schema);
- 4 gateways of 50 bots: `gw-N/state/openclaw.sqlite` and the `agents/<id>` symlinks;
- 200 media files of 20 KB.
Then times `create_backup` (plain and encrypted), a plain `tar czf` of the data folder (the
baseline: not consistent while ClawNet writes, no checksums), `read_manifest` (verify only)
and `restore_backup` onto a fresh installation (migrations included).

    .venv/bin/python bench/backup_restore.py [--bots 200] [--sessions 10000] [--posts 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from clawnet import db
from clawnet.backup import create_backup, read_manifest, restore_backup
from clawnet.models import Bot, BotSession, Post, Profile, TranscriptMessage, utcnow
from clawnet.security import crypto
from clawnet.settings import Settings, load_settings
from tests.factories import make_user

WORDS = [
    "order",
    "refund",
    "pizza",
    "delivery",
    "invoice",
    "weather",
    "meeting",
    "report",
    "ticket",
    "lighthouse",
    "harbor",
]


def words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def seed_database(settings: Settings, bots: int, sessions: int, posts: int, rng: random.Random) -> list[str]:
    url = settings.database_url
    db.migrate(url)
    with db.session_scope(url) as s:
        owner = make_user(s)
        owner_id = owner.id
    agents = [f"bot{n:04d}" for n in range(bots)]
    now = utcnow()
    with db.get_engine(url).begin() as conn:
        conn.execute(sa.insert(Bot), [{"owner_id": owner_id, "name": a, "agent_id": a} for a in agents])
        bot_ids = [r[0] for r in conn.execute(sa.select(Bot.id).order_by(Bot.id))]
        conn.execute(
            sa.insert(Profile),
            [
                {"handle": a, "display_name": a, "is_bot": True, "bot_id": b}
                for a, b in zip(agents, bot_ids, strict=True)
            ],
        )
        profile_ids = [r[0] for r in conn.execute(sa.select(Profile.id).where(Profile.is_bot))]
        conn.execute(
            sa.insert(BotSession),
            [
                {
                    "bot_id": bot_ids[i % bots],
                    "key": f"agent:{agents[i % bots]}:s{i}",
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(sessions)
            ],
        )
        session_ids = [r[0] for r in conn.execute(sa.select(BotSession.id))]
        batch = [
            {
                "session_id": sid,
                "seq": k,
                "role": "user" if k % 2 == 0 else "assistant",
                "text": words(rng, 20),
            }
            for sid in session_ids
            for k in range(10)
        ]
        conn.execute(sa.insert(TranscriptMessage), batch)
        for start in range(0, posts, 20000):
            rows = []
            for _ in range(min(20000, posts - start)):
                text = words(rng, 30)
                rows.append(
                    {
                        "author_id": rng.choice(profile_ids),
                        "content_html": f"<p>{text}</p>",
                        "content_text": text,
                        "created_at": now,
                    }
                )
            conn.execute(sa.insert(Post), rows)
    return agents


def seed_files(settings: Settings, agents: list[str], sessions_per_bot: int, rng: random.Random) -> None:
    for agent in agents:
        root = settings.data_dir / "bots" / agent
        (root / "workspace").mkdir(parents=True)
        for name in ("SOUL.md", "AGENTS.md", "IDENTITY.md"):
            (root / "workspace" / name).write_text(f"# {name}\n{words(rng, 200)}\n")
        state = root / "state" / "agent"
        state.mkdir(parents=True)
        conn = sqlite3.connect(state / "openclaw-agent.sqlite")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE transcript_events (id INTEGER PRIMARY KEY, session TEXT, event_json TEXT)")
        conn.executemany(
            "INSERT INTO transcript_events (session, event_json) VALUES (?, ?)",
            [
                (
                    f"s{s}",
                    json.dumps({"type": "message", "message": {"role": "user", "content": words(rng, 60)}}),
                )
                for s in range(sessions_per_bot)
                for _ in range(10)
            ],
        )
        conn.commit()
        conn.close()
    for g in range(len(agents) // 50 or 1):
        gw_state = settings.gateways_dir / f"gw-{g + 1}" / "state"
        (gw_state / "agents").mkdir(parents=True)
        conn = sqlite3.connect(gw_state / "openclaw.sqlite")
        conn.execute("CREATE TABLE cron_jobs (id INTEGER PRIMARY KEY, spec TEXT)")
        conn.executemany("INSERT INTO cron_jobs (spec) VALUES (?)", [(words(rng, 10),) for _ in range(50)])
        conn.commit()
        conn.close()
        for agent in agents[g * 50 : (g + 1) * 50]:
            (gw_state / "agents" / agent).symlink_to(settings.data_dir / "bots" / agent / "state")
    media = settings.media_dir / "posts"
    media.mkdir(parents=True)
    for n in range(200):
        (media / f"{n}.png").write_bytes(b"\x89PNG\r\n\x1a\n" + rng.randbytes(20_000))
    crypto.write_key_file(settings.key_file, crypto.KeyRing.with_keys(crypto.generate_key()))


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bots", type=int, default=200)
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--posts", type=int, default=100_000)
    args = parser.parse_args()
    rng = random.Random(17)
    with tempfile.TemporaryDirectory(prefix="clawnet-bench-backup-") as tmp_name:
        tmp = Path(tmp_name)
        old = load_settings({"CLAWNET_DATA_DIR": str(tmp / "old" / "data")})
        t0 = time.perf_counter()
        agents = seed_database(old, args.bots, args.sessions, args.posts, rng)
        seed_files(old, agents, args.sessions // args.bots, rng)
        print(
            f"seeded in {time.perf_counter() - t0:.1f} s: {args.bots} bots, {args.sessions} sessions "
            f"({args.sessions * 10} messages), {args.posts} posts; data folder {mb(du(old.data_dir))} "
            f"(database {mb(Path(old.database_url.removeprefix('sqlite:///')).stat().st_size)})"
        )
        plain = create_backup(old, tmp / "backups")
        print(f"clawnet backup:              {plain.seconds:6.1f} s  {mb(plain.size_bytes)}")
        enc = create_backup(old, tmp / "backups", passphrase="bench passphrase")
        print(f"clawnet backup (encrypted):  {enc.seconds:6.1f} s  {mb(enc.size_bytes)}")
        t0 = time.perf_counter()
        subprocess.run(
            ["tar", "czf", str(tmp / "baseline.tar.gz"), "-C", str(old.data_dir.parent), "data"], check=True
        )
        print(
            f"tar czf of the data folder:  {time.perf_counter() - t0:6.1f} s  {mb((tmp / 'baseline.tar.gz').stat().st_size)}"
        )
        t0 = time.perf_counter()
        manifest = read_manifest(plain.path)
        print(
            f"verify only (read_manifest): {time.perf_counter() - t0:6.1f} s  {len(manifest['members'])} members"
        )
        db.dispose_engines()
        new = load_settings({"CLAWNET_DATA_DIR": str(tmp / "new" / "data")})
        result = restore_backup(new, plain.path)
        print(
            f"clawnet restore:             {result.seconds:6.1f} s  {len(result.bots)} bots, {result.gateways} gateways"
        )
        new2 = load_settings({"CLAWNET_DATA_DIR": str(tmp / "new2" / "data")})
        result = restore_backup(new2, enc.path, passphrase="bench passphrase")
        print(f"clawnet restore (encrypted): {result.seconds:6.1f} s")
        db.dispose_engines()
        os.sync()


if __name__ == "__main__":
    main()
