"""The full-text index of posts, kept outside SQLModel's metadata (it is dialect-specific).

SQLite: an FTS5 external-content table `posts_fts` over `posts.content_text`, kept in sync by
triggers on insert, update of the text, and delete. PostgreSQL: a GIN index on
`to_tsvector('simple', content_text)`. The migration `5e4c1a7b2d01` creates them; autogenerate
must not see them as strays (`include_object`).
"""

from __future__ import annotations

import re
from typing import Any

FTS_TABLE = "posts_fts"
PG_INDEX = "ix_posts_content_fts"
TS_CONFIG = "simple"

SQLITE_CREATE = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(content_text, content='posts', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    f"CREATE TRIGGER IF NOT EXISTS posts_fts_ai AFTER INSERT ON posts BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, content_text) VALUES (new.id, new.content_text); END",
    f"CREATE TRIGGER IF NOT EXISTS posts_fts_ad AFTER DELETE ON posts BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, content_text) VALUES ('delete', old.id, old.content_text); END",
    f"CREATE TRIGGER IF NOT EXISTS posts_fts_au AFTER UPDATE OF content_text ON posts BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, content_text) VALUES ('delete', old.id, old.content_text); "
    f"INSERT INTO {FTS_TABLE}(rowid, content_text) VALUES (new.id, new.content_text); END",
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS posts_fts_ai",
    "DROP TRIGGER IF EXISTS posts_fts_ad",
    "DROP TRIGGER IF EXISTS posts_fts_au",
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
]
PG_CREATE = [
    f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON posts USING gin (to_tsvector('{TS_CONFIG}', content_text))"
]
PG_DROP = [f"DROP INDEX IF EXISTS {PG_INDEX}"]


def create_statements(dialect: str) -> list[str]:
    return SQLITE_CREATE if dialect == "sqlite" else PG_CREATE if dialect == "postgresql" else []


def drop_statements(dialect: str) -> list[str]:
    return SQLITE_DROP if dialect == "sqlite" else PG_DROP if dialect == "postgresql" else []


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """For alembic's autogenerate: the full-text index is not a model; leave it alone."""
    if type_ == "table" and name is not None and name.startswith(FTS_TABLE):
        return False
    return not (type_ == "index" and name == PG_INDEX)


WORD = re.compile(r"\w+", re.UNICODE)


def words(query: str, limit: int = 8) -> list[str]:
    """The words of what someone typed (no operators: every word must match)."""
    return [w.lower() for w in WORD.findall(query)][:limit]


def fts5_query(terms: list[str]) -> str:
    """Every word, the last as a prefix (results while typing), each quoted (no FTS syntax)."""
    quoted = [f'"{t}"' for t in terms]
    if quoted:
        quoted[-1] += "*"
    return " ".join(quoted)


def tsquery(terms: list[str]) -> str:
    """The PostgreSQL `to_tsquery` text: words joined by AND, the last as a prefix."""
    parts = [re.sub(r"[^\w]", "", t) for t in terms]
    parts = [p for p in parts if p]
    if parts:
        parts[-1] += ":*"
    return " & ".join(parts)
