"""Readiness of what the engine charts render: every kind that can keep a store from working
has a rule (Deployment available, StatefulSet ready, Job complete, PVC bound), and the PVC rule
says why a claim is not bound."""

from __future__ import annotations

from typing import Any

import pytest

from storeplane.cluster.readiness import RULES, not_ready_reason


def _claim(phase: str | None, storage_class: str | None = None) -> dict[str, Any]:
    claim: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "woocommerce-wp-content"},
        "spec": {"accessModes": ["ReadWriteOnce"]},
    }
    if storage_class:
        claim["spec"]["storageClassName"] = storage_class
    if phase:
        claim["status"] = {"phase": phase}
    return claim


def test_every_blocking_kind_of_the_engine_charts_has_a_rule() -> None:
    assert {"Deployment", "StatefulSet", "Job", "PersistentVolumeClaim"} <= set(RULES)


@pytest.mark.parametrize(
    ("claim", "reason"),
    [
        (_claim("Bound"), None),
        (_claim("Pending"), "claim is Pending: no volume bound yet from the default StorageClass"),
        (
            _claim("Pending", "fast-ssd"),
            "claim is Pending: no volume bound yet from StorageClass 'fast-ssd'",
        ),
        (_claim("Lost"), "claim lost its volume (the PersistentVolume is gone)"),
        (_claim(None), None),
    ],
    ids=[
        "a bound claim is ready",
        "a pending claim names the default StorageClass",
        "a pending claim names its StorageClass",
        "a lost claim says its volume is gone",
        "a claim without any status (no volume controller, e.g. the simulator) does not block",
    ],
)
def test_a_claim_is_ready_once_bound(claim: dict[str, Any], reason: str | None) -> None:
    assert not_ready_reason(claim) == reason


def test_a_failed_migration_job_says_why() -> None:
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "medusa-migrate-0123456789"},
        "status": {
            "conditions": [
                {
                    "type": "Failed",
                    "status": "True",
                    "reason": "BackoffLimitExceeded",
                    "message": "Job has reached the specified backoff limit",
                }
            ]
        },
    }
    assert not_ready_reason(job) == "job failed: Job has reached the specified backoff limit"
