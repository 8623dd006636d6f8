from __future__ import annotations

from collections.abc import Iterator

import pytest

from storeplane.db import SqlStoreRepository, create_engine_for, migrate


@pytest.fixture
def migrated_url(db_url: str) -> str:
    migrate(db_url)
    return db_url


@pytest.fixture
def repo(migrated_url: str) -> Iterator[SqlStoreRepository]:
    engine = create_engine_for(migrated_url)
    yield SqlStoreRepository(engine)
    engine.dispose()
