"""While a store is Deleting its conditions describe the teardown: no step condition stays True
("namespace is active", "the engine answers its health check") once deletion was asked for."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from storeplane.domain.conditions import (
    STEP_CONDITIONS,
    ConditionStatus,
    ConditionType,
    Reason,
    get_condition,
)
from storeplane.domain.ports import NamespacePhase, NamespaceStatus
from storeplane.domain.state import Observation, derive_conditions, determine_state
from storeplane.domain.store import Phase, Store
from tests.domain.test_store import make_store

NOW = datetime(2026, 1, 2, tzinfo=UTC)
LATER = NOW + timedelta(seconds=5)


def ready_store() -> Store:
    """A store whose every condition is True, as after a converged pass."""
    store = make_store(phase=Phase.PROVISIONING)
    observed = Observation(NamespaceStatus(NamespacePhase.ACTIVE), reachable=True)
    conditions = derive_conditions(store, determine_state(store, observed), now=NOW)
    store = replace(store, conditions=conditions, phase=Phase.READY)
    assert all(c.status == ConditionStatus.TRUE for c in store.conditions)
    return store


def words(store: Store, type_: ConditionType) -> tuple[str, str, str]:
    found = get_condition(store.conditions, type_)
    assert found is not None
    return found.status.value, found.reason, found.message


def test_asking_for_deletion_turns_every_condition_to_the_teardown_at_once() -> None:
    deleting = ready_store().request_deletion(now=LATER)
    ns = deleting.namespace
    assert words(deleting, ConditionType.NAMESPACE_READY) == (
        "False",
        Reason.DELETING,
        f"namespace {ns} is to be deleted",
    )
    assert words(deleting, ConditionType.STORE_REACHABLE) == (
        "False",
        Reason.DELETING,
        "the store is being deleted and no longer serves",
    )
    assert words(deleting, ConditionType.READY)[:2] == ("False", Reason.DELETING)
    ready = get_condition(deleting.conditions, ConditionType.READY)
    assert ready is not None and ready.last_transition_time == LATER


STAGES = [
    (
        "a namespace still active is to be deleted",
        NamespaceStatus(NamespacePhase.ACTIVE),
        (Reason.DELETING, "namespace {ns} is to be deleted"),
        "to be removed with namespace {ns}",
        Reason.TEARDOWN_STARTED,
    ),
    (
        "a terminating namespace is being deleted",
        NamespaceStatus(NamespacePhase.TERMINATING, "pods remain"),
        (Reason.NAMESPACE_TERMINATING, "namespace {ns} is being deleted"),
        "being removed with namespace {ns}",
        Reason.NAMESPACE_TERMINATING,
    ),
    (
        "a namespace that is gone is deleted and residue is checked",
        NamespaceStatus(NamespacePhase.ABSENT),
        (Reason.NAMESPACE_DELETED, "namespace {ns} is deleted"),
        "removed with namespace {ns}; checking that nothing is left",
        Reason.TEARDOWN_STARTED,
    ),
]


@pytest.mark.parametrize(
    ("namespace", "namespace_words", "removed", "ready_reason"),
    [case[1:] for case in STAGES],
    ids=[case[0] for case in STAGES],
)
def test_each_teardown_stage_says_where_it_stands_and_nothing_stays_true(
    namespace: NamespaceStatus,
    namespace_words: tuple[str, str],
    removed: str,
    ready_reason: str,
) -> None:
    deleting = ready_store().request_deletion(now=LATER)
    ns = deleting.namespace
    decision = determine_state(deleting, Observation(namespace))
    conditions = derive_conditions(deleting, decision, now=LATER)
    after = replace(deleting, conditions=conditions)
    assert [c.type for c in after.conditions] == [*STEP_CONDITIONS, ConditionType.READY]
    assert all(c.status == ConditionStatus.FALSE for c in after.conditions)
    reason, message = namespace_words
    assert words(after, ConditionType.NAMESPACE_READY) == ("False", reason, message.format(ns=ns))
    for type_, what in (
        (ConditionType.POLICIES_APPLIED, "policies"),
        (ConditionType.WORKLOADS_APPLIED, "chart objects"),
        (ConditionType.WORKLOADS_READY, "workloads"),
    ):
        assert words(after, type_) == ("False", Reason.DELETING, f"{what} {removed.format(ns=ns)}")
    assert words(after, ConditionType.STORE_REACHABLE)[0] == "False"
    assert words(after, ConditionType.READY) == ("False", ready_reason, decision.message)
    assert not any("namespace is active" in c.message for c in after.conditions)


def test_a_failed_teardown_step_keeps_the_teardown_words_and_ready_names_the_cause() -> None:
    deleting = ready_store().request_deletion(now=LATER)
    decision = determine_state(deleting, Observation(NamespaceStatus(NamespacePhase.ACTIVE)))
    conditions = derive_conditions(deleting, decision, now=LATER, error="cluster said 503")
    after = replace(deleting, conditions=conditions)
    assert words(after, ConditionType.READY) == ("False", Reason.RETRYING, "cluster said 503")
    assert words(after, ConditionType.NAMESPACE_READY)[:2] == ("False", Reason.DELETING)
