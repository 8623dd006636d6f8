"""what runs each store (workload_runtime), and the store_checks table for smoke checks

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


def UtcDateTime() -> sa.DateTime:  # noqa: N802 - reads like the column type in tables.py
    return sa.DateTime(timezone=True)


revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain nullable column: both backends add it in place (old rows: NULL, "not known yet").
    op.add_column("stores", sa.Column("workload_runtime", sa.String(16), nullable=True))
    op.create_table(
        "store_checks",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("store_id", sa.String(32), sa.ForeignKey("stores.id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requested_by", sa.String(255), nullable=False),
        sa.Column("step", sa.String(64), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("order_id", sa.String(128), nullable=True),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.Column("runner", sa.String(255), nullable=True),
        sa.Column("lease_expires_at", UtcDateTime(), nullable=True),
    )
    op.create_index(
        "ix_store_checks_store_id_started_at", "store_checks", ["store_id", "started_at"]
    )
    op.create_index("ix_store_checks_status", "store_checks", ["status"])
    op.create_index(
        "uq_store_checks_running",
        "store_checks",
        ["store_id"],
        unique=True,
        sqlite_where=sa.text("status = 'Running'"),
        postgresql_where=sa.text("status = 'Running'"),
    )


def downgrade() -> None:
    op.drop_index("uq_store_checks_running", table_name="store_checks")
    op.drop_index("ix_store_checks_status", table_name="store_checks")
    op.drop_index("ix_store_checks_store_id_started_at", table_name="store_checks")
    op.drop_table("store_checks")
    with op.batch_alter_table("stores") as batch:
        batch.drop_column("workload_runtime")
