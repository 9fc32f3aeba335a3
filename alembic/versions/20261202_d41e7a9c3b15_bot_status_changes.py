"""bot status changes (uptime per bot)

Revision ID: d41e7a9c3b15
Revises: 00ca6608ac00
Create Date: 2026-12-02 10:10:00.000000
"""
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

import clawnet.models.types


revision: str = 'd41e7a9c3b15'
down_revision: str | Sequence[str] | None = '00ca6608ac00'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('bot_status_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bot_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('desired_running', sa.Boolean(), nullable=False),
    sa.Column('at', clawnet.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bot_id'], ['bots.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_bot_status_changes_bot_at', 'bot_status_changes', ['bot_id', 'at'], unique=False)
    # Existing bots start their history now, in the state they are in (otherwise a bot that keeps
    # running would show "no data" until its status next changed).
    changes = sa.table(
        'bot_status_changes',
        sa.column('bot_id', sa.Integer()),
        sa.column('status', sa.String()),
        sa.column('desired_running', sa.Boolean()),
        sa.column('at', clawnet.models.types.UTCDateTime(timezone=True)),
    )
    now = datetime.now(UTC)
    bots = op.get_bind().execute(sa.text('SELECT id, actual_status, desired_status FROM bots')).all()
    if bots:
        op.bulk_insert(
            changes,
            [
                {'bot_id': i, 'status': status, 'desired_running': desired == 'running', 'at': now}
                for i, status, desired in bots
            ],
        )


def downgrade() -> None:
    op.drop_index('ix_bot_status_changes_bot_at', table_name='bot_status_changes')
    op.drop_table('bot_status_changes')
