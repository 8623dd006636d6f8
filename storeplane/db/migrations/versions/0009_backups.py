"""backups: the store_backups table, a store's final_backup policy and its restore in progress

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB


def UtcDateTime() -> sa.DateTime:  # noqa: N802 - reads like the column type in tables.py
    return sa.DateTime(timezone=True)


revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "stores",
        sa.Column("final_backup", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "stores", sa.Column("restore", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=True)
    )
    op.add_column(
        "stores",
        sa.Column("backup_policy", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=True),
    )
    op.create_table(
        "store_backups",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("store_id", sa.String(32), sa.ForeignKey("stores.id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("engine", sa.String(32), nullable=False),
        sa.Column("engine_version", sa.String(64), nullable=False),
        sa.Column("target", sa.String(16), nullable=False),
        sa.Column("location", sa.String(255), nullable=False),
        sa.Column("requested_by", sa.String(255), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.Column("expires_at", UtcDateTime(), nullable=True),
        sa.Column("runner", sa.String(255), nullable=True),
        sa.Column("lease_expires_at", UtcDateTime(), nullable=True),
    )
    op.create_index(
        "ix_store_backups_store_id_started_at", "store_backups", ["store_id", "started_at"]
    )
    op.create_index("ix_store_backups_status", "store_backups", ["status"])


def downgrade() -> None:
    op.drop_index("ix_store_backups_status", table_name="store_backups")
    op.drop_index("ix_store_backups_store_id_started_at", table_name="store_backups")
    op.drop_table("store_backups")
    op.drop_column("stores", "backup_policy")
    op.drop_column("stores", "restore")
    op.drop_column("stores", "final_backup")
