"""suspend (stores.suspended, suspended_at) and custom domains (stores.domains, domain_status,
and the store_domains table whose primary key keeps a domain to one store)

Revision ID: 0006
Revises: 0005
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


revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Old rows: not suspended, no custom domains (server defaults fill them in place).
    op.add_column(
        "stores",
        sa.Column("suspended", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("stores", sa.Column("suspended_at", UtcDateTime(), nullable=True))
    op.add_column(
        "stores",
        sa.Column("domains", JsonDocument(), nullable=False, server_default=sa.text("'[]'")),
    )
    op.add_column("stores", sa.Column("domain_status", JsonDocument(), nullable=True))
    op.create_table(
        "store_domains",
        sa.Column("name", sa.String(253), primary_key=True),
        sa.Column("store_id", sa.String(32), sa.ForeignKey("stores.id"), nullable=False),
        sa.Column("claimed_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_store_domains_store_id", "store_domains", ["store_id"])


def downgrade() -> None:
    op.drop_index("ix_store_domains_store_id", table_name="store_domains")
    op.drop_table("store_domains")
    with op.batch_alter_table("stores") as batch:
        batch.drop_column("domain_status")
        batch.drop_column("domains")
        batch.drop_column("suspended_at")
        batch.drop_column("suspended")
