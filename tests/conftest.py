"""Fixtures shared by the whole suite: a database URL for each backend.

``db_url`` runs a test once on SQLite (a file in the test's tmp dir) and once on PostgreSQL
(a fresh schema per test in the server named by ``STOREPLANE_TEST_POSTGRES_URL``; start one
with ``scripts/postgres-test.sh start``). Without that variable the PostgreSQL run is skipped.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy
from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from storeplane.db import SqlStoreRepository

POSTGRES_URL_ENV = "STOREPLANE_TEST_POSTGRES_URL"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (not migrated) on SQLite, then on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'db' / 'storeplane.db'}"
        return
    base = os.environ.get(POSTGRES_URL_ENV)
    if not base:
        pytest.skip(
            f"{POSTGRES_URL_ENV} is not set; run `export {POSTGRES_URL_ENV}="
            '"$(scripts/postgres-test.sh start)"` to test against PostgreSQL too'
        )
    schema = f"test_{uuid.uuid4().hex[:16]}"
    admin = sqlalchemy.create_engine(base)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture
def migrated_url(db_url: str) -> str:
    """``db_url`` after ``migrate``."""
    from storeplane.db import migrate

    migrate(db_url)
    return db_url


@pytest.fixture
def repo(migrated_url: str) -> Iterator[SqlStoreRepository]:
    """A SqlStoreRepository on a fresh, migrated database of each backend."""
    from storeplane.db import SqlStoreRepository, create_engine_for

    engine = create_engine_for(migrated_url)
    yield SqlStoreRepository(engine)
    engine.dispose()
