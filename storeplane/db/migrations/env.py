"""Alembic environment. ``storeplane.db.engine.migrate`` hands in an open connection.

Run by hand (``alembic -c ...``) it falls back to ``STOREPLANE_DATABASE_URL`` or the
``sqlalchemy.url`` option.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection

from storeplane.db.tables import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from storeplane.db.engine import create_engine_for, write_transaction

    url = os.environ.get("STOREPLANE_DATABASE_URL") or context.config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise SystemExit("set STOREPLANE_DATABASE_URL to the database to migrate")
    engine = create_engine_for(url)
    try:
        with write_transaction(engine) as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run them against a database")
run_migrations_online()
