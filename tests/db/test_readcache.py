"""The read cache of ``get`` and ``list_page`` (storeplane/db/readcache.py): on SQLite an
answer is reused only while nothing committed, whoever committed (this process's other
connections, another process); PostgreSQL has none."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from storeplane.db import SqlStoreRepository, create_engine_for, migrate
from storeplane.domain.store import Phase
from tests.db.helpers import make_store

# A write from another process, as a second API process or the reconciler would make it
# (the sqlite3 module alone: importing storeplane would cost seconds on a loaded machine).
_OTHER_PROCESS = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1])
connection.execute("UPDATE stores SET phase = 'Ready' WHERE id = ?", (sys.argv[2],))
connection.commit()
"""


@pytest.fixture
def sqlite_repo(tmp_path: Path) -> SqlStoreRepository:
    url = f"sqlite:///{tmp_path / 'storeplane.db'}"
    migrate(url)
    return SqlStoreRepository(create_engine_for(url))


def _write_in_this_process(repo: SqlStoreRepository, store_id: str) -> None:
    # Another repository (engine, pool, connections) on the same file.
    other = SqlStoreRepository(create_engine_for(str(repo.engine.url)))
    other.create(make_store("second-shop"), [])
    other.engine.dispose()


def _write_in_another_process(repo: SqlStoreRepository, store_id: str) -> None:
    subprocess.run(
        [sys.executable, "-c", _OTHER_PROCESS, str(repo.engine.url.database), store_id],
        check=True,
    )


def _write_through_the_same_repository(repo: SqlStoreRepository, store_id: str) -> None:
    repo.create(make_store("second-shop"), [])


@pytest.mark.parametrize(
    "write",
    [_write_through_the_same_repository, _write_in_this_process, _write_in_another_process],
    ids=[
        "a write through the same repository drops the cached answers",
        "a write through another engine in this process drops them",
        "a write from another process drops them",
    ],
)
def test_cached_answers_last_until_anything_commits(
    sqlite_repo: SqlStoreRepository, write: Callable[[SqlStoreRepository, str], None]
) -> None:
    repo = sqlite_repo
    store = make_store("first-shop")
    repo.create(store, [])
    assert repo.cached_get(store.id) is None and repo.cached_page(limit=10) is None
    page, one = repo.list_page(limit=10), repo.get(store.id)
    assert repo.cached_page(limit=10) is page and repo.cached_get(store.id) is one
    assert repo.cached_page(limit=10, phase=Phase.READY) is None  # other filters, other key

    write(repo, store.id)

    assert repo.cached_page(limit=10) is None and repo.cached_get(store.id) is None
    fresh = repo.list_page(limit=10)
    if write is _write_in_another_process:
        assert repo.get(store.id).phase == Phase.READY
        assert fresh.count == 1
    else:
        assert fresh.count == 2 and len(fresh.items) == 2
    repo.engine.dispose()


def test_only_sqlite_files_get_a_read_cache(repo: SqlStoreRepository) -> None:
    store = make_store("plain-shop")
    repo.create(store, [])
    repo.get(store.id)
    repo.list_page(limit=10)
    if repo.engine.dialect.name == "sqlite":
        assert repo.cached_get(store.id) is not None
    else:
        assert repo.results is None
        assert repo.cached_get(store.id) is None and repo.cached_page(limit=10) is None
