"""each store's engine version (asked for) and running engine version (converged)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What every store ran before engine versions were data: the charts' one version of each
# engine (charts/catalogue.yaml's defaults at the time). Literal here on purpose: a migration
# must not change meaning when the catalogue does.
_VERSIONS_BEFORE = {"medusa": "2.21.2", "woocommerce": "6"}


def upgrade() -> None:
    # batch_alter_table: SQLite cannot drop a server default in place.
    with op.batch_alter_table("stores") as batch:
        batch.add_column(
            sa.Column("engine_version", sa.String(64), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("running_engine_version", sa.String(64), nullable=True))
    stores = sa.table(
        "stores",
        sa.column("engine", sa.String),
        sa.column("engine_version", sa.String),
        sa.column("running_engine_version", sa.String),
        sa.column("observed_generation", sa.Integer),
    )
    for engine, version in _VERSIONS_BEFORE.items():
        op.execute(
            stores.update().where(stores.c.engine == engine).values(engine_version=version)
        )
    # A store that converged at least once runs that version.
    op.execute(
        stores.update()
        .where(stores.c.observed_generation > 0)
        .values(running_engine_version=stores.c.engine_version)
    )
    with op.batch_alter_table("stores") as batch:
        batch.alter_column("engine_version", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("stores") as batch:
        batch.drop_column("running_engine_version")
        batch.drop_column("engine_version")
