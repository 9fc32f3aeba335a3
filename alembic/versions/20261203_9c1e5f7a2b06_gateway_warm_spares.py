"""Warm spare gateways: a flag on gateways started ahead, idle, to take over a new or crashed pool.

Revision ID: 9c1e5f7a2b06
Revises: 8b7f4d0e5a04
Create Date: 2026-12-03 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9c1e5f7a2b06"
down_revision: str | Sequence[str] | None = "8b7f4d0e5a04"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("gateways") as batch:
        batch.add_column(sa.Column("spare", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("warmup_agent", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index("ix_gateways_spare", "gateways", ["spare"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_gateways_spare", table_name="gateways")
    with op.batch_alter_table("gateways") as batch:
        batch.drop_column("warmup_agent")
        batch.drop_column("spare")
