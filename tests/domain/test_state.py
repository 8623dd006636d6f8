from dataclasses import replace
from datetime import UTC, datetime

import pytest

from storeplane.domain.conditions import ConditionStatus, ConditionType, get_condition
from storeplane.domain.ports import NamespacePhase, NamespaceStatus, ObjectRef, ServiceAnswer
from storeplane.domain.state import (
    Observation,
    ReconcileState,
    derive_conditions,
    determine_state,
    simulated_note,
    workload_runtime_of,
)
from storeplane.domain.store import Phase, WorkloadRuntime
from tests.domain.test_store import make_store

NOW = datetime(2026, 1, 2, tzinfo=UTC)
ACTIVE = NamespaceStatus(NamespacePhase.ACTIVE)
QUOTA = ObjectRef("v1", "ResourceQuota", "store-quota", "store-abc12345")
DEPLOY = ObjectRef("apps/v1", "Deployment", "medusa-server", "store-abc12345")

live = make_store(phase=Phase.PROVISIONING)
deleting = make_store(phase=Phase.READY).request_deletion(now=NOW)

CASES = [
    (live, Observation(NamespaceStatus(NamespacePhase.ABSENT)), ReconcileState.NAMESPACE_MISSING),
    (
        live,
        Observation(NamespaceStatus(NamespacePhase.TERMINATING)),
        ReconcileState.NAMESPACE_TERMINATING,
    ),
    (live, Observation(ACTIVE, policies_out_of_sync=(QUOTA,)), ReconcileState.POLICIES_OUT_OF_SYNC),
    (
        live,
        Observation(ACTIVE, workloads_out_of_sync=(DEPLOY,)),
        ReconcileState.WORKLOADS_OUT_OF_SYNC,
    ),
    (live, Observation(ACTIVE, stale=(DEPLOY,)), ReconcileState.WORKLOADS_OUT_OF_SYNC),
    (
        live,
        Observation(ACTIVE, not_ready=("Deployment medusa-server: 0/1 ready",)),
        ReconcileState.WORKLOADS_NOT_READY,
    ),
    (
        live,
        Observation(ACTIVE, reachable=False, reachability_message="503"),
        ReconcileState.UNREACHABLE,
    ),
    (live, Observation(ACTIVE, reachable=True), ReconcileState.IN_SYNC),
    (
        live,
        Observation(ACTIVE, policies_out_of_sync=(QUOTA,), workloads_out_of_sync=(DEPLOY,)),
        ReconcileState.POLICIES_OUT_OF_SYNC,
    ),
    (deleting, Observation(ACTIVE), ReconcileState.TEARDOWN),
    (
        deleting,
        Observation(NamespaceStatus(NamespacePhase.TERMINATING, "pods remain")),
        ReconcileState.AWAITING_TEARDOWN,
    ),
    (deleting, Observation(NamespaceStatus(NamespacePhase.ABSENT)), ReconcileState.VERIFY_TEARDOWN),
    (
        replace(deleting, phase=Phase.DELETED),
        Observation(NamespaceStatus(NamespacePhase.ABSENT)),
        ReconcileState.DELETED,
    ),
]


@pytest.mark.parametrize(
    ("store", "observed", "expected"),
    CASES,
    ids=[
        "a missing namespace is created first",
        "a namespace deleted by hand is waited for, then recreated",
        "a changed quota is re-applied",
        "a missing chart object is applied",
        "an object no longer rendered is pruned",
        "an unready workload is waited for",
        "a failing health check keeps the store unready",
        "everything in order means in sync",
        "policies come before workloads",
        "a deleted store's namespace is torn down",
        "a terminating namespace is waited for during deletion",
        "a gone namespace is followed by the residue check",
        "a deleted store needs nothing",
    ],
)
def test_determine_state_names_the_next_move(store, observed, expected) -> None:  # type: ignore[no-untyped-def]
    assert determine_state(store, observed).state is expected


def test_the_decision_names_the_objects_and_the_waiting_reason() -> None:
    decision = determine_state(live, Observation(ACTIVE, policies_out_of_sync=(QUOTA,)))
    assert "ResourceQuota store-abc12345/store-quota" in decision.message
    waiting = determine_state(
        live, Observation(ACTIVE, not_ready=("Deployment medusa-server: 0/1 ready",))
    )
    assert "0/1 ready" in waiting.message


