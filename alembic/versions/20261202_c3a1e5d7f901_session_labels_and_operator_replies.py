"""session labels and operator replies

Existing sessions get no label (they show their channel and peer, as before).

Revision ID: c3a1e5d7f901
Revises: 5ff6967d2d01
Create Date: 2026-12-02 05:45:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import clawnet.models.types
from alembic import op


revision: str = 'c3a1e5d7f901'
down_revision: str | Sequence[str] | None = '5ff6967d2d01'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('bot_sessions', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('label', sqlmodel.sql.sqltypes.AutoString(length=512), nullable=False, server_default='')
        )
    op.create_table(
        'operator_replies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('author', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column('created_at', clawnet.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['session_id'], ['bot_sessions.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('operator_replies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_operator_replies_session_id'), ['session_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('operator_replies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_operator_replies_session_id'))
    op.drop_table('operator_replies')
    with op.batch_alter_table('bot_sessions', schema=None) as batch_op:
        batch_op.drop_column('label')
