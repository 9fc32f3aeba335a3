"""Ids other servers remember are never reused.

Federation names notes by post and comment ids (`/ap/posts/<id>`), and other servers remember
deleted ids (Mastodon keeps tombstones). SQLite gives a new row the id of the newest deleted one
unless its table has AUTOINCREMENT, which existing tables cannot gain in place (a rebuild of
`posts` would cascade into its children). So on SQLite a new post or comment takes its id from a
high-water mark kept in `id_high_water` (updated in the same transaction; SQLite has one writer at a
time). PostgreSQL sequences never reuse ids: nothing is done there.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlmodel import Field, SQLModel

from clawnet.models.social import Comment, Post


class IdHighWater(SQLModel, table=True):
    __tablename__ = "id_high_water"

    name: str = Field(primary_key=True, max_length=32)  # the table
    last: int = Field(default=0)  # the highest id it ever handed out


_NEXT_ID = {
    "posts": (
        "INSERT INTO id_high_water (name, last) VALUES (?, (SELECT coalesce(max(id), 0) FROM posts) + 1) "
        "ON CONFLICT (name) DO UPDATE SET last = max(last, (SELECT coalesce(max(id), 0) FROM posts)) + 1 "
        "RETURNING last"
    ),
    "comments": (
        "INSERT INTO id_high_water (name, last) VALUES (?, (SELECT coalesce(max(id), 0) FROM comments) + 1) "
        "ON CONFLICT (name) DO UPDATE SET last = max(last, (SELECT coalesce(max(id), 0) FROM comments)) + 1 "
        "RETURNING last"
    ),
}


def _next_id(connection: Any, table: str) -> int:
    return int(connection.exec_driver_sql(_NEXT_ID[table], (table,)).scalar_one())


def _assign(table: str) -> Any:
    def assign(_mapper: Any, connection: Any, target: Any) -> None:
        if target.id is None and connection.dialect.name == "sqlite":
            target.id = _next_id(connection, table)

    return assign


event.listen(Post, "before_insert", _assign("posts"))
event.listen(Comment, "before_insert", _assign("comments"))
