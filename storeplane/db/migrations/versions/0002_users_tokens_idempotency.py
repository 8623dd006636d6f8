"""users, API tokens, idempotency keys, and the owner of each store

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


def UtcDateTime() -> sa.DateTime:  # noqa: N802 - reads like the column type in tables.py
    return sa.DateTime(timezone=True)


revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("max_live_stores", sa.Integer(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("user_id", sa.String(32), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])
    op.create_table(
        "idempotency_keys",
        sa.Column("user_id", sa.String(32), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("store_id", sa.String(32), sa.ForeignKey("stores.id"), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "key"),
    )
    # SQLite can add a column with an inline REFERENCES (the value of old rows is NULL), which
    # keeps the stores table and its partial index as they are; PostgreSQL adds a constraint.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE stores ADD COLUMN owner_id VARCHAR(32) REFERENCES users (id)")
    else:
        op.add_column("stores", sa.Column("owner_id", sa.String(32), nullable=True))
        op.create_foreign_key(None, "stores", "users", ["owner_id"], ["id"])
    op.create_index(
        "ix_stores_owner_id_created_at_id", "stores", ["owner_id", "created_at", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_stores_owner_id_created_at_id", table_name="stores")
    with op.batch_alter_table("stores") as batch:
        batch.drop_column("owner_id")
    op.drop_table("idempotency_keys")
    op.drop_index("ix_api_tokens_user_id", table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_table("users")
