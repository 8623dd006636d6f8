"""Per-kind readiness rules: is an applied object done, and if not, why (in words)?

Pure functions over the object as the API server returns it. Kinds without a rule are ready
once they exist.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Manifest = dict[str, Any]
Rule = Callable[[Manifest], str | None]  # None = ready, else the reason it is not


def _generation_seen(obj: Manifest) -> str | None:
    generation = obj.get("metadata", {}).get("generation", 0)
    observed = obj.get("status", {}).get("observedGeneration", 0)
    if observed < generation:
        return f"controller has not observed generation {generation} yet (at {observed})"
    return None


def _replicas_ready(obj: Manifest) -> str | None:
    pending = _generation_seen(obj)
    if pending:
        return pending
    status = obj.get("status", {})
    wanted = obj.get("spec", {}).get("replicas", 1)
    ready = status.get("readyReplicas", 0)
    updated = status.get("updatedReplicas", 0)
    if ready < wanted or updated < wanted:
        return f"{ready}/{wanted} replicas ready, {updated}/{wanted} updated"
    return None


def _deployment(obj: Manifest) -> str | None:
    for cond in obj.get("status", {}).get("conditions", []):
        if cond.get("type") == "ReplicaFailure" and cond.get("status") == "True":
            return f"replica failure: {cond.get('message', cond.get('reason', ''))}"
        if cond.get("type") == "Progressing" and cond.get("reason") == "ProgressDeadlineExceeded":
            return f"rollout stuck: {cond.get('message', '')}"
    return _replicas_ready(obj)


def _job(obj: Manifest) -> str | None:
    status = obj.get("status", {})
    for cond in status.get("conditions", []):
        if cond.get("status") != "True":
            continue
        if cond.get("type") == "Complete":
            return None
        if cond.get("type") == "Failed":
            return f"job failed: {cond.get('message', cond.get('reason', ''))}"
    if status.get("succeeded", 0) >= 1:
        return None
    return "job has not completed yet"


def _claim(obj: Manifest) -> str | None:
    """A PersistentVolumeClaim is ready once Bound. Pending says why when the cluster says it
    (a StorageClass with WaitForFirstConsumer binds only once a pod using the claim is
    scheduled, which the workloads applied in the same pass do).

    The API server always sets ``status.phase`` (Pending at creation); a claim without one
    comes from a cluster that models no volumes (the simulator, which binds nothing) and is
    judged by the workloads that mount it instead of blocking forever."""
    phase = obj.get("status", {}).get("phase")
    if phase in (None, "Bound"):
        return None
    if phase == "Lost":
        return "claim lost its volume (the PersistentVolume is gone)"
    storage_class = obj.get("spec", {}).get("storageClassName")
    where = f"StorageClass {storage_class!r}" if storage_class else "the default StorageClass"
    return f"claim is {phase}: no volume bound yet from {where}"


RULES: dict[str, Rule] = {
    "Deployment": _deployment,
    "StatefulSet": _replicas_ready,
    "Job": _job,
    "PersistentVolumeClaim": _claim,
}


def not_ready_reason(obj: Manifest) -> str | None:
    """Why ``obj`` is not ready yet, or None when it is."""
    rule = RULES.get(str(obj.get("kind")))
    return rule(obj) if rule else None
