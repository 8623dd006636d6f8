"""The pure half of an upgrade: where its migration Job stands (from the Job and its pods) and
what determine_state decides from that."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from storeplane.domain.plans import PlanName
from storeplane.domain.ports import NamespacePhase, NamespaceStatus, ObjectRef
from storeplane.domain.state import Observation, ReconcileState, determine_state, migration_failure
from storeplane.domain.store import Engine, Phase, Store, StoreSpec
from storeplane.domain.upgrade import MigrationState, MigrationStatus, migration_status

NOW = datetime(2026, 12, 1, tzinfo=UTC)
JOB = "medusa-migrate-abc"


def _job(condition: str | None) -> dict[str, Any]:
    conditions = [{"type": condition, "status": "True", "reason": "BackoffLimitExceeded",
                   "message": "Job has reached the specified backoff limit"}] if condition else []  # fmt: skip
    return {"kind": "Job", "metadata": {"name": JOB}, "status": {"conditions": conditions}}


def _pod(name: str, code: int, created: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "creationTimestamp": created,
                     "labels": {"batch.kubernetes.io/job-name": JOB}},
        "status": {"initContainerStatuses": [
            {"name": "wait-for-database", "state": {"terminated": {"exitCode": 0}}},
            {"name": "migrate", "state": {"terminated": {"exitCode": code, "reason": "Error"}}},
        ]},
    }  # fmt: skip


@pytest.mark.parametrize(
    ("job", "pods", "state", "cause"),
    [
        (None, [], MigrationState.ABSENT, ""),
        (_job(None), [], MigrationState.RUNNING, ""),
        (_job("Complete"), [], MigrationState.SUCCEEDED, ""),
        (
            _job("Failed"),
            [_pod("p-old", 2, "2026-12-01T10:00:00Z"), _pod("p-new", 1, "2026-12-01T10:01:00Z")],
            MigrationState.FAILED,
            f"Job {JOB} failed: BackoffLimitExceeded (Job has reached the specified backoff "
            "limit); pod p-new container migrate exited with code 1 (Error)",
        ),
        (
            _job("Failed"),
            [],
            MigrationState.FAILED,
            f"Job {JOB} failed: BackoffLimitExceeded (Job has reached the specified backoff limit)",
        ),
    ],
    ids=[
        "no Job yet is absent",
        "a Job without a final condition runs",
        "a complete Job succeeded",
        "a failed Job names its last pod's failed container and exit code",
        "a failed Job without pods still says why",
    ],
)
def test_migration_status_reads_the_job_and_its_pods(
    job: dict[str, Any] | None, pods: list[dict[str, Any]], state: MigrationState, cause: str
) -> None:
    status = migration_status(JOB, job, pods)
    assert (status.state, status.cause) == (state, cause)


def _upgrading(phase: Phase = Phase.UPDATING, last_error: str | None = None) -> Store:
    store = Store.create(
        StoreSpec("shop", Engine.MEDUSA, PlanName.SMALL, engine_version="2.21.2"),
        store_id="store-aaaaaaaa",
        url=None,
        now=NOW,
        deadline=timedelta(minutes=10),
    )
    return replace(
        store, phase=phase, running_engine_version="2.20.1", observed_generation=1,
        last_error=last_error,
    )  # fmt: skip


ACTIVE = NamespaceStatus(NamespacePhase.ACTIVE)
FAILED = MigrationStatus(JOB, MigrationState.FAILED, "Job failed: boom")
REPORTED = migration_failure(_upgrading(), FAILED)


@pytest.mark.parametrize(
    ("store", "migration", "out_of_sync", "state"),
    [
        (_upgrading(), MigrationStatus(JOB, MigrationState.ABSENT), False, ReconcileState.UPGRADE_PENDING),
        (_upgrading(), MigrationStatus(JOB, MigrationState.RUNNING), False, ReconcileState.MIGRATION_RUNNING),
        (_upgrading(), FAILED, False, ReconcileState.MIGRATION_FAILED),
        (_upgrading(Phase.FAILED, REPORTED), FAILED, False, ReconcileState.MIGRATION_FAILED),
        (_upgrading(Phase.UPDATING, REPORTED), FAILED, False, ReconcileState.MIGRATION_RETRY),
        (_upgrading(), MigrationStatus(JOB, MigrationState.SUCCEEDED), True, ReconcileState.UPGRADE_ROLLOUT),
        (_upgrading(), MigrationStatus(JOB, MigrationState.SUCCEEDED), False, ReconcileState.UNREACHABLE),
    ],
    ids=[
        "an upgrade starts with its migration Job",
        "a running migration is waited for",
        "a failed migration fails the store",
        "a reported failure stays failed",
        "a reported failure the store was retried from runs again",
        "a succeeded migration rolls out the rest",
        "after the rollout the normal checks decide",
    ],
)  # fmt: skip
def test_determine_state_gates_an_upgrade_on_its_migration(
    store: Store, migration: MigrationStatus, out_of_sync: bool, state: ReconcileState
) -> None:

    refs = (
        (ObjectRef("apps/v1", "Deployment", "medusa-server", store.namespace),)
        if out_of_sync
        else ()
    )
    observed = Observation(namespace=ACTIVE, migration=migration, workloads_out_of_sync=refs)
    decision = determine_state(store, observed)
    assert decision.state is state
    if state is ReconcileState.MIGRATION_FAILED:
        assert (
            "from 2.20.1 to 2.21.2" in decision.message
            and "still serves 2.20.1" in decision.message
        )
