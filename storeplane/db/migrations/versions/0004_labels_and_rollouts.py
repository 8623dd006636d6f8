"""store labels and rollout_id; the rollouts and rollout_stores tables for fleet rollouts

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB


def UtcDateTime() -> sa.DateTime:  # noqa: N802 - reads like the column type in tables.py
    return sa.DateTime(timezone=True)


def JsonDocument() -> sa.types.TypeEngine[Any]:  # noqa: N802 - as in tables.py
    return sa.JSON().with_variant(JSONB(), "postgresql")


revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing stores get no labels ('{}'), and no rollout drives them.
    op.add_column(
        "stores",
        sa.Column("labels", JsonDocument(), nullable=False, server_default=sa.text("'{}'")),
    )
    op.add_column("stores", sa.Column("rollout_id", sa.String(32), nullable=True))
    op.create_table(
        "rollouts",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("engine", sa.String(32), nullable=False),
        sa.Column("to_version", sa.String(64), nullable=False),
        sa.Column("selector", JsonDocument(), nullable=False),
        sa.Column("waves", JsonDocument(), nullable=False),
        sa.Column("max_failures", sa.Integer(), nullable=False),
        sa.Column("gate", sa.String(16), nullable=False),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("current_wave", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(255), nullable=True),
        sa.Column("lease_expires_at", UtcDateTime(), nullable=True),
    )
    op.create_index("ix_rollouts_created_at_id", "rollouts", ["created_at", "id"])
    op.create_index("ix_rollouts_phase", "rollouts", ["phase"])
    op.create_table(
        "rollout_stores",
        sa.Column("rollout_id", sa.String(32), sa.ForeignKey("rollouts.id"), nullable=False),
        sa.Column("store_id", sa.String(32), sa.ForeignKey("stores.id"), nullable=False),
        sa.Column("store_name", sa.String(64), nullable=False),
        sa.Column("wave", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("from_version", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("cause", sa.Text(), nullable=True),
        sa.Column("check_id", sa.String(32), nullable=True),
        sa.Column("started_at", UtcDateTime(), nullable=True),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("rollout_id", "store_id"),
    )
    op.create_index("ix_rollout_stores_store_id", "rollout_stores", ["store_id"])


def downgrade() -> None:
    op.drop_index("ix_rollout_stores_store_id", table_name="rollout_stores")
    op.drop_table("rollout_stores")
    op.drop_index("ix_rollouts_phase", table_name="rollouts")
    op.drop_index("ix_rollouts_created_at_id", table_name="rollouts")
    op.drop_table("rollouts")
    with op.batch_alter_table("stores") as batch:
        batch.drop_column("rollout_id")
        batch.drop_column("labels")
