"""stores.converged_key: the converged memo of a store's last converged pass, kept with its
status so that a restarted control plane skips the render of an unchanged store

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # NULL: no memo (every existing store compares in full once, as before).
    op.add_column("stores", sa.Column("converged_key", sa.String(255), nullable=True))


def downgrade() -> None:
    op.drop_column("stores", "converged_key")
