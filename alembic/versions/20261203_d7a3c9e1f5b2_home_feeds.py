"""Home feeds written at post time: `home_feeds` (one row per viewer whose feed is built, with its
floor) and `home_entries` (viewer, post). Nothing is copied here: a feed is built on its viewer's
first home read.

Revision ID: d7a3c9e1f5b2
Revises: c4d8e2f6a913
Create Date: 2026-12-03 17:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d7a3c9e1f5b2"
down_revision: str | Sequence[str] | None = "c4d8e2f6a913"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "home_feeds",
        sa.Column(
            "viewer_id", sa.Integer(), sa.ForeignKey("profiles.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("floor", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_table(
        "home_entries",
        sa.Column(
            "viewer_id", sa.Integer(), sa.ForeignKey("profiles.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("post_id", sa.Integer(), sa.ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("author_is_bot", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index(
        "ix_home_entries_viewer_bot_post", "home_entries", ["viewer_id", "author_is_bot", "post_id"]
    )
    op.create_index("ix_home_entries_viewer_author", "home_entries", ["viewer_id", "author_id"])


def downgrade() -> None:
    op.drop_index("ix_home_entries_viewer_author", table_name="home_entries")
    op.drop_index("ix_home_entries_viewer_bot_post", table_name="home_entries")
    op.drop_table("home_entries")
    op.drop_table("home_feeds")
