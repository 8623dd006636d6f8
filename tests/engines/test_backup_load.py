"""The Medusa recipe's load scripts run by the real PostgreSQL tools against a real server
(the one ``STOREPLANE_TEST_POSTGRES_URL`` names, in a database made for the test).

An older version's dump replaces the whole schema (a newer version's table goes, which
``pg_restore --clean`` would leave behind) together with storeplane's record of finished
migrations, so the migration Job runs again; a dump that cannot be loaded leaves the data
exactly as it was (one transaction).
"""

from __future__ import annotations

import glob
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy.engine import make_url

from storeplane.domain.store import Engine
from storeplane.engines.backups import recipe_for

TOOLS = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


@pytest.fixture
def database() -> Iterator[dict[str, str]]:
    """PG* variables of a fresh database (dropped afterwards)."""
    base = os.environ.get("STOREPLANE_TEST_POSTGRES_URL")
    if not base or not TOOLS:
        pytest.skip("needs STOREPLANE_TEST_POSTGRES_URL and PostgreSQL's client tools")
    name = f"load_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(base)
    env = {"PGHOST": str(url.host), "PGPORT": str(url.port), "PGUSER": str(url.username),
           "PGDATABASE": name, "PGPASSWORD": url.password or ""}  # fmt: skip
    try:
        yield env
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.dispose()


def _sh(script: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    path = f"{TOOLS[-1]}:{os.environ['PATH']}"
    return subprocess.run(["sh", "-c", script], env={**os.environ, **env, "PATH": path},
                          cwd=cwd, capture_output=True, text=True, timeout=60)  # fmt: skip


def _older_load(tmp_path: Path) -> str:
    """The Job's script for an older dump, with its /tmp file and the dump in ``tmp_path``."""
    script = recipe_for(Engine.MEDUSA).load_script_for("DUMPFILE", migrate=True)
    return script.replace("/tmp/", f"{tmp_path}/").replace("DUMPFILE", f"{tmp_path}/a.dump")


def _sql(env: dict[str, str], cwd: Path, sql: str) -> str:
    done = _sh(f'psql -v ON_ERROR_STOP=1 -tAq -c "{sql}"', env, cwd)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_an_older_dump_replaces_the_schema_and_the_migration_record(
    database: dict[str, str], tmp_path: Path
) -> None:
    medusa = recipe_for(Engine.MEDUSA)
    # "Version A": one table with an order; its dump.
    _sql(
        database,
        tmp_path,
        "CREATE TABLE orders (id text PRIMARY KEY); INSERT INTO orders VALUES ('A')",
    )
    dumped = _sh(f"{medusa.stream} > {tmp_path}/a.dump", database, tmp_path)
    assert dumped.returncode == 0, dumped.stderr
    # "Version B" migrated it: a new table, another order, and the record of its migration Job.
    _sql(database, tmp_path, "CREATE TABLE search_index (id int); INSERT INTO orders VALUES ('B'); "
         "CREATE TABLE storeplane_migrations (job text PRIMARY KEY); "
         "INSERT INTO storeplane_migrations VALUES ('medusa-migrate-b')")  # fmt: skip
    script = _older_load(tmp_path)
    loaded = _sh(script, database, tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    assert _sql(database, tmp_path, "SELECT string_agg(id, ',') FROM orders") == "A"
    tables = _sql(
        database,
        tmp_path,
        "SELECT string_agg(tablename, ',') FROM pg_tables WHERE schemaname = 'public'",
    )
    assert tables == "orders"  # search_index and the migration record went with the schema


def test_a_dump_that_cannot_be_loaded_leaves_the_data_as_it_was(
    database: dict[str, str], tmp_path: Path
) -> None:
    medusa = recipe_for(Engine.MEDUSA)
    _sql(
        database,
        tmp_path,
        "CREATE TABLE orders (id text PRIMARY KEY); INSERT INTO orders VALUES ('A')",
    )
    dumped = _sh(f"{medusa.stream} > {tmp_path}/a.dump", database, tmp_path)
    assert dumped.returncode == 0, dumped.stderr
    _sql(database, tmp_path, "INSERT INTO orders VALUES ('B')")
    # The dump's SQL fails at its end (a duplicate key), after the schema was dropped.
    script = _older_load(tmp_path)
    failing = script.replace(
        f"-f {tmp_path}/restore.sql",
        f"-f {tmp_path}/restore.sql -c \"INSERT INTO public.orders VALUES ('A')\"",
    )
    assert failing != script
    loaded = _sh(failing, database, tmp_path)
    assert loaded.returncode != 0
    assert "duplicate key" in loaded.stderr
    assert _sql(database, tmp_path, "SELECT string_agg(id, ',' ORDER BY id) FROM orders") == "A,B"
