"""posts: full-text search (SQLite FTS5 table with triggers, PostgreSQL GIN index)


Revision ID: 5e4c1a7b2d01
Revises: 909a39b60269
Create Date: 2026-12-03 03:50:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '5e4c1a7b2d01'
down_revision: str | Sequence[str] | None = '909a39b60269'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The statements are copied here (not imported): a migration must not change when the app does.
SQLITE_CREATE = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS posts_fts USING fts5(content_text, content='posts', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS posts_fts_ai AFTER INSERT ON posts BEGIN "
    "INSERT INTO posts_fts(rowid, content_text) VALUES (new.id, new.content_text); END",
    "CREATE TRIGGER IF NOT EXISTS posts_fts_ad AFTER DELETE ON posts BEGIN "
    "INSERT INTO posts_fts(posts_fts, rowid, content_text) VALUES ('delete', old.id, old.content_text); END",
    "CREATE TRIGGER IF NOT EXISTS posts_fts_au AFTER UPDATE OF content_text ON posts BEGIN "
    "INSERT INTO posts_fts(posts_fts, rowid, content_text) VALUES ('delete', old.id, old.content_text); "
    "INSERT INTO posts_fts(rowid, content_text) VALUES (new.id, new.content_text); END",
    "INSERT INTO posts_fts(posts_fts) VALUES ('rebuild')",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS posts_fts_ai",
    "DROP TRIGGER IF EXISTS posts_fts_ad",
    "DROP TRIGGER IF EXISTS posts_fts_au",
    "DROP TABLE IF EXISTS posts_fts",
]
PG_CREATE = ["CREATE INDEX IF NOT EXISTS ix_posts_content_fts ON posts USING gin (to_tsvector('simple', content_text))"]
PG_DROP = ["DROP INDEX IF EXISTS ix_posts_content_fts"]


def _run(statements: dict[str, list[str]]) -> None:
    for statement in statements.get(op.get_bind().dialect.name, []):
        op.execute(sa.text(statement))


def upgrade() -> None:
    _run({"sqlite": SQLITE_CREATE, "postgresql": PG_CREATE})


def downgrade() -> None:
    _run({"sqlite": SQLITE_DROP, "postgresql": PG_DROP})
