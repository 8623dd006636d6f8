"""Engines and migrations: ``create_engine_for(url)`` and ``migrate(url)``.

Every entry point (``storeplane serve``, ``dev``, the tests) calls :func:`migrate` before it
starts serving, then builds its engine with :func:`create_engine_for`. Alembic is configured
in code, so neither works from a particular working directory.

SQLite gets WAL, ``synchronous=NORMAL``, a busy timeout and foreign keys on every connection,
and SQLAlchemy (not the sqlite3 module) emits ``BEGIN``: reads use a plain ``BEGIN`` and
writes use ``BEGIN IMMEDIATE`` (see :func:`write_transaction`), which takes the database's
write lock up front, so two writers queue on ``busy_timeout`` instead of failing half-way
and two processes can never lease the same store.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from storeplane.db import outage

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Execution option read by the SQLite ``begin`` hook: "DEFERRED" (default) or "IMMEDIATE".
SQLITE_BEGIN_OPTION = "storeplane_sqlite_begin"
# Any constant: serialises concurrent ``migrate`` calls of several replicas on PostgreSQL.
_MIGRATION_LOCK_ID = 0x5703E91A


# The API serves requests from a thread pool (40 threads by default) and the reconciler uses
# threads too: a pool smaller than that makes requests queue for a connection, and overflow
# connections are opened and closed per request. Keep enough open.
POOL_SIZE = 32
POOL_OVERFLOW = 16


def create_engine_for(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url`` with storeplane's per-backend settings (see the module doc)."""
    parsed = make_url(url)
    if parsed.database not in (None, "", ":memory:"):
        kwargs.setdefault("pool_size", POOL_SIZE)
        kwargs.setdefault("max_overflow", POOL_OVERFLOW)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine)
        outage.install(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    # Short waits: during an outage a request should fail fast (503), not hang for the
    # driver's defaults (libpq has no connect timeout; the pool waits 30 s for a connection).
    kwargs.setdefault("pool_timeout", 5)
    kwargs.setdefault("connect_args", {"connect_timeout": 3})
    engine = create_engine(url, **kwargs)
    outage.install(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN away from the sqlite3 module so that _on_begin decides its kind.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
        if mode != "NONE":  # read_connection: each statement is its own snapshot
            connection.exec_driver_sql(f"BEGIN {mode}")


@contextmanager
def read_connection(engine: Engine) -> Iterator[Connection]:
    """A connection for the API's hot reads (a store, a page, a token): on SQLite no
    ``BEGIN`` is sent, so each statement runs in its own snapshot (WAL readers never wait for
    writers) and the extra round of ``BEGIN`` costs nothing; a page's count and its rows may
    then see two consecutive states, which a paging client cannot tell from a change between
    two pages. Elsewhere, a plain connection."""
    with engine.connect() as connection:
        yield connection.execution_options(**{SQLITE_BEGIN_OPTION: "NONE"})


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """One read-write transaction: ``BEGIN IMMEDIATE`` on SQLite, a plain one elsewhere."""
    with engine.connect() as connection:
        connection = connection.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        with connection.begin():
            yield connection


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def migrate(url: str) -> None:
    """Upgrade the database at ``url`` to the newest revision; a no-op when it is current.

    Safe to call from several processes at once: SQLite serialises them with
    ``BEGIN IMMEDIATE``, PostgreSQL with a transaction-scoped advisory lock.
    """
    engine = create_engine_for(url)
    try:
        with write_transaction(engine) as connection:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_ID})")
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        engine.dispose()
