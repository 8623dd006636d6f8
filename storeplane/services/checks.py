"""Smoke-check use cases for the API: ask for an order check, read one, list a store's checks.

The API never runs a check: it records a ``Running`` check (and a ``SmokeTestRequested``
event) and returns; a check runner on the reconciler side (:mod:`storeplane.reconciler.checks`)
claims it, because running it needs the store's admin password, which only the cluster holds.
Who may see a store may check it (its owner, an admin); anyone else gets "not found".
"""

from __future__ import annotations

from datetime import UTC, datetime

from storeplane.domain.checks import SmokeCheck, not_checkable
from storeplane.domain.conditions import Reason
from storeplane.domain.errors import InvalidTransitionError
from storeplane.domain.events import Event
from storeplane.domain.ports import CheckRepository, StoreRepository
from storeplane.domain.users import User
from storeplane.services.stores import get_store


def request_check(
    repo: StoreRepository,
    checks: CheckRepository,
    store_id: str,
    user: User,
    *,
    now: datetime | None = None,
) -> tuple[SmokeCheck, bool]:
    """Record an order check of the store; (check, created).

    Raises InvalidTransitionError (409) when there is no real, Ready store to check (simulated
    workloads, not Ready, being deleted), naming why. While a check of the store runs, asking
    again returns that check and created=False: one order at a time per store."""
    store = get_store(repo, store_id, user)
    why = not_checkable(store)
    if why is not None:
        raise InvalidTransitionError(why)
    now = now or datetime.now(UTC)
    check = SmokeCheck.request(store.id, requested_by=user.name, now=now)
    event = Event.normal(
        store.id,
        Reason.SMOKE_TEST_REQUESTED,
        f"order check {check.id} requested by {user.name}: a guest order placed at "
        f"{store.url} and looked up in the store's admin",
        time=now,
        generation=store.generation,
        actor=user.name,
    )
    return checks.create(check, [event])


def get_check(
    repo: StoreRepository, checks: CheckRepository, store_id: str, check_id: str, user: User
) -> SmokeCheck:
    """One check; StoreNotFoundError / CheckNotFoundError when it is not there for ``user``."""
    get_store(repo, store_id, user)
    return checks.get(store_id, check_id)


def list_checks(
    repo: StoreRepository, checks: CheckRepository, store_id: str, user: User, *, limit: int = 20
) -> list[SmokeCheck]:
    """The store's checks, newest first."""
    get_store(repo, store_id, user)
    return checks.list_for(store_id, limit=limit)
