"""Engines and migrations: per-backend settings, ``migrate`` idempotent and complete."""

from __future__ import annotations

import threading
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from storeplane.db import create_engine_for, migrate
from storeplane.db.engine import alembic_config
from storeplane.db.tables import metadata


def test_migrate_twice_leaves_the_database_at_head(db_url: str) -> None:
    migrate(db_url)
    migrate(db_url)
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    engine = create_engine_for(db_url)
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head
        assert {"stores", "store_events"} <= set(inspect(connection).get_table_names())
    engine.dispose()


def test_the_migrations_create_exactly_the_tables_the_code_declares(db_url: str) -> None:
    migrate(db_url)
    engine = create_engine_for(db_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        assert compare_metadata(context, metadata) == []
    engine.dispose()


def test_concurrent_migrations_do_not_trip_over_each_other(db_url: str) -> None:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            migrate(db_url)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_sqlite_gets_wal_a_busy_timeout_foreign_keys_and_its_directory(tmp_path: Path) -> None:
    database = tmp_path / "not" / "there" / "storeplane.db"
    engine = create_engine_for(f"sqlite:///{database}")
    with engine.connect() as connection:
        pragmas = {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
        }
    engine.dispose()
    assert database.parent.is_dir()
    assert pragmas == {
        "journal_mode": "wal",
        "synchronous": 1,
        "busy_timeout": 5000,
        "foreign_keys": 1,
    }
