"""imported OpenClaw agent settings

Bots get what an imported openclaw.json says beyond the wizard's fields: an exact tools
allowlist, model fallbacks, the identity theme and uploaded persona files. Existing bots get
none of them (as before).

Revision ID: c3a1e0f4b7d2
Revises: c3a1e5d7f901
Create Date: 2026-12-02 06:10:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = 'c3a1e0f4b7d2'
down_revision: str | Sequence[str] | None = 'c3a1e5d7f901'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('bots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tools_allow_only', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('model_fallbacks', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(
            sa.Column('identity_theme', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False, server_default='')
        )
        batch_op.add_column(sa.Column('persona_files', sa.JSON(), nullable=False, server_default='{}'))


def downgrade() -> None:
    with op.batch_alter_table('bots', schema=None) as batch_op:
        batch_op.drop_column('persona_files')
        batch_op.drop_column('identity_theme')
        batch_op.drop_column('model_fallbacks')
        batch_op.drop_column('tools_allow_only')
