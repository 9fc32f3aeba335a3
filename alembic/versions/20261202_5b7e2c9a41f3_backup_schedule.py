"""backup schedule: the settings row and every backup run

Revision ID: 5b7e2c9a41f3
Revises: 398c424ee6d2
Create Date: 2026-12-02 14:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import clawnet.models.types


revision: str = "5b7e2c9a41f3"
down_revision: str | Sequence[str] | None = "398c424ee6d2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "backup_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("interval_hours", sa.Integer(), nullable=False),
        sa.Column("keep", sa.Integer(), nullable=False),
        sa.Column("folder", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("passphrase_enc", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("enabled_since", clawnet.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("run_requested_at", clawnet.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("run_requested_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", clawnet.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["run_requested_by_id"], ["users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "backup_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trigger", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("started_at", clawnet.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", clawnet.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("path", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("encrypted", sa.Boolean(), nullable=False),
        sa.Column("pruned", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["requested_by_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_backup_runs_started_at"), "backup_runs", ["started_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_backup_runs_started_at"), table_name="backup_runs")
    op.drop_table("backup_runs")
    op.drop_table("backup_settings")
