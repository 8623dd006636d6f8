"""Fixtures shared by the whole suite: a database URL for each backend; and the order and
xdist scheduling of the tests (the two hooks at the end).

``db_url`` runs a test once on SQLite (a file in the test's tmp dir) and once on PostgreSQL
(a fresh schema per test in the server named by ``STOREPLANE_TEST_POSTGRES_URL``; start one
with ``scripts/postgres-test.sh start``). Without that variable the PostgreSQL run is skipped.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

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


@pytest.fixture(scope="session")
def migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file after ``migrate``, made once per session (and worker)."""
    import sqlite3

    from storeplane.db import migrate

    path = tmp_path_factory.mktemp("migrated-template") / "storeplane.db"
    migrate(f"sqlite:///{path}")
    with sqlite3.connect(path) as connection:  # everything in the main file, none in a -wal
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture
def migrated_url(db_url: str, request: pytest.FixtureRequest) -> str:
    """``db_url`` after ``migrate``. On SQLite, a copy of a file ``migrate`` made once this
    session: the same bytes, without running every revision again for each of the hundreds of
    tests that take this fixture (about half a second each). PostgreSQL migrates each time."""
    from storeplane.db import migrate

    if db_url.startswith("sqlite:///"):
        template: Path = request.getfixturevalue("migrated_sqlite_template")
        target = Path(db_url.removeprefix("sqlite:///"))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template, target)
        return db_url
    migrate(db_url)
    return db_url


@pytest.fixture
def repo(migrated_url: str) -> Iterator[SqlStoreRepository]:
    """A SqlStoreRepository on a fresh, migrated database of each backend."""
    from storeplane.db import SqlStoreRepository, create_engine_for

    engine = create_engine_for(migrated_url)
    yield SqlStoreRepository(engine)
    engine.dispose()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The tests on the session's shared real-Medusa dev (tests/real_medusa.py) come first, the
    one that deletes the shared store (marked ``deletes_real_shop``) after every other. First:
    they are the longest chain, so under xdist the other worker runs the rest of the suite
    meanwhile instead of waiting for it at the end."""
    from tests import real_medusa

    real = [i for i in items if "real_dev" in getattr(i, "fixturenames", ())]
    for item in real:
        module = item.nodeid.split("::", 1)[0]
        if module not in real_medusa.MODULES:
            raise pytest.UsageError(
                f"{item.nodeid} uses real_dev: add {module} to tests/real_medusa.py's MODULES "
                "(one xdist worker must run every test on the shared real dev, in order)"
            )
    last = [i for i in real if i.get_closest_marker(real_medusa.DELETES_MARK)]
    chosen = {id(i) for i in real}
    items[:] = [i for i in real if i not in last] + last + [i for i in items if id(i) not in chosen]


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadscope`` (scripts/test.sh) sends each module (or class) to one worker, so a
    module-scoped fixture is made once; here the real-Medusa modules are one scope too, so the
    shared real dev and its stores are made once and used in order. (xdist's own
    ``--dist loadgroup`` cannot do it with pytest 9: it renames items through an attribute
    pytest no longer reads.)"""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    from tests import real_medusa

    class Scheduling(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.split("::", 1)[0] in real_medusa.MODULES:
                return real_medusa.GROUP
            return str(super()._split_scope(nodeid))

    return Scheduling(config, log)
