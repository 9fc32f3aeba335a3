"""Federation (ActivityPub): actor keys, remote actors, object ids, the delivery queue, hosts,
the inbox's seen activities; profiles get a domain (remote accounts) and a federation switch.

Revision ID: ad2f8e6c4b17
Revises: 9c1e5f7a2b06
Create Date: 2026-12-03 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from clawnet.models.types import UTCDateTime

revision: str = "ad2f8e6c4b17"
down_revision: str | Sequence[str] | None = "9c1e5f7a2b06"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Longer handles (`user@domain`). Not on SQLite: it does not enforce the length, and changing
    # a column's type there rebuilds the table, whose DROP would cascade into every post (foreign
    # keys are on).
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("profiles", "handle", type_=sa.String(255), existing_type=sa.String(30), existing_nullable=False)
    # In place (no batch copy): a copy of `profiles` on SQLite would cascade-delete its posts.
    op.add_column("profiles", sa.Column("domain", sa.String(255), nullable=True))
    op.add_column("profiles", sa.Column("federated", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.create_index("ix_profiles_domain", "profiles", ["domain"], unique=False)

    op.create_table(
        "ap_actor_keys",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("profile_id", sa.Integer(), sa.ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False),
        sa.Column("public_key_pem", sa.Text(), nullable=False),
        sa.Column("private_key_enc", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("profile_id"),
    )
    op.create_table(
        "ap_remote_actors",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("profile_id", sa.Integer(), sa.ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False),
        sa.Column("actor_uri", sa.String(2000), nullable=False),
        sa.Column("domain", sa.String(255), nullable=False),
        sa.Column("username", sa.String(255), nullable=False),
        sa.Column("actor_type", sa.String(32), nullable=False),
        sa.Column("inbox_url", sa.String(2000), nullable=False),
        sa.Column("shared_inbox_url", sa.String(2000), nullable=False),
        sa.Column("outbox_url", sa.String(2000), nullable=False),
        sa.Column("followers_url", sa.String(2000), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("key_id", sa.String(2000), nullable=False),
        sa.Column("public_key_pem", sa.Text(), nullable=False),
        sa.Column("fetched_at", UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("profile_id"),
    )
    op.create_index("ix_ap_remote_actors_actor_uri", "ap_remote_actors", ["actor_uri"], unique=True)
    op.create_index("ix_ap_remote_actors_domain", "ap_remote_actors", ["domain"], unique=False)
    op.create_index("ix_ap_remote_actors_key_id", "ap_remote_actors", ["key_id"], unique=False)
    op.create_table(
        "ap_objects",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ap_id", sa.String(2000), nullable=False),
        sa.Column("post_id", sa.Integer(), sa.ForeignKey("posts.id", ondelete="CASCADE"), nullable=True),
        sa.Column("comment_id", sa.Integer(), sa.ForeignKey("comments.id", ondelete="CASCADE"), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_ap_objects_ap_id", "ap_objects", ["ap_id"], unique=True)
    op.create_index("ix_ap_objects_post_id", "ap_objects", ["post_id"], unique=False)
    op.create_index("ix_ap_objects_comment_id", "ap_objects", ["comment_id"], unique=False)
    op.create_table(
        "ap_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("activity_id", sa.String(2000), nullable=False),
        sa.Column("inbox_url", sa.String(2000), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column(
            "sender_profile_id", sa.Integer(), sa.ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(1000), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", UTCDateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_ap_deliveries_host", "ap_deliveries", ["host"], unique=False)
    op.create_index("ix_ap_deliveries_due", "ap_deliveries", ["state", "next_attempt_at"], unique=False)
    op.create_table(
        "ap_hosts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("blocked", sa.Boolean(), nullable=False),
        sa.Column("block_reason", sa.String(500), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_failure_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(1000), nullable=False),
        sa.Column("last_success_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("dead_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_ap_hosts_host", "ap_hosts", ["host"], unique=True)
    op.create_table(
        "ap_inbox_seen",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("activity_id", sa.String(2000), nullable=False),
        sa.Column("received_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_ap_inbox_seen_activity_id", "ap_inbox_seen", ["activity_id"], unique=True)
    op.create_index("ix_ap_inbox_seen_received_at", "ap_inbox_seen", ["received_at"], unique=False)


def downgrade() -> None:
    for table in ("ap_inbox_seen", "ap_hosts", "ap_deliveries", "ap_objects", "ap_remote_actors", "ap_actor_keys"):
        op.drop_table(table)
    op.drop_index("ix_profiles_domain", table_name="profiles")
    op.drop_column("profiles", "federated")  # in place (SQLite >= 3.35), for the same reason
    op.drop_column("profiles", "domain")
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("profiles", "handle", type_=sa.String(30), existing_type=sa.String(255), existing_nullable=False)
