"""Index on profiles.suspended_at: every timeline asks which profiles are suspended.

Revision ID: 8b7f4d0e5a04
Revises: 6f5d2b8c3e02
Create Date: 2026-12-03 05:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "8b7f4d0e5a04"
down_revision: str | Sequence[str] | None = "6f5d2b8c3e02"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_profiles_suspended_at", "profiles", ["suspended_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_profiles_suspended_at", table_name="profiles")
