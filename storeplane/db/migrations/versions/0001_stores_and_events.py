"""stores and store_events, with leases and the live-name index

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# Spelled out here rather than imported from storeplane.db.tables, so that this revision keeps
# meaning what it meant when it was written.
JsonDocument = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
EventId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def UtcDateTime() -> sa.DateTime:  # noqa: N802 - reads like the column type in tables.py
    return sa.DateTime(timezone=True)

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stores",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("engine", sa.String(32), nullable=False),
        sa.Column("plan", sa.String(32), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("observed_generation", sa.Integer(), nullable=False),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("conditions", JsonDocument, nullable=False),
        sa.Column("url", sa.String(255), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("deadline_at", UtcDateTime(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("next_reconcile_at", UtcDateTime(), nullable=True),
        sa.Column("deletion_requested_at", UtcDateTime(), nullable=True),
        sa.Column("deleted_at", UtcDateTime(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(255), nullable=True),
        sa.Column("lease_expires_at", UtcDateTime(), nullable=True),
    )
    op.create_index(
        "uq_stores_live_name",
        "stores",
        ["name"],
        unique=True,
        sqlite_where=sa.text("deleted_at IS NULL"),
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index("ix_stores_created_at_id", "stores", ["created_at", "id"])
    op.create_index("ix_stores_phase_created_at_id", "stores", ["phase", "created_at", "id"])
    op.create_index("ix_stores_next_reconcile_at", "stores", ["next_reconcile_at"])

    op.create_table(
        "store_events",
        sa.Column("id", EventId, primary_key=True, autoincrement=True),
        sa.Column("store_id", sa.String(32), sa.ForeignKey("stores.id"), nullable=False),
        sa.Column("time", UtcDateTime(), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
    )
    op.create_index("ix_store_events_store_id_id", "store_events", ["store_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_store_events_store_id_id", table_name="store_events")
    op.drop_table("store_events")
    op.drop_index("ix_stores_next_reconcile_at", table_name="stores")
    op.drop_index("ix_stores_phase_created_at_id", table_name="stores")
    op.drop_index("ix_stores_created_at_id", table_name="stores")
    op.drop_index("uq_stores_live_name", table_name="stores")
    op.drop_table("stores")
