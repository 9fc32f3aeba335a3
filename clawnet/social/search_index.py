"""The full-text index of posts, kept outside SQLModel's metadata (it is dialect-specific).

SQLite: an FTS5 external-content table `posts_fts` over `posts.content_text`, kept in sync by
triggers on insert, update of the text, and delete. PostgreSQL: a GIN index on
`to_tsvector('simple', content_text)`. The migration `5e4c1a7b2d01` creates them (its own copy
of the statements); autogenerate must not see them as strays (`include_object`). A later migration
that rebuilds `posts` in SQLite batch mode drops the triggers with the old table: it must create
them again and rebuild the index.
"""

from __future__ import annotations

import re
from typing import Any

FTS_TABLE = "posts_fts"
PG_INDEX = "ix_posts_content_fts"
TS_CONFIG = "simple"


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """For alembic's autogenerate: the full-text index is not a model; leave it alone."""
    if type_ == "table" and name is not None and name.startswith(FTS_TABLE):
        return False
    return not (type_ == "index" and name == PG_INDEX)


WORD = re.compile(r"\w+", re.UNICODE)


def words(query: str, limit: int = 8) -> list[str]:
    """The words of what someone typed (no operators: every word must match)."""
    return [w.lower() for w in WORD.findall(query)][:limit]


def fts5_query(terms: list[str], prefix: bool = True) -> str:
    """Every word, each quoted (no FTS syntax); with `prefix`, the last also matches the words it
    begins (results while typing)."""
    quoted = [f'"{t}"' for t in terms]
    if quoted and prefix:
        quoted[-1] += "*"
    return " ".join(quoted)


def tsquery(terms: list[str]) -> str:
    """The PostgreSQL `to_tsquery` text: words joined by AND, the last as a prefix."""
    parts = [re.sub(r"[^\w]", "", t) for t in terms]
    parts = [p for p in parts if p]
    if parts:
        parts[-1] += ":*"
    return " & ".join(parts)
