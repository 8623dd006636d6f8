"""SqlStoreRepository against SQLite and PostgreSQL: the StoreRepository contract."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, timedelta, timezone

import pytest

from storeplane.db import SqlStoreRepository, create_engine_for
from storeplane.domain.conditions import ConditionStatus, ConditionType, Reason, set_condition
from storeplane.domain.errors import InvalidRequestError, NameTakenError, StoreNotFoundError
from storeplane.domain.events import Event
from storeplane.domain.plans import PlanName
from storeplane.domain.store import Phase, Store
from tests.db.helpers import T0, created_event, make_store

LEASE = timedelta(seconds=30)


def finish_deletion(repo: SqlStoreRepository, store: Store) -> Store:
    """Do what the reconciler does at the end of a teardown: lease, then save Deleted."""
    deleting = store.request_deletion(now=T0)
    assert repo.save_intent(deleting, expected_revision=store.revision, events=[])
    claimed = repo.claim_due(owner="reconciler", now=T0, lease=LEASE, limit=100)
    (mine,) = [s for s in claimed if s.id == store.id]
    for other in claimed:
        if other.id != store.id:
            repo.release(other.id, owner="reconciler")
    deleted = replace(mine, phase=Phase.DELETED, deleted_at=T0, next_reconcile_at=None)
    assert repo.save_status(deleted, owner="reconciler")
    repo.release(store.id, owner="reconciler")
    return deleted


class TestCreateAndGet:
    def test_a_created_store_reads_back_equal(self, repo: SqlStoreRepository) -> None:
        store = make_store()
        repo.create(store, [created_event(store)])
        assert repo.get(store.id) == store

    def test_datetimes_come_back_aware_utc_whatever_zone_they_were_written_in(
        self, repo: SqlStoreRepository
    ) -> None:
        plus_two = timezone(timedelta(hours=2))
        store = make_store(now=T0.astimezone(plus_two))
        repo.create(store, [])
        read = repo.get(store.id)
        assert read.created_at == T0
        assert read.created_at.tzinfo == UTC
        assert read.conditions[0].last_transition_time == T0

    def test_an_unknown_id_is_not_found(self, repo: SqlStoreRepository) -> None:
        with pytest.raises(StoreNotFoundError):
            repo.get("store-missing0")

    @pytest.mark.parametrize(
        ("prepare", "taken"),
        [
            (lambda repo, store: store, True),
            (
                lambda repo, store: (
                    repo.save_intent(
                        store.request_deletion(now=T0), expected_revision=1, events=[]
                    ),
                    store,
                )[1],
                True,
            ),
            (finish_deletion, False),
        ],
        ids=[
            "a live store's name is taken",
            "a deleting store's name is still taken",
            "a deleted store's name is free again",
        ],
    )
    def test_name_uniqueness_among_live_stores(
        self, repo: SqlStoreRepository, prepare: object, taken: bool
    ) -> None:
        first = make_store("acme")
        repo.create(first, [])
        prepare(repo, first)  # type: ignore[operator]
        second = make_store("acme")
        if taken:
            with pytest.raises(NameTakenError):
                repo.create(second, [created_event(second)])
            assert repo.events(second.id) == []
        else:
            repo.create(second, [])
            assert repo.get(second.id).name == "acme"


class TestListPage:
    def test_pages_walk_every_store_newest_first_once(self, repo: SqlStoreRepository) -> None:
        # Pairs of stores share a creation time, so the id breaks ties (descending too: one
        # direction lets the (created_at, id) index be read backwards, no sort per page).
        stores = [make_store(f"shop-{i:02d}", now=T0 + timedelta(seconds=i // 2)) for i in range(7)]
        for store in stores:
            repo.create(store, [])
        seen: list[str] = []
        cursor = None
        while True:
            page = repo.list_page(limit=3, cursor=cursor)
            assert page.count == 7
            seen += [s.id for s in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
        expected = sorted(stores, key=lambda s: (s.created_at, s.id), reverse=True)
        assert seen == [s.id for s in expected]

    @pytest.mark.parametrize(
        ("phase", "query", "expected"),
        [
            (None, None, {"alpha-shop", "beta-shop", "gamma-store"}),
            (Phase.DELETING, None, {"beta-shop"}),
            (Phase.DELETED, None, {"old-shop"}),
            (None, "SHOP", {"alpha-shop", "beta-shop"}),
            (None, "ha-s", {"alpha-shop"}),
            (None, "%", set()),
            (None, "_", set()),
            (Phase.PENDING, "store", {"gamma-store"}),
        ],
        ids=[
            "no filter lists live stores only",
            "a phase filter keeps that phase",
            "deleted stores are listed when asked for",
            "the query ignores case",
            "the query matches any substring",
            "a percent sign is matched literally",
            "an underscore is matched literally",
            "phase and query combine",
        ],
    )
    def test_filters(
        self,
        repo: SqlStoreRepository,
        phase: Phase | None,
        query: str | None,
        expected: set[str],
    ) -> None:
        for name in ("alpha-shop", "beta-shop", "gamma-store"):
            repo.create(make_store(name), [])
        beta = repo.list_page(query="beta").items[0]
        assert repo.save_intent(beta.request_deletion(now=T0), expected_revision=1, events=[])
        old = make_store("old-shop")
        repo.create(old, [])
        finish_deletion(repo, old)

        page = repo.list_page(phase=phase, query=query)
        assert {s.name for s in page.items} == expected
        assert page.count == len(expected)

    @pytest.mark.parametrize(
        ("phase", "expected"),
        [(None, {"live-shop", "old-shop"}), (Phase.DELETED, {"old-shop"})],
        ids=[
            "include_deleted lists live and deleted stores together",
            "include_deleted with a phase keeps that phase",
        ],
    )
    def test_include_deleted(
        self, repo: SqlStoreRepository, phase: Phase | None, expected: set[str]
    ) -> None:
        repo.create(make_store("live-shop"), [])
        old = make_store("old-shop")
        repo.create(old, [])
        finish_deletion(repo, old)
        page = repo.list_page(phase=phase, include_deleted=True)
        assert {s.name for s in page.items} == expected
        assert page.count == len(expected)

    @pytest.mark.parametrize("limit", [0, 201], ids=["zero", "over 200"])
    def test_a_limit_out_of_range_is_refused(self, repo: SqlStoreRepository, limit: int) -> None:
        with pytest.raises(InvalidRequestError) as caught:
            repo.list_page(limit=limit)
        assert caught.value.field == "limit"

    @pytest.mark.parametrize(
        "cursor",
        ["not base64!", "bm90IGpzb24", "eyJ4IjoxfQ"],
        ids=["garbage", "not json", "wrong keys"],
    )
    def test_a_forged_cursor_is_refused(self, repo: SqlStoreRepository, cursor: str) -> None:
        with pytest.raises(InvalidRequestError) as caught:
            repo.list_page(cursor=cursor)
        assert caught.value.field == "cursor"


class TestSaveIntent:
    def test_an_intent_write_lands_with_its_events(self, repo: SqlStoreRepository) -> None:
        store = make_store()
        repo.create(store, [created_event(store)])
        changed = store.with_plan(PlanName.LARGE, now=T0, deadline=LEASE)
        event = Event.normal(
            store.id, Reason.UPDATE_REQUESTED, "plan", time=T0, generation=2, actor="tester"
        )
        assert repo.save_intent(changed, expected_revision=1, events=[event])
        read = repo.get(store.id)
        assert (read.spec.plan, read.generation, read.revision) == (PlanName.LARGE, 2, 2)
        assert [e.reason for e in repo.events(store.id)] == [
            Reason.CREATED,
            Reason.UPDATE_REQUESTED,
        ]

    def test_a_stale_revision_writes_nothing(self, repo: SqlStoreRepository) -> None:
        store = make_store()
        repo.create(store, [])
        first = store.with_plan(PlanName.MEDIUM, now=T0, deadline=LEASE)
        assert repo.save_intent(first, expected_revision=1, events=[])
        late = store.with_plan(PlanName.LARGE, now=T0, deadline=LEASE)
        event = Event.normal(store.id, Reason.UPDATE_REQUESTED, "x", time=T0, generation=2)
        assert not repo.save_intent(late, expected_revision=1, events=[event])
        assert repo.get(store.id).spec.plan == PlanName.MEDIUM
        assert repo.events(store.id) == []

    def test_it_does_not_overwrite_the_reconcilers_observations(
        self, repo: SqlStoreRepository
    ) -> None:
        store = make_store()
        repo.create(store, [])
        (claimed,) = repo.claim_due(owner="r", now=T0, lease=LEASE, limit=1)
        observed = replace(claimed, phase=Phase.READY, observed_generation=1, last_error="old")
        assert repo.save_status(observed, owner="r")
        # An API caller that read the store before the reconciler saved its status:
        changed = store.with_plan(PlanName.LARGE, now=T0, deadline=LEASE)
        assert repo.save_intent(changed, expected_revision=1, events=[])
        read = repo.get(store.id)
        assert (read.observed_generation, read.last_error) == (1, "old")

    def test_a_deleted_store_is_never_brought_back(self, repo: SqlStoreRepository) -> None:
        store = make_store()
        repo.create(store, [])
        deleted = finish_deletion(repo, store)
        resurrect = replace(deleted, phase=Phase.PENDING, revision=deleted.revision + 1)
        assert not repo.save_intent(resurrect, expected_revision=deleted.revision, events=[])
        assert repo.get(store.id).phase == Phase.DELETED


class TestSaveStatus:
    def test_the_lease_holder_saves_status_fields_only(self, repo: SqlStoreRepository) -> None:
        store = make_store()
        repo.create(store, [])
        (claimed,) = repo.claim_due(owner="r", now=T0, lease=LEASE, limit=1)
        conditions = set_condition(
            claimed.conditions,
            ConditionType.NAMESPACE_READY,
            ConditionStatus.TRUE,
            Reason.NAMESPACE_ACTIVE,
            "namespace is active",
            now=T0 + LEASE,
            generation=1,
        )
        status = replace(
            claimed,
            phase=Phase.PROVISIONING,
            conditions=conditions,
            failures=2,
            last_error="boom",
            spec=replace(claimed.spec, plan=PlanName.LARGE),  # not a status field: ignored
        )
        assert repo.save_status(status, owner="r")
        read = repo.get(store.id)
        assert read.phase == Phase.PROVISIONING
        assert read.conditions == conditions
        assert (read.failures, read.last_error) == (2, "boom")
        assert read.spec.plan == PlanName.SMALL

    @pytest.mark.parametrize(
        ("owner", "intent_changed"),
        [("someone-else", False), ("r", True), ("nobody-claimed", False)],
        ids=[
            "a replica without the lease is refused",
            "a stale view is refused after an intent change",
            "an owner that never claimed is refused",
        ],
    )
    def test_status_is_refused(
        self, repo: SqlStoreRepository, owner: str, intent_changed: bool
    ) -> None:
        store = make_store()
        repo.create(store, [])
        (claimed,) = repo.claim_due(owner="r", now=T0, lease=LEASE, limit=1)
        if intent_changed:
            changed = store.with_plan(PlanName.LARGE, now=T0, deadline=LEASE)
            assert repo.save_intent(changed, expected_revision=1, events=[])
        assert not repo.save_status(replace(claimed, phase=Phase.READY, failures=9), owner=owner)
        assert repo.get(store.id).failures == 0


class TestEvents:
    def test_events_read_oldest_first(self, repo: SqlStoreRepository) -> None:
        store = make_store()
        repo.create(store, [created_event(store)])
        later = [
            Event.normal(store.id, f"Step{i}", f"step {i}", time=T0, generation=1) for i in range(3)
        ]
        repo.append_events(later[:2])
        repo.append_events(later[2:])
        repo.append_events([])
        events = repo.events(store.id)
        assert [e.reason for e in events] == [Reason.CREATED, "Step0", "Step1", "Step2"]
        assert [e.actor for e in events] == ["tester", "system", "system", "system"]
        assert all(e.id is not None for e in events)
        assert events[0].time == T0 and events[0].time.tzinfo == UTC

    def test_a_store_without_events_has_an_empty_log(self, repo: SqlStoreRepository) -> None:
        assert repo.events("store-nothing0") == []


class TestLeases:
    def test_only_due_live_stores_are_claimed_in_due_order(self, repo: SqlStoreRepository) -> None:
        late = make_store("late", now=T0 + timedelta(seconds=5))
        early = make_store("early", now=T0)
        future = make_store("future", now=T0 + timedelta(hours=1))
        gone = make_store("gone", now=T0)
        for store in (late, early, future, gone):
            repo.create(store, [])
        finish_deletion(repo, gone)
        claimed = repo.claim_due(owner="a", now=T0 + timedelta(minutes=1), lease=LEASE, limit=10)
        assert [s.name for s in claimed] == ["early", "late"]

    def test_a_lease_is_exclusive_until_it_expires(self, repo: SqlStoreRepository) -> None:
        store = make_store()
        repo.create(store, [])
        assert [s.id for s in repo.claim_due(owner="a", now=T0, lease=LEASE, limit=5)] == [store.id]
        assert repo.claim_due(owner="b", now=T0 + LEASE / 2, lease=LEASE, limit=5) == []
        after_expiry = T0 + LEASE + timedelta(seconds=1)
        assert [
            s.id for s in repo.claim_due(owner="b", now=after_expiry, lease=LEASE, limit=5)
        ] == [store.id]
        assert repo.lease_of(store.id) == ("b", after_expiry + LEASE)
        # The old owner lost it: its status writes are refused.
        assert not repo.save_status(replace(store, failures=1), owner="a")

    def test_claiming_again_renews_the_owners_own_lease(self, repo: SqlStoreRepository) -> None:
        store = make_store()
        repo.create(store, [])
        repo.claim_due(owner="a", now=T0, lease=LEASE, limit=5)
        renewed_at = T0 + timedelta(seconds=20)
        assert len(repo.claim_due(owner="a", now=renewed_at, lease=LEASE, limit=5)) == 1
        assert repo.lease_of(store.id) == ("a", renewed_at + LEASE)

    def test_release_frees_the_store_for_others_but_only_from_its_owner(
        self, repo: SqlStoreRepository
    ) -> None:
        store = make_store()
        repo.create(store, [])
        repo.claim_due(owner="a", now=T0, lease=LEASE, limit=5)
        repo.release(store.id, owner="b")
        assert repo.lease_of(store.id)[0] == "a"
        repo.release(store.id, owner="a")
        assert repo.lease_of(store.id) == (None, None)
        assert len(repo.claim_due(owner="b", now=T0, lease=LEASE, limit=5)) == 1

    def test_a_status_saved_with_release_gives_up_the_lease_in_the_same_write(
        self, repo: SqlStoreRepository
    ) -> None:
        store = make_store()
        repo.create(store, [])
        (claimed,) = repo.claim_due(owner="a", now=T0, lease=LEASE, limit=5)
        assert repo.save_status(replace(claimed, failures=3), owner="a", release=True)
        assert repo.lease_of(store.id) == (None, None)
        assert repo.get(store.id).failures == 3
        # A refused save (another owner) leaves the lease as it is.
        repo.claim_due(owner="b", now=T0, lease=LEASE, limit=5)
        assert not repo.save_status(replace(claimed, failures=4), owner="a", release=True)
        assert repo.lease_of(store.id)[0] == "b"

    def test_free_stores_are_handed_out_before_the_callers_own(
        self, repo: SqlStoreRepository
    ) -> None:
        mine = make_store("mine", now=T0)
        free = make_store("free", now=T0 + timedelta(seconds=1))
        repo.create(mine, [])
        assert [s.id for s in repo.claim_due(owner="a", now=T0, lease=LEASE, limit=1)] == [mine.id]
        repo.create(free, [])
        later = T0 + timedelta(seconds=2)
        assert [s.id for s in repo.claim_due(owner="a", now=later, lease=LEASE, limit=1)] == [
            free.id
        ]

    def test_a_claim_never_returns_the_stores_the_caller_says_it_is_running(
        self, repo: SqlStoreRepository
    ) -> None:
        busy, idle = make_store("busy"), make_store("idle")
        repo.create(busy, [])
        repo.create(idle, [])
        repo.claim_ids([busy.id], owner="a", now=T0, lease=LEASE)
        got = repo.claim_due(owner="a", now=T0, lease=LEASE, limit=5, running={busy.id})
        assert [s.id for s in got] == [idle.id]
        # Its lease was left as it was, not renewed by this claim.
        assert repo.lease_of(busy.id) == ("a", T0 + LEASE)

    def test_limit_bounds_the_claim(self, repo: SqlStoreRepository) -> None:
        for i in range(5):
            repo.create(make_store(f"shop-{i}"), [])
        assert len(repo.claim_due(owner="a", now=T0, lease=LEASE, limit=2)) == 2
        assert len(repo.claim_due(owner="b", now=T0, lease=LEASE, limit=10)) == 3
        assert repo.claim_due(owner="c", now=T0, lease=LEASE, limit=0) == []

    def test_concurrent_claimers_never_share_a_store(self, migrated_url: str) -> None:
        setup = SqlStoreRepository(create_engine_for(migrated_url))
        stores = [make_store(f"shop-{i:02d}") for i in range(40)]
        for store in stores:
            setup.create(store, [])
        owners = [f"replica-{i}" for i in range(4)]
        claims: dict[str, list[str]] = {owner: [] for owner in owners}
        barrier = threading.Barrier(len(owners))
        errors: list[BaseException] = []

        def claim(owner: str) -> None:
            # One engine per owner: separate connections, like separate processes.
            repo = SqlStoreRepository(create_engine_for(migrated_url))
            try:
                barrier.wait()
                for _ in range(40):
                    got = repo.claim_due(owner=owner, now=T0, lease=LEASE, limit=3)
                    for store in got:
                        # A pass: save status that is not due again soon, keep the lease.
                        claims[owner].append(store.id)
                        later = replace(store, next_reconcile_at=T0 + timedelta(hours=1))
                        assert repo.save_status(later, owner=owner)
            except BaseException as exc:
                errors.append(exc)
            finally:
                repo.engine.dispose()

        threads = [threading.Thread(target=claim, args=(owner,)) for owner in owners]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        every = [store_id for ids in claims.values() for store_id in ids]
        assert len(every) == len(set(every)), "a store was leased to two owners"
        assert set(every) == {s.id for s in stores}
        for owner, ids in claims.items():
            assert all(setup.lease_of(store_id)[0] == owner for store_id in ids)
        setup.engine.dispose()
