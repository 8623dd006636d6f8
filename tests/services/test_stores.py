"""Store use cases on a real repository (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from storeplane.db import SqlStoreRepository, SqlUserRepository
from storeplane.domain.conditions import Reason
from storeplane.domain.errors import (
    InvalidRequestError,
    InvalidTransitionError,
    StoreNotFoundError,
)
from storeplane.domain.events import Event
from storeplane.domain.plans import PlanName
from storeplane.domain.store import Engine, Phase, Store, StoreSpec
from storeplane.domain.users import Role, User
from storeplane.services import auth, catalog
from storeplane.services import stores as service
from storeplane.settings import Settings
from tests.db.helpers import T0

SETTINGS = Settings(base_domain="shops.example", provision_deadline_seconds=120)
# Later than any "now" in these tests: everything is due then.
LATER = datetime.now(UTC) + timedelta(days=1)
SPEC = StoreSpec(name="acme-shop", engine=Engine.WOOCOMMERCE, plan=PlanName.MEDIUM)


def who(repo: SqlStoreRepository, name: str, role: Role = Role.ADMIN) -> User:
    """The user ``name`` in the repository's database (created on first use)."""
    users = SqlUserRepository(repo.engine)
    existing = [u for u in users.users() if u.name == name]
    return existing[0] if existing else auth.create_user(users, name, role)


def create(repo: SqlStoreRepository, settings: Settings = SETTINGS) -> Store:
    return service.create_store(repo, SPEC, settings, who(repo, "alice"), now=T0)


def mark(repo: SqlStoreRepository, store: Store, **status: object) -> Store:
    """Save status as the reconciler would (lease, save, release)."""
    (claimed,) = [
        s
        for s in repo.claim_due(owner="r", now=LATER, lease=timedelta(seconds=30), limit=50)
        if s.id == store.id
    ]
    changed = replace(claimed, **status)  # type: ignore[arg-type]
    assert repo.save_status(changed, owner="r")
    repo.release(store.id, owner="r")
    return repo.get(store.id)


class TestCreate:
    def test_a_new_store_is_pending_due_now_with_its_deadline_and_url(
        self, repo: SqlStoreRepository
    ) -> None:
        store = create(repo)
        assert re.fullmatch(r"store-[a-z0-9]{8}", store.id)
        assert store.url == f"http://{store.id}.shops.example"
        assert (store.phase, store.generation, store.next_reconcile_at) == (Phase.PENDING, 1, T0)
        assert store.deadline_at == T0 + timedelta(seconds=120)
        assert repo.get(store.id) == store

    def test_tls_makes_the_url_https(self, repo: SqlStoreRepository) -> None:
        store = create(repo, SETTINGS.model_copy(update={"tls": True}))
        assert store.url is not None and store.url.startswith("https://")

    def test_the_created_event_names_engine_plan_and_actor(self, repo: SqlStoreRepository) -> None:
        store = create(repo)
        (event,) = repo.events(store.id)
        assert (event.reason, event.actor, event.generation) == (Reason.CREATED, "alice", 1)
        assert "woocommerce" in event.message and "medium" in event.message

    def test_a_name_of_the_id_form_is_refused_for_every_caller_not_only_the_api(
        self, repo: SqlStoreRepository
    ) -> None:
        existing = create(repo)
        spec = replace(SPEC, name=existing.id)
        with pytest.raises(InvalidRequestError, match="must not look like a store id"):
            service.create_store(repo, spec, SETTINGS, who(repo, "alice"), now=T0)
        assert [s.id for s in repo.list_page(limit=10).items] == [existing.id]


