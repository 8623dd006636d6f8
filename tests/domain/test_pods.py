"""Why a workload is not ready, told from its pods (storeplane.domain.pods)."""

from __future__ import annotations

from typing import Any

import pytest

from storeplane.domain.pods import pod_problem, selects


def _pod(status: dict[str, Any], labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {"metadata": {"name": "medusa-server-abc", "labels": labels or {}}, "status": status}


def _waiting(reason: str, message: str = "", **extra: Any) -> dict[str, Any]:
    return {"name": "server", "state": {"waiting": {"reason": reason, "message": message}}, **extra}


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (
            {"containerStatuses": [_waiting(
                "CreateContainerConfigError",
                "couldn't find key jwt-secret in Secret store-x/store-credentials")]},
            "pod medusa-server-abc container server: CreateContainerConfigError: couldn't find "
            "key jwt-secret in Secret store-x/store-credentials",
        ),
        (
            {"containerStatuses": [_waiting(
                "CrashLoopBackOff", "back-off 10s restarting failed container",
                lastState={"terminated": {"exitCode": 137}})]},
            "pod medusa-server-abc container server: CrashLoopBackOff: back-off 10s restarting "
            "failed container (last exit code 137)",
        ),
        (
            {"conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                             "message": "0/1 nodes are available: 1 Insufficient memory."}]},
            "pod medusa-server-abc is not scheduled: 0/1 nodes are available: 1 Insufficient memory.",
        ),
        (
            {"initContainerStatuses": [_waiting("ErrImagePull", "pull failed")]},
            "pod medusa-server-abc container server: ErrImagePull: pull failed",
        ),
        ({"containerStatuses": [_waiting("ContainerCreating")]}, None),
        ({"containerStatuses": [{"name": "server", "state": {"running": {}}}]}, None),
        ({}, None),
    ],
    ids=[
        "a missing Secret key names pod, container and key",
        "a crash loop gives the last exit code",
        "an unschedulable pod says what the scheduler said",
        "init containers count too",
        "a container still being created is not a problem yet",
        "a running container is fine",
        "a pod without status is fine",
    ],
)  # fmt: skip
def test_pod_problem(status: dict[str, Any], expected: str | None) -> None:
    assert pod_problem(_pod(status)) == expected


@pytest.mark.parametrize(
    ("workload", "labels", "expected"),
    [
        ({"kind": "Deployment", "spec": {"selector": {"matchLabels": {"app": "a"}}}},
         {"app": "a", "pod-template-hash": "x"}, True),
        ({"kind": "Deployment", "spec": {"selector": {"matchLabels": {"app": "a"}}}},
         {"app": "b"}, False),
        ({"kind": "StatefulSet", "spec": {}}, {"app": "a"}, False),
        ({"kind": "Job", "metadata": {"name": "migrate-1"}},
         {"batch.kubernetes.io/job-name": "migrate-1"}, True),
        ({"kind": "Job", "metadata": {"name": "migrate-1"}}, {"job-name": "migrate-2"}, False),
    ],
    ids=[
        "matching labels select the pod",
        "other labels do not",
        "no selector selects nothing",
        "a Job selects its pods by job name",
        "another Job's pods are not its own",
    ],
)  # fmt: skip
def test_selects(workload: dict[str, Any], labels: dict[str, str], expected: bool) -> None:
    assert selects(workload, {"metadata": {"labels": labels}}) is expected