def test_conditions_before_the_blocked_step_are_true_and_ready_says_why() -> None:
    decision = determine_state(
        live, Observation(ACTIVE, not_ready=("Deployment medusa-server: 0/1 ready",))
    )
    conditions = derive_conditions(live, decision, now=NOW)
    status = {c.type: c.status for c in conditions}
    assert status[ConditionType.NAMESPACE_READY] == ConditionStatus.TRUE
    assert status[ConditionType.WORKLOADS_APPLIED] == ConditionStatus.TRUE
    assert status[ConditionType.WORKLOADS_READY] == ConditionStatus.FALSE
    assert status[ConditionType.STORE_REACHABLE] == ConditionStatus.UNKNOWN
    ready = get_condition(conditions, ConditionType.READY)
    assert ready is not None and ready.status == ConditionStatus.FALSE
    assert "WorkloadsReady" in ready.message and "0/1 ready" in ready.message


def test_a_step_error_replaces_the_message_with_the_real_cause() -> None:
    decision = determine_state(live, Observation(ACTIVE, policies_out_of_sync=(QUOTA,)))
    conditions = derive_conditions(
        live, decision, now=NOW, error="apply ResourceQuota: quota invalid (HTTP 422 Invalid)"
    )
    cond = get_condition(conditions, ConditionType.POLICIES_APPLIED)
    assert cond is not None and "HTTP 422" in cond.message and cond.status == ConditionStatus.FALSE


def test_in_sync_makes_every_condition_true() -> None:
    conditions = derive_conditions(
        live, determine_state(live, Observation(ACTIVE, reachable=True)), now=NOW
    )
    assert all(c.status == ConditionStatus.TRUE for c in conditions)
    assert {c.type for c in conditions} == set(ConditionType)


def test_transition_time_moves_only_when_the_status_changes() -> None:
    decision = determine_state(live, Observation(ACTIVE, reachable=True))
    first = derive_conditions(live, decision, now=NOW)
    again = derive_conditions(replace(live, conditions=first), decision, now=NOW.replace(hour=5))
    assert [c.last_transition_time for c in first] == [c.last_transition_time for c in again]


@pytest.mark.parametrize(
    ("answer", "healthy", "expected"),
    [
        (ServiceAnswer(200, "OK", "simulated", ("medusa:2",)), True, WorkloadRuntime.SIMULATED),
        (ServiceAnswer(200, "OK", "local"), True, WorkloadRuntime.LOCAL),
        (ServiceAnswer(500, "boom", "local"), False, WorkloadRuntime.LOCAL),
        (ServiceAnswer(200, "OK"), True, WorkloadRuntime.CLUSTER),
        (ServiceAnswer(503, "no endpoints"), False, None),
        (ServiceAnswer(200, "OK", "quantum"), True, None),
        (ServiceAnswer(200, "OK", " Local "), True, WorkloadRuntime.LOCAL),
    ],
    ids=[
        "the simulator's stand-in answer means simulated",
        "an answer the simulator forwarded to a local process means local",
        "an unhealthy local process is still local",
        "a healthy answer without the hint came from a real cluster",
        "an unhealthy answer without the hint says nothing (the API server's own 503)",
        "an unknown hint is not guessed at",
        "the hint is read without regard to case and spaces",
    ],
)
def test_the_workload_runtime_is_read_from_the_health_answer(
    answer: ServiceAnswer, healthy: bool, expected: WorkloadRuntime | None
) -> None:
    assert workload_runtime_of(answer, healthy) is expected


def test_store_reachable_says_when_the_health_answer_was_simulated() -> None:
    answer = ServiceAnswer(200, "OK", "simulated", ("wordpress:6", "mariadb:11"))
    message = f"service web:80/wp-json/ answered HTTP 200, but {simulated_note(answer)}"
    decision = determine_state(
        live, Observation(ACTIVE, reachable=True, reachability_message=message)
    )
    conditions = derive_conditions(live, decision, now=NOW)
    reachable = get_condition(conditions, ConditionType.STORE_REACHABLE)
    assert reachable is not None and reachable.status == ConditionStatus.TRUE
    assert "simulated" in reachable.message
    assert "no local runtime for wordpress:6, mariadb:11" in reachable.message


def test_a_simulated_note_without_images_still_says_nothing_runs() -> None:
    assert "nothing runs" in simulated_note(ServiceAnswer(200, "OK", "simulated"))