class TestIntent:
    def test_changing_the_plan_makes_a_new_generation_and_says_who(
        self, repo: SqlStoreRepository
    ) -> None:
        store = create(repo)
        changed = service.change_plan(repo, store.id, PlanName.LARGE, SETTINGS, who(repo, "bob"))
        assert (changed.spec.plan, changed.generation, changed.revision) == (PlanName.LARGE, 2, 2)
        event = repo.events(store.id)[-1]
        assert (event.reason, event.actor, event.generation) == (Reason.UPDATE_REQUESTED, "bob", 2)

    def test_asking_for_the_current_plan_changes_nothing(self, repo: SqlStoreRepository) -> None:
        store = create(repo)
        same = service.change_plan(repo, store.id, PlanName.MEDIUM, SETTINGS, who(repo, "bob"))
        assert same == store
        assert len(repo.events(store.id)) == 1

    def test_deleting_twice_records_one_event(self, repo: SqlStoreRepository) -> None:
        store = create(repo)
        first = service.delete_store(repo, store.id, who(repo, "carol"))
        second = service.delete_store(repo, store.id, who(repo, "carol"))
        assert first.phase == second.phase == Phase.DELETING
        reasons = [e.reason for e in repo.events(store.id)]
        assert reasons == [Reason.CREATED, Reason.DELETION_REQUESTED]

    def test_retry_puts_a_failed_store_back_to_work(self, repo: SqlStoreRepository) -> None:
        store = create(repo)
        mark(repo, store, phase=Phase.FAILED, failures=7, next_reconcile_at=None)
        retried = service.retry_store(repo, store.id, SETTINGS, who(repo, "dave"))
        assert (retried.phase, retried.failures) == (Phase.PROVISIONING, 0)
        assert retried.next_reconcile_at is not None
        assert repo.events(store.id)[-1].reason == Reason.RETRY_REQUESTED

    @pytest.mark.parametrize(
        "act",
        [
            lambda repo, sid: service.change_plan(
                repo, sid, PlanName.LARGE, SETTINGS, who(repo, "alice")
            ),
            lambda repo, sid: service.retry_store(repo, sid, SETTINGS, who(repo, "alice")),
        ],
        ids=["changing the plan of a deleted store", "retrying a deleted store"],
    )
    def test_is_refused_once_deleted(self, repo: SqlStoreRepository, act: object) -> None:
        store = create(repo)
        service.delete_store(repo, store.id, who(repo, "alice"))
        mark(repo, store, phase=Phase.DELETED, deleted_at=T0)
        with pytest.raises(InvalidTransitionError):
            act(repo, store.id)  # type: ignore[operator]

    def test_a_concurrent_change_is_reapplied_to_a_fresh_read(
        self, repo: SqlStoreRepository
    ) -> None:
        store = create(repo)
        flaky = ConflictingRepository(repo, conflicts=2)
        changed = service.change_plan(flaky, store.id, PlanName.LARGE, SETTINGS, who(repo, "alice"))
        assert changed.spec.plan == PlanName.LARGE
        assert repo.get(store.id).revision == 2 + 2  # two interleaved writes, then ours

    def test_endless_conflicts_end_in_a_409_error(self, repo: SqlStoreRepository) -> None:
        store = create(repo)
        flaky = ConflictingRepository(repo, conflicts=100)
        with pytest.raises(InvalidTransitionError, match="kept changing"):
            service.change_plan(flaky, store.id, PlanName.LARGE, SETTINGS, who(repo, "alice"))


class TestReads:
    def test_events_of_an_unknown_store_are_not_found(self, repo: SqlStoreRepository) -> None:
        with pytest.raises(StoreNotFoundError):
            service.store_events(repo, "store-unknown0", who(repo, "alice"))

    def test_an_empty_query_means_no_filter(self, repo: SqlStoreRepository) -> None:
        create(repo)
        assert service.list_stores(repo, who(repo, "alice"), query="").count == 1

    def test_the_catalogue_lists_every_plan_and_engine(self) -> None:
        assert [p.name for p in catalog.list_plans()] == list(PlanName)
        assert [(e.name, e.display_name) for e in catalog.list_engines()] == [
            (Engine.MEDUSA, "MedusaJS"),
            (Engine.WOOCOMMERCE, "WooCommerce"),
        ]


class ConflictingRepository(SqlStoreRepository):
    """Before each of the first ``conflicts`` intent writes, someone else retries the store."""

    def __init__(self, inner: SqlStoreRepository, conflicts: int) -> None:
        super().__init__(inner.engine)
        self.conflicts = conflicts

    def save_intent(self, store: Store, *, expected_revision: int, events: list[Event]) -> bool:  # type: ignore[override]
        if self.conflicts > 0:
            self.conflicts -= 1
            current = self.get(store.id)
            other = current.request_retry(now=T0, deadline=timedelta(minutes=1))
            assert super().save_intent(other, expected_revision=current.revision, events=[])
        return super().save_intent(store, expected_revision=expected_revision, events=events)
