"""What moderation hides from a viewer: mutes, blocks (both ways), suspended profiles, hidden posts."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session


def excluded_authors(session: Session, viewer_id: int | None, candidates: list[int]) -> set[int]:
    return set()


def post_clauses(session: Session, viewer_id: int | None) -> list[Any]:
    return []
