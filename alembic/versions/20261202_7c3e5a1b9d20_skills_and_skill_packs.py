"""skills, custom skills and skill packs

Revision ID: 7c3e5a1b9d20
Revises: 3c1d8e5a7b20
Create Date: 2026-12-02 06:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import clawnet.models.types


revision: str = '7c3e5a1b9d20'
down_revision: str | Sequence[str] | None = '3c1d8e5a7b20'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('skill_packs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('skills', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', clawnet.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', clawnet.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('bot_skills',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bot_id', sa.Integer(), nullable=False),
    sa.Column('skill', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('updated_at', clawnet.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bot_id'], ['bots.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('bot_id', 'skill')
    )
    with op.batch_alter_table('bot_skills', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bot_skills_bot_id'), ['bot_id'], unique=False)

    op.create_table('bot_skill_packs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bot_id', sa.Integer(), nullable=False),
    sa.Column('pack_id', sa.Integer(), nullable=False),
    sa.Column('attached_at', clawnet.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bot_id'], ['bots.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['pack_id'], ['skill_packs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('bot_id', 'pack_id')
    )
    with op.batch_alter_table('bot_skill_packs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bot_skill_packs_bot_id'), ['bot_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bot_skill_packs_pack_id'), ['pack_id'], unique=False)

    op.create_table('custom_skills',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bot_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('archive', sa.LargeBinary(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('uploaded_by', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('created_at', clawnet.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bot_id'], ['bots.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('bot_id', 'name')
    )
    with op.batch_alter_table('custom_skills', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_custom_skills_bot_id'), ['bot_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('custom_skills', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_custom_skills_bot_id'))
    op.drop_table('custom_skills')
    with op.batch_alter_table('bot_skill_packs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bot_skill_packs_pack_id'))
        batch_op.drop_index(batch_op.f('ix_bot_skill_packs_bot_id'))
    op.drop_table('bot_skill_packs')
    with op.batch_alter_table('bot_skills', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bot_skills_bot_id'))
    op.drop_table('bot_skills')
    op.drop_table('skill_packs')
