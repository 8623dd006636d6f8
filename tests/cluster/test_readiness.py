"""``not_ready_reason``: each kind's readiness rule, as a table of objects and the verdicts."""

from __future__ import annotations

from typing import Any

import pytest

from storeplane.cluster.readiness import not_ready_reason


def _deployment(
    *,
    replicas: int = 2,
    generation: int = 3,
    observed: int = 3,
    ready: int = 2,
    updated: int = 2,
    conditions: list[dict[str, str]] | None = None,
    kind: str = "Deployment",
) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": "web", "generation": generation},
        "spec": {"replicas": replicas},
        "status": {
            "observedGeneration": observed,
            "readyReplicas": ready,
            "updatedReplicas": updated,
            "conditions": conditions or [],
        },
    }


def _job(conditions: list[dict[str, str]] | None = None, succeeded: int = 0) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "migrate"},
        "status": {"conditions": conditions or [], "succeeded": succeeded},
    }


CASES: list[tuple[str, dict[str, Any], str | None]] = [
    ("a Deployment with every replica ready and updated is ready", _deployment(), None),
    (
        "a Deployment whose new generation the controller has not seen is not ready",
        _deployment(generation=4, observed=3),
        "controller has not observed generation 4 yet (at 3)",
    ),
    (
        "a Deployment with no status at all has not been observed",
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"generation": 1}},
        "controller has not observed generation 1 yet (at 0)",
    ),
    (
        "a Deployment with too few ready replicas is not ready",
        _deployment(ready=1),
        "1/2 replicas ready, 2/2 updated",
    ),
    (
        "a Deployment still rolling out old replicas is not ready",
        _deployment(updated=1),
        "2/2 replicas ready, 1/2 updated",
    ),
    (
        "a Deployment without spec.replicas wants one replica",
        {**_deployment(ready=0, updated=0), "spec": {}},
        "0/1 replicas ready, 0/1 updated",
    ),
    (
        "a Deployment with a ReplicaFailure says so even with replicas ready",
        _deployment(
            conditions=[
                {
                    "type": "ReplicaFailure",
                    "status": "True",
                    "reason": "FailedCreate",
                    "message": 'pods "web-1" is forbidden: exceeded quota',
                }
            ]
        ),
        'replica failure: pods "web-1" is forbidden: exceeded quota',
    ),
    (
        "a resolved ReplicaFailure no longer blocks a Deployment",
        _deployment(
            conditions=[{"type": "ReplicaFailure", "status": "False", "reason": "FailedCreate"}]
        ),
        None,
    ),
    (
        "a Deployment past its progress deadline is stuck",
        _deployment(
            ready=0,
            conditions=[
                {
                    "type": "Progressing",
                    "status": "False",
                    "reason": "ProgressDeadlineExceeded",
                    "message": 'ReplicaSet "web-5d9" has timed out progressing.',
                }
            ],
        ),
        'rollout stuck: ReplicaSet "web-5d9" has timed out progressing.',
    ),
    (
        "a Deployment that is still progressing is judged by its replicas",
        _deployment(
            conditions=[
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}
            ]
        ),
        None,
    ),
    (
        "a StatefulSet with every replica ready is ready",
        _deployment(kind="StatefulSet", replicas=1, ready=1, updated=1),
        None,
    ),
    (
        "a StatefulSet whose new generation is not observed is not ready",
        _deployment(kind="StatefulSet", generation=2, observed=1),
        "controller has not observed generation 2 yet (at 1)",
    ),
    (
        "a StatefulSet with no ready replica is not ready",
        _deployment(kind="StatefulSet", replicas=1, ready=0, updated=1),
        "0/1 replicas ready, 1/1 updated",
    ),
    (
        "a Job with a Complete condition is ready",
        _job([{"type": "Complete", "status": "True"}], succeeded=1),
        None,
    ),
    (
        "a Job that succeeded before reporting conditions is ready",
        _job(succeeded=1),
        None,
    ),
    (
        "a failed Job says why",
        _job(
            [
                {
                    "type": "Failed",
                    "status": "True",
                    "reason": "BackoffLimitExceeded",
                    "message": "Job has reached the specified backoff limit",
                }
            ]
        ),
        "job failed: Job has reached the specified backoff limit",
    ),
    (
        "a failed Job without a message gives its reason",
        _job([{"type": "Failed", "status": "True", "reason": "DeadlineExceeded"}]),
        "job failed: DeadlineExceeded",
    ),
    (
        "a running Job is not ready",
        _job([{"type": "Complete", "status": "False"}]),
        "job has not completed yet",
    ),
    (
        "a ConfigMap is ready as soon as it exists",
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}},
        None,
    ),
    (
        "a Service is ready as soon as it exists",
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}, "status": {}},
        None,
    ),
]


@pytest.mark.parametrize(
    ("obj", "expected"), [(obj, want) for _, obj, want in CASES], ids=[c[0] for c in CASES]
)
def test_not_ready_reason(obj: dict[str, Any], expected: str | None) -> None:
    assert not_ready_reason(obj) == expected
