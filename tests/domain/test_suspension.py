"""Suspension in the pure domain: the intent change (``with_suspended``) and what
``determine_state`` decides for a suspended store, or one resumed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from storeplane.domain.conditions import ConditionStatus, ConditionType, get_condition
from storeplane.domain.errors import InvalidTransitionError
from storeplane.domain.ports import NamespacePhase, NamespaceStatus, ObjectRef
from storeplane.domain.state import Observation, ReconcileState, derive_conditions, determine_state
from storeplane.domain.store import Phase, Store
from tests.domain.test_store import make_store

NOW = datetime(2026, 1, 2, tzinfo=UTC)
DEADLINE = timedelta(minutes=10)
ACTIVE = NamespaceStatus(NamespacePhase.ACTIVE)
DEPLOY = ObjectRef("apps/v1", "Deployment", "medusa-server", "store-abc12345")


def _suspended(store: Store) -> Store:
    return store.with_suspended(True, now=NOW, deadline=DEADLINE)


ready = replace(make_store(phase=Phase.READY), observed_generation=1)
suspending = _suspended(ready)
was_suspended = replace(
    suspending.with_suspended(False, now=NOW, deadline=DEADLINE), suspended_at=NOW
)

CASES = [
    (suspending, Observation(ACTIVE, workloads_out_of_sync=(DEPLOY,)),
     ReconcileState.WORKLOADS_OUT_OF_SYNC),
    (suspending, Observation(ACTIVE, running_pods=("medusa-server-abc",)),
     ReconcileState.SUSPENDING),
    (suspending, Observation(ACTIVE), ReconcileState.SUSPENDED),
    # Not health-checked: an unreachable engine does not keep it from being Suspended.
    (suspending, Observation(ACTIVE, reachable=False), ReconcileState.SUSPENDED),
    (was_suspended, Observation(ACTIVE, reachable=False), ReconcileState.UNREACHABLE),
    (was_suspended, Observation(ACTIVE, reachable=True), ReconcileState.RESUMED),
    (replace(was_suspended, suspended_at=None), Observation(ACTIVE, reachable=True),
     ReconcileState.IN_SYNC),
]  # fmt: skip
IDS = [
    "a suspended store first gets its workloads scaled down",
    "a suspended store waits while its pods still run",
    "a suspended store with nothing running is suspended",
    "a suspended store is not health-checked",
    "a resumed store waits for its health check",
    "a resumed store that answers is resumed",
    "a store never suspended that answers is in sync",
]


@pytest.mark.parametrize(("store", "observed", "expected"), CASES, ids=IDS)
def test_determine_state(store: Store, observed: Observation, expected: ReconcileState) -> None:
    assert determine_state(store, observed).state == expected


def test_suspending_bumps_the_generation_and_goes_through_updating() -> None:
    assert suspending.spec.suspended and suspending.generation == ready.generation + 1
    assert suspending.phase == Phase.UPDATING and suspending.revision == ready.revision + 1
    assert _suspended(suspending) is suspending  # idempotent


def test_a_store_that_never_became_ready_stays_provisioning() -> None:
    assert _suspended(make_store(phase=Phase.PROVISIONING)).phase == Phase.PROVISIONING


@pytest.mark.parametrize("value", [True, False], ids=["suspend", "resume"])
def test_a_store_being_deleted_cannot_be_suspended_or_resumed(value: bool) -> None:
    deleting = ready.request_deletion(now=NOW)
    with pytest.raises(InvalidTransitionError, match="create a new store instead"):
        deleting.with_suspended(value, now=NOW, deadline=DEADLINE)


def test_suspended_conditions_say_why_the_store_does_not_serve() -> None:
    decision = determine_state(suspending, Observation(ACTIVE))
    conditions = derive_conditions(suspending, decision, now=NOW)
    reachable = get_condition(conditions, ConditionType.STORE_REACHABLE)
    ready_condition = get_condition(conditions, ConditionType.READY)
    workloads = get_condition(conditions, ConditionType.WORKLOADS_READY)
    assert workloads is not None and workloads.status == ConditionStatus.TRUE
    assert reachable is not None and reachable.reason == "Suspended"
    assert ready_condition is not None and ready_condition.status == ConditionStatus.FALSE
    assert ready_condition.message.startswith("store is suspended")
