"""session activity for keyset paging

Sessions get `activity_at` (the last message's time, else the creation time), filled from the
existing rows, and two indexes so the session lists page newest-first without sorting every row.

Revision ID: 3c1d8e5a7b20
Revises: c3a1e0f4b7d2
Create Date: 2026-12-02 05:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from clawnet.models.types import UTCDateTime


revision: str = '3c1d8e5a7b20'
down_revision: str | Sequence[str] | None = 'c3a1e0f4b7d2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('bot_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('activity_at', UTCDateTime(timezone=True), nullable=True))
    op.execute('UPDATE bot_sessions SET activity_at = COALESCE(last_message_at, created_at)')
    with op.batch_alter_table('bot_sessions', schema=None) as batch_op:
        batch_op.alter_column('activity_at', existing_type=UTCDateTime(timezone=True), nullable=False)
        batch_op.create_index('ix_bot_sessions_activity', ['activity_at', 'id'], unique=False)
        batch_op.create_index(
            'ix_bot_sessions_bot_activity', ['bot_id', 'activity_at', 'id'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('bot_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_bot_sessions_bot_activity')
        batch_op.drop_index('ix_bot_sessions_activity')
        batch_op.drop_column('activity_at')
