"""Store use cases: create, read, list, change plan, delete, retry, events.

Called by the API routers and the CLI. Every change of intent goes through a domain method
(``with_plan``, ``request_deletion``, ``request_retry``) and ``save_intent``, which refuses
when the store changed since it was read; the change is then re-applied to a fresh read, a
few times, before giving up with a 409.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from storeplane.domain.conditions import Reason
from storeplane.domain.errors import InvalidTransitionError
from storeplane.domain.events import Event
from storeplane.domain.plans import PlanName
from storeplane.domain.ports import StorePage, StoreRepository
from storeplane.domain.store import Phase, Store, StoreSpec, new_store_id
from storeplane.settings import Settings

# Who acted when no authenticated user is known yet (until the API has auth).
API_ACTOR = "api"
# Attempts at an intent write before reporting a conflict; each one re-reads the store.
INTENT_ATTEMPTS = 5


def _utcnow() -> datetime:
    return datetime.now(UTC)


def store_url(store_id: str, settings: Settings) -> str:
    scheme = "https" if settings.tls else "http"
    return f"{scheme}://{store_id}.{settings.base_domain}"


def create_store(
    repo: StoreRepository,
    spec: StoreSpec,
    settings: Settings,
    actor: str = API_ACTOR,
    *,
    now: datetime | None = None,
) -> Store:
    """Record a new store (Pending, due for reconcile now) and its ``Created`` event.

    Raises NameTakenError if a live store already has the name.
    """
    now = now or _utcnow()
    store_id = new_store_id()
    store = Store.create(
        spec,
        store_id=store_id,
        url=store_url(store_id, settings),
        now=now,
        deadline=settings.provision_deadline,
    )
    event = Event.normal(
        store.id,
        Reason.CREATED,
        f"store {spec.name!r} created with engine {spec.engine.value} and plan "
        f"{spec.plan.value} by {actor}",
        time=now,
        generation=store.generation,
        actor=actor,
    )
    return repo.create(store, [event])


def get_store(repo: StoreRepository, store_id: str) -> Store:
    return repo.get(store_id)


def list_stores(
    repo: StoreRepository,
    *,
    phase: Phase | None = None,
    query: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> StorePage:
    return repo.list_page(phase=phase, query=query or None, limit=limit, cursor=cursor)


def store_events(repo: StoreRepository, store_id: str) -> list[Event]:
    """The store's events, oldest first; StoreNotFoundError if there is no such store."""
    repo.get(store_id)
    return repo.events(store_id)


def change_plan(
    repo: StoreRepository,
    store_id: str,
    plan: PlanName,
    settings: Settings,
    actor: str = API_ACTOR,
    *,
    now: datetime | None = None,
) -> Store:
    """Move the store to ``plan`` (a new generation); unchanged if it already has that plan."""

    def change(store: Store, at: datetime) -> tuple[Store, Event | None]:
        changed = store.with_plan(plan, now=at, deadline=settings.provision_deadline)
        if changed is store:
            return store, None
        return changed, Event.normal(
            store.id,
            Reason.UPDATE_REQUESTED,
            f"plan changed from {store.spec.plan.value} to {plan.value} by {actor}",
            time=at,
            generation=changed.generation,
            actor=actor,
        )

    return _write_intent(repo, store_id, change, now)


def delete_store(
    repo: StoreRepository, store_id: str, actor: str = API_ACTOR, *, now: datetime | None = None
) -> Store:
    """Mark the store for teardown; idempotent (a second call records nothing)."""

    def delete(store: Store, at: datetime) -> tuple[Store, Event | None]:
        deleting = store.request_deletion(now=at)
        if deleting is store:
            return store, None
        return deleting, Event.normal(
            store.id,
            Reason.DELETION_REQUESTED,
            f"deletion requested by {actor}; the namespace {store.namespace} and everything "
            "in it will be removed",
            time=at,
            generation=deleting.generation,
            actor=actor,
        )

    return _write_intent(repo, store_id, delete, now)


def retry_store(
    repo: StoreRepository,
    store_id: str,
    settings: Settings,
    actor: str = API_ACTOR,
    *,
    now: datetime | None = None,
) -> Store:
    """Start a fresh attempt now: the deadline and the backoff are reset."""

    def retry(store: Store, at: datetime) -> tuple[Store, Event | None]:
        retried = store.request_retry(now=at, deadline=settings.provision_deadline)
        return retried, Event.normal(
            store.id,
            Reason.RETRY_REQUESTED,
            f"retry requested by {actor} (phase {store.phase.value}); deadline and backoff reset",
            time=at,
            generation=retried.generation,
            actor=actor,
        )

    return _write_intent(repo, store_id, retry, now)


def _write_intent(
    repo: StoreRepository,
    store_id: str,
    change: Callable[[Store, datetime], tuple[Store, Event | None]],
    now: datetime | None,
) -> Store:
    """Apply ``change`` to a fresh read and save it, re-reading on a concurrent change."""
    for _ in range(INTENT_ATTEMPTS):
        store = repo.get(store_id)
        changed, event = change(store, now or _utcnow())
        if event is None:
            return store
        if repo.save_intent(changed, expected_revision=store.revision, events=[event]):
            return changed
    raise InvalidTransitionError(
        f"store {store_id} kept changing while this request was applied; read it and try again"
    )
