"""Post and comment ids are never reused: the high-water mark SQLite inserts take them from
(clawnet/models/ids.py; PostgreSQL sequences never reuse ids and leave the table empty).

Revision ID: be3a9f7d5c28
Revises: ad2f8e6c4b17
Create Date: 2026-12-03 13:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "be3a9f7d5c28"
down_revision: str | Sequence[str] | None = "ad2f8e6c4b17"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "id_high_water",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("last", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("id_high_water")
