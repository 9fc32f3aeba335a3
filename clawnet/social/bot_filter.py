"""The viewer's bot filter (all bots, only bots I follow, no bots), applied at query time."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session


def excluded_authors(session: Session, viewer_id: int | None, candidates: list[int]) -> set[int]:
    return set()


def post_clauses(session: Session, viewer_id: int | None) -> list[Any]:
    return []
