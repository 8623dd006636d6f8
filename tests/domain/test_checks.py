"""Smoke checks as values: when a store can be checked, and how a check ends."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from storeplane.domain.checks import (
    INTERRUPTED_STEP,
    CheckStatus,
    SmokeCheck,
    not_checkable,
)
from storeplane.domain.conditions import ConditionStatus, ConditionType, set_condition
from storeplane.domain.store import Phase, Store, WorkloadRuntime
from tests.domain.test_store import make_store

NOW = datetime(2026, 1, 2, tzinfo=UTC)


def _reachable(store: Store, message: str) -> Store:
    conditions = set_condition(
        store.conditions,
        ConditionType.STORE_REACHABLE,
        ConditionStatus.TRUE,
        "StoreReachable",
        message,
        now=NOW,
        generation=1,
    )
    return replace(store, conditions=conditions)


ready_local = make_store(phase=Phase.READY, workload_runtime=WorkloadRuntime.LOCAL)
simulated = _reachable(
    make_store(phase=Phase.READY, workload_runtime=WorkloadRuntime.SIMULATED),
    "service web:80/wp-json/ answered HTTP 200, but the answer was simulated: no local "
    "runtime for wordpress:6",
)


@pytest.mark.parametrize(
    ("store", "expected"),
    [
        (ready_local, None),
        (replace(ready_local, workload_runtime=WorkloadRuntime.CLUSTER), None),
        (replace(ready_local, workload_runtime=None), None),
        (simulated, "workloads are simulated"),
        (replace(simulated, phase=Phase.PROVISIONING), "workloads are simulated"),
        (replace(ready_local, phase=Phase.PROVISIONING), "is Provisioning, not Ready"),
        (replace(ready_local, phase=Phase.FAILED), "is Failed, not Ready"),
        (ready_local.request_deletion(now=NOW), "is deleting: there is no store to check"),
        (replace(ready_local, phase=Phase.DELETED), "is deleted"),
    ],
    ids=[
        "a ready store run by local processes can be checked",
        "a ready store on a real cluster can be checked",
        "a ready store whose runtime is not known yet is tried",
        "a simulated store has no real store to check",
        "a simulated store says so even while it provisions",
        "a store still provisioning is not ready to check",
        "a failed store is not ready to check",
        "a store being deleted cannot be checked",
        "a deleted store cannot be checked",
    ],
)
def test_when_a_store_can_be_checked(store: Store, expected: str | None) -> None:
    why = not_checkable(store)
    if expected is None:
        assert why is None
    else:
        assert why is not None and expected in why


def test_the_reason_a_simulated_store_cannot_be_checked_names_the_images() -> None:
    why = not_checkable(simulated)
    assert why is not None
    assert "no local runtime for wordpress:6" in why
    assert "no real store to check" in why


def test_a_check_starts_running_and_ends_passed_with_the_order() -> None:
    check = SmokeCheck.request("store-abc12345", requested_by="alice", now=NOW)
    assert check.status is CheckStatus.RUNNING and not check.finished
    assert check.id.startswith("check-") and check.step == "queued"
    done = check.at_step("place order").passed("order_01", "order #1 found", now=NOW)
    assert done.status is CheckStatus.PASSED and done.finished
    assert (done.order_id, done.step, done.finished_at) == ("order_01", None, NOW)


def test_an_interrupted_check_fails_naming_its_runner_and_step() -> None:
    check = replace(
        SmokeCheck.request("store-abc12345", requested_by="alice", now=NOW).at_step(
            "complete cart"
        ),
        runner="replica-a",
        lease_expires_at=NOW,
    )
    failed = check.interrupted(now=NOW + timedelta(minutes=1))
    assert failed.status is CheckStatus.FAILED and failed.step == INTERRUPTED_STEP
    assert "replica-a" in failed.message and "complete cart" in failed.message
    assert "run the check again" in failed.message
