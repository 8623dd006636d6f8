"""The API's awaited reads on PostgreSQL (storeplane/db/pgreads.py) answer what the sync reads
answer, and a cached answer is served only at the snapshot it was read in: any commit, from
any connection, makes the next request's token check see another snapshot and miss."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from storeplane.db import SqlStoreRepository, SqlUserRepository, create_engine_for
from storeplane.db.pgreads import request_snapshot
from storeplane.db.repository import _encode_cursor
from storeplane.domain.errors import DatabaseUnavailableError, StoreNotFoundError
from storeplane.domain.store import Phase
from storeplane.domain.users import Role
from storeplane.services import auth
from tests.db.helpers import T0, make_store

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(repo: SqlStoreRepository) -> Iterator[tuple[SqlStoreRepository, SqlUserRepository, str]]:
    if not repo.reads_async:
        pytest.skip("awaited reads are PostgreSQL's (SQLite has its data_version cache)")
    users = SqlUserRepository(repo.engine)
    owner = auth.create_user(users, "owner", Role.MEMBER)
    other = auth.create_user(users, "other", Role.MEMBER)
    for n in range(7):
        store = make_store(f"shop-{n}", now=T0 + timedelta(seconds=n))
        store = replace(
            store,
            owner_id=(owner if n % 2 else other).id,
            phase=Phase.READY if n % 3 else Phase.PROVISIONING,
            spec=replace(store.spec, labels={"tier": "gold"} if n < 3 else {}),
        )
        repo.create(store, [])
    _, token = auth.issue_token(users, owner, "test")
    yield repo, users, token
    repo.engine.dispose()


PAGES: list[dict[str, Any]] = [
    {"limit": 50},
    {"limit": 2},
    {"limit": 3, "phase": Phase.READY},
    {"limit": 10, "query": "SHOP-1"},
    {"limit": 10, "labels": {"tier": "gold"}},
    {"limit": 10, "include_deleted": True},
    {"limit": 2, "cursor": _encode_cursor(T0 + timedelta(seconds=4), "store-zzzzzzzz")},
    {"limit": 10, "phase": Phase.DELETED},
]


@pytest.mark.parametrize(
    "filters",
    PAGES,
    ids=[
        "the first page",
        "a short page with a next cursor",
        "one phase",
        "a name search in another case",
        "a label",
        "deleted stores included",
        "a page after a cursor",
        "an empty page",
    ],
)
async def test_an_awaited_page_is_the_sync_page(
    pg: tuple[SqlStoreRepository, SqlUserRepository, str], filters: dict[str, Any]
) -> None:
    repo, _users, _token = pg
    owner_id = repo.list_page(limit=1).items[0].owner_id
    for scope in ({}, {"owner_id": owner_id}):
        assert await repo.list_page_async(**filters, **scope) == repo.list_page(**filters, **scope)


async def test_an_awaited_store_is_the_sync_store_and_a_missing_one_is_not_found(
    pg: tuple[SqlStoreRepository, SqlUserRepository, str],
) -> None:
    repo, _users, _token = pg
    for store in repo.list_page(limit=50).items:
        assert await repo.get_async(store.id) == repo.get(store.id)
    with pytest.raises(StoreNotFoundError):
        await repo.get_async("store-nothere1")


async def test_a_token_check_reads_the_user_and_refuses_a_revoked_token_at_once(
    pg: tuple[SqlStoreRepository, SqlUserRepository, str],
) -> None:
    _repo, users, token = pg
    digest = auth.hash_token(token)
    assert await users.authenticate_async(digest) == users.authenticate(digest)
    record = next(t for t in users.tokens() if t.token_hash == digest)
    auth.revoke_token(users, record.id)
    assert await users.authenticate_async(digest) is None
    assert await users.authenticate_async("0" * 64) is None


def _commit_through_another_engine(repo: SqlStoreRepository) -> None:
    other = SqlStoreRepository(create_engine_for(repo.engine.url.render_as_string(False)))
    other.create(make_store("late-shop"), [])
    other.engine.dispose()


async def test_a_cached_answer_lasts_until_any_connection_commits(
    pg: tuple[SqlStoreRepository, SqlUserRepository, str],
) -> None:
    repo, users, token = pg
    digest = auth.hash_token(token)

    async def request(*reads: str) -> list[Any]:
        """One request's cache lookups after its token check, in its own context (task)."""

        async def run() -> list[Any]:
            await users.authenticate_async(digest)
            return [
                repo.cached_page(limit=10) if r == "page" else repo.cached_get(r) for r in reads
            ]

        return await asyncio.create_task(run())  # a task runs in a copy of the context

    store_id = repo.list_page(limit=1).items[0].id
    assert await request("page", store_id) == [None, None]
    page, one = await repo.list_page_async(limit=10), await repo.get_async(store_id)
    assert await request("page", store_id) == [page, one]  # same snapshot: served cached

    _commit_through_another_engine(repo)

    assert await request("page", store_id) == [None, None]
    assert (await repo.list_page_async(limit=10)).count == page.count + 1
    assert request_snapshot.get() is None  # requests set their own context only


async def test_a_database_that_cannot_be_reached_is_an_outage() -> None:
    repo = SqlStoreRepository(create_engine_for("postgresql+psycopg://storeplane@127.0.0.1:9/x"))
    with pytest.raises(DatabaseUnavailableError):
        await repo.get_async("store-abcd1234")
    repo.engine.dispose()


async def test_a_page_shape_compiled_once_answers_each_requests_own_values(
    pg: tuple[SqlStoreRepository, SqlUserRepository, str],
) -> None:
    repo, _users, _token = pg
    owners = sorted({s.owner_id for s in repo.list_page(limit=50).items if s.owner_id})
    later = _encode_cursor(T0 + timedelta(seconds=5), "store-zzzzzzzz")
    earlier = _encode_cursor(T0 + timedelta(seconds=2), "store-zzzzzzzz")
    same_shapes: list[list[dict[str, Any]]] = [
        [{"limit": 2}, {"limit": 5}],
        [{"limit": 10, "phase": Phase.READY}, {"limit": 10, "phase": Phase.PROVISIONING}],
        [{"limit": 10, "query": "shop-1"}, {"limit": 10, "query": "shop-2"}],
        [{"limit": 10, "owner_id": owners[0]}, {"limit": 10, "owner_id": owners[1]}],
        [{"limit": 2, "cursor": later}, {"limit": 2, "cursor": earlier}],
        [{"limit": 10, "labels": {"tier": "gold"}}, {"limit": 10, "labels": {"tier": "none"}}],
    ]
    for shape in same_shapes:
        answers = [await repo.list_page_async(**filters) for filters in shape]
        assert answers == [repo.list_page(**filters) for filters in shape]
        assert answers[0] != answers[1]  # the values, not only the shape, were used
