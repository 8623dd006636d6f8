"""The raw-row reader of the read path: same stores as the plain mapping, a changed row is a
new store, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from storeplane.db import SqlStoreRepository
from storeplane.db.mapping import store_from_row
from storeplane.db.tables import StoreRow, stores
from storeplane.domain.conditions import ConditionStatus, ConditionType, set_condition
from storeplane.domain.store import Phase
from tests.db.helpers import T0, make_store


def _plain(repo: SqlStoreRepository, store_id: str) -> object:
    """The store as SQLAlchemy's own result processing and ``store_from_row`` make it."""
    with repo.engine.connect() as connection:
        row = connection.execute(select(stores).where(StoreRow.id == store_id)).one()
    return store_from_row(row._mapping)


def test_get_and_list_read_what_the_plain_mapping_reads(repo: SqlStoreRepository) -> None:
    store = make_store("raw-shop")
    repo.create(store, [])
    assert repo.get(store.id) == _plain(repo, store.id) == store
    (listed,) = repo.list_page(limit=5).items
    assert listed == store


def test_an_unchanged_row_is_the_same_object_and_a_changed_one_a_new_one(
    repo: SqlStoreRepository,
) -> None:
    store = make_store("cached-shop")
    repo.create(store, [])
    first = repo.get(store.id)
    assert repo.get(store.id) is first
    assert repo.list_page(limit=5).items[0] is first
    conditions = set_condition(
        first.conditions,
        ConditionType.READY,
        ConditionStatus.TRUE,
        "StoreReady",
        "the store answers",
        now=T0,
        generation=1,
    )
    with repo.engine.begin() as connection:  # a status write from "another process"
        connection.execute(
            stores.update()
            .where(StoreRow.id == store.id)
            .values(phase=Phase.READY.value, conditions=[c.to_json() for c in conditions])
        )
    again = repo.get(store.id)
    assert again is not first
    assert again.phase == Phase.READY and again.conditions == conditions
    assert again == _plain(repo, store.id)
