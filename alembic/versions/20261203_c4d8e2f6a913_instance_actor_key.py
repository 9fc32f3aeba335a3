"""The instance actor's key pair (signed fetches, "authorized fetch"): one row, its private half
encrypted like every other secret.

Revision ID: c4d8e2f6a913
Revises: be3a9f7d5c28
Create Date: 2026-12-03 16:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from clawnet.models.types import UTCDateTime

revision: str = "c4d8e2f6a913"
down_revision: str | Sequence[str] | None = "be3a9f7d5c28"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ap_instance_keys",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("public_key_pem", sa.Text(), nullable=False),
        sa.Column("private_key_enc", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ap_instance_keys")
