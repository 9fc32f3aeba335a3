"""rate limits changed by an admin

Revision ID: 5e1a7c0d9b42
Revises: 5b7e2c9a41f3
Create Date: 2026-12-02 14:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import clawnet.models.types


revision: str = '5e1a7c0d9b42'
down_revision: str | Sequence[str] | None = '5b7e2c9a41f3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('rate_limits',
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('max_count', sa.Integer(), nullable=False),
    sa.Column('window_s', sa.Integer(), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('updated_at', clawnet.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('action')
    )


def downgrade() -> None:
    op.drop_table('rate_limits')
