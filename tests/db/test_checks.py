"""``SqlCheckRepository`` on SQLite and PostgreSQL: one running check per store, exactly one
runner per check, outcomes written only by the runner that holds the check; and migration
0003 on a database that already has stores."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import text

from storeplane.db import SqlCheckRepository, SqlStoreRepository, create_engine_for
from storeplane.db.engine import alembic_config
from storeplane.domain.checks import CheckStatus, SmokeCheck
from storeplane.domain.conditions import Reason
from storeplane.domain.errors import CheckNotFoundError
from storeplane.domain.events import Event
from storeplane.domain.store import Store, WorkloadRuntime
from tests.db.helpers import T0, created_event, make_store

LEASE = timedelta(seconds=30)


@pytest.fixture
def checks(repo: SqlStoreRepository) -> SqlCheckRepository:
    return SqlCheckRepository(repo.engine)


def _store(repo: SqlStoreRepository, name: str = "acme-shop") -> Store:
    store = make_store(name)
    return repo.create(store, [created_event(store)])


def _request(store: Store, minutes: int = 0) -> SmokeCheck:
    return SmokeCheck.request(store.id, requested_by="alice", now=T0 + timedelta(minutes=minutes))


def _event(check: SmokeCheck, reason: str = Reason.SMOKE_TEST_REQUESTED) -> Event:
    return Event.normal(check.store_id, reason, f"check {check.id}", time=T0, generation=1)


def test_a_check_is_recorded_with_its_event_and_read_back(
    repo: SqlStoreRepository, checks: SqlCheckRepository
) -> None:
    store = _store(repo)
    check, created = checks.create(_request(store), [_event(_request(store))])
    assert created
    assert checks.get(store.id, check.id) == check
    assert checks.list_for(store.id) == [check]
    assert repo.events(store.id)[-1].reason == Reason.SMOKE_TEST_REQUESTED


def test_a_second_request_while_one_runs_gets_the_running_one(
    repo: SqlStoreRepository, checks: SqlCheckRepository
) -> None:
    store = _store(repo)
    first, _ = checks.create(_request(store), [])
    again, created = checks.create(_request(store, 1), [_event(first)])
    assert (again.id, created) == (first.id, False)
    assert len(checks.list_for(store.id)) == 1
    assert [e.reason for e in repo.events(store.id)] == [Reason.CREATED]  # nothing written


def test_concurrent_requests_make_one_running_check(
    repo: SqlStoreRepository, checks: SqlCheckRepository
) -> None:
    store = _store(repo)
    results: list[tuple[SmokeCheck, bool]] = []
    barrier = threading.Barrier(6)

    def ask(i: int) -> None:
        barrier.wait()
        results.append(checks.create(_request(store, i), []))

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(created for _, created in results) == 1
    assert len({c.id for c, _ in results}) == 1


def test_a_finished_check_makes_room_for_the_next_one_and_lists_are_newest_first(
    repo: SqlStoreRepository, checks: SqlCheckRepository
) -> None:
    store = _store(repo)
    first, _ = checks.create(_request(store), [])
    (claimed,) = checks.claim(owner="a", until=T0 + LEASE, limit=5)
    assert checks.finish(claimed.passed("order_1", "found", now=T0), runner="a", events=[])
    second, created = checks.create(_request(store, 5), [])
    assert created and second.id != first.id
    assert [c.id for c in checks.list_for(store.id)] == [second.id, first.id]
    assert checks.get(store.id, first.id).status is CheckStatus.PASSED


def test_an_unknown_check_or_another_stores_check_is_not_found(
    repo: SqlStoreRepository, checks: SqlCheckRepository
) -> None:
    mine, other = _store(repo, "mine-shop"), _store(repo, "other-shop")
    check, _ = checks.create(_request(mine), [])
    with pytest.raises(CheckNotFoundError, match="has no check"):
        checks.get(other.id, check.id)
    with pytest.raises(CheckNotFoundError):
        checks.get(mine.id, "check-nothere000")


def test_each_check_goes_to_exactly_one_runner(
    repo: SqlStoreRepository, checks: SqlCheckRepository
) -> None:
    made = [checks.create(_request(_store(repo, f"shop-{i}"), i), [])[0] for i in range(4)]
    got: dict[str, list[str]] = {}
    barrier = threading.Barrier(3)

    def run(owner: str) -> None:
        barrier.wait()
        got[owner] = [c.id for c in checks.claim(owner=owner, until=T0 + LEASE, limit=10)]

    threads = [threading.Thread(target=run, args=(f"r{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    taken = [c for ids in got.values() for c in ids]
    assert sorted(taken) == sorted(c.id for c in made)  # all taken, none twice
    assert checks.claim(owner="late", until=T0 + LEASE, limit=10) == []


def test_only_the_runner_holding_a_check_writes_its_progress_and_outcome(
    repo: SqlStoreRepository, checks: SqlCheckRepository
) -> None:
    store = _store(repo)
    checks.create(_request(store), [])
    (check,) = checks.claim(owner="a", until=T0 + LEASE, limit=1)
    assert checks.save_progress(check.at_step("place order"), runner="a")
    assert not checks.save_progress(check.at_step("hijack"), runner="b")
    assert checks.get(store.id, check.id).step == "place order"
    failed = check.failed("complete cart", "HTTP 500", now=T0)
    assert not checks.finish(failed, runner="b", events=[_event(check)])
    assert checks.finish(failed, runner="a", events=[_event(check, Reason.SMOKE_TEST_FAILED)])
    assert not checks.finish(check.passed("o", "late", now=T0), runner="a", events=[])
    stored = checks.get(store.id, check.id)
    assert (stored.status, stored.step, stored.lease_expires_at) == (
        CheckStatus.FAILED,
        "complete cart",
        None,
    )
    assert repo.events(store.id)[-1].reason == Reason.SMOKE_TEST_FAILED


def test_stale_checks_are_those_whose_runner_lease_expired_or_that_the_caller_held(
    repo: SqlStoreRepository, checks: SqlCheckRepository
) -> None:
    a, b, c = (_store(repo, f"shop-{x}") for x in "abc")
    for store in (a, b, c):
        checks.create(_request(store), [])
    (held_a,) = checks.claim(owner="alive", until=T0 + LEASE, limit=1)
    (held_b,) = checks.claim(owner="me", until=T0 + LEASE, limit=1)
    # the third is never claimed: not stale, just waiting for a runner
    assert checks.stale(now=T0) == []
    assert [s.id for s in checks.stale(now=T0, owner="me")] == [held_b.id]
    later = T0 + LEASE + timedelta(seconds=1)
    assert {s.id for s in checks.stale(now=later)} == {held_a.id, held_b.id}
    interrupted = held_a.interrupted(now=later)
    assert checks.finish(interrupted, runner="alive", events=[])
    assert [s.id for s in checks.stale(now=later)] == [held_b.id]


def test_the_workload_runtime_is_saved_with_the_status(repo: SqlStoreRepository) -> None:
    store = _store(repo)
    (claimed,) = repo.claim_due(owner="r", now=T0, lease=LEASE, limit=1)
    assert repo.save_status(replace(claimed, workload_runtime=WorkloadRuntime.LOCAL), owner="r")
    assert repo.get(store.id).workload_runtime is WorkloadRuntime.LOCAL


def test_migration_0003_keeps_existing_stores_with_an_unknown_runtime(db_url: str) -> None:
    config = alembic_config()
    engine = create_engine_for(db_url)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0002")
        before = SqlStoreRepository(engine)
        store = make_store("old-shop")
        # Written the way 0002's code wrote it: without the new column.
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO stores (id, name, engine, plan, generation, observed_generation,"
                    " phase, conditions, url, created_at, updated_at, failures, revision)"
                    " VALUES (:id, 'old-shop', 'medusa', 'small', 1, 0, 'Pending', '[]', NULL,"
                    " :t, :t, 0, 1)"
                ),
                {"id": store.id, "t": T0.replace(tzinfo=None)},
            )
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        assert before.get(store.id).workload_runtime is None
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0002")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM stores")).scalar_one() == 1
    finally:
        engine.dispose()
