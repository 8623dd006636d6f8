"""stores.managed_by and managed_uid: the Kubernetes Store object a store was made from

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing stores were made through the API: no object owns them.
    op.add_column("stores", sa.Column("managed_by", sa.String(320), nullable=True))
    op.add_column("stores", sa.Column("managed_uid", sa.String(64), nullable=True))
    # One store per object: a create retried after a crash finds the first one.
    op.create_index("uq_stores_managed_uid", "stores", ["managed_uid"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_stores_managed_uid", table_name="stores")
    op.drop_column("stores", "managed_uid")
    op.drop_column("stores", "managed_by")
