"""A store's objects as the console shows them: kind, name, health and a one-line status.

Pure functions over the objects as the API server returns them, with the readiness verdict
the cluster adapter's per-kind rules gave (:mod:`storeplane.cluster.readiness`, the reconciler's
own rules): a ready object is ``Healthy``; one that is not is ``Degraded`` when the rule's
reason says it failed (a failed Job, a replica failure, a stuck rollout, a lost claim) and
``Progressing`` otherwise; an object storeplane renders but the cluster does not have is
``Missing``. Pods (which no rule judges: they are not applied) are judged by their phase and
their containers' waiting reasons. Called by the store inventory (reconciler/inventory.py) and
the objects service; :func:`redacted` is what the YAML view shows.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

Manifest = dict[str, Any]


class ObjectHealth(StrEnum):
    HEALTHY = "Healthy"
    """Ready by the reconciler's readiness rules (or exists, for kinds without a rule)."""
    PROGRESSING = "Progressing"
    """Not ready yet, and nothing says it failed."""
    DEGRADED = "Degraded"
    """Failed: a failed Job, a crash-looping or unpullable container, a stuck rollout."""
    MISSING = "Missing"
    """storeplane renders it, the cluster does not have it (the next pass applies it)."""


_FAILED_PREFIXES = ("job failed", "replica failure", "rollout stuck", "claim lost")
# Container waiting reasons that do not clear by themselves.
_BAD_WAITING = frozenset(
    {
        "CrashLoopBackOff",
        "ImagePullBackOff",
        "ErrImagePull",
        "InvalidImageName",
        "CreateContainerConfigError",
        "CreateContainerError",
        "RunContainerError",
    }
)


@dataclass(frozen=True, slots=True)
class StoreObject:
    """One object of a store's tree."""

    api_version: str
    kind: str
    name: str
    health: ObjectHealth
    status: str  # one line, e.g. "2/2 ready" or "Running, 1/1 ready, 0 restarts"
    parent: str | None = None  # "Deployment/server" for its pods
    manifest: Manifest | None = None  # as the cluster has it (None when Missing)
    drift_corrected_at: datetime | None = None
    drift_message: str | None = None


def judge(manifest: Manifest, ready: bool, reason: str) -> tuple[ObjectHealth, str]:
    """ObjectHealth and one-line status of a live object, given the readiness rule's verdict."""
    kind = str(manifest.get("kind"))
    if kind == "Pod":
        return _pod(manifest)
    if kind == "Namespace":
        phase = (manifest.get("status") or {}).get("phase") or "Active"
        terminating = phase == "Terminating" or manifest["metadata"].get("deletionTimestamp")
        return (ObjectHealth.PROGRESSING if terminating else ObjectHealth.HEALTHY), str(phase)
    if not ready:
        failed = reason.lower().startswith(_FAILED_PREFIXES)
        return (ObjectHealth.DEGRADED if failed else ObjectHealth.PROGRESSING), reason
    return ObjectHealth.HEALTHY, summary(manifest)


def _pod(pod: Manifest) -> tuple[ObjectHealth, str]:
    status = pod.get("status") or {}
    phase = str(status.get("phase") or "Pending")
    containers = status.get("containerStatuses") or []
    ready = sum(1 for c in containers if c.get("ready"))
    wanted = len((pod.get("spec") or {}).get("containers") or []) or len(containers)
    restarts = sum(int(c.get("restartCount") or 0) for c in containers)
    line = f"{phase}, {ready}/{wanted} ready, {restarts} restart{'s' if restarts != 1 else ''}"
    for c in [*(status.get("initContainerStatuses") or []), *containers]:
        waiting = (c.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") in _BAD_WAITING:
            said = waiting.get("message") or ""
            return (
                ObjectHealth.DEGRADED,
                f"{line}; {c.get('name')}: {waiting['reason']} {said}".strip(),
            )
    if phase == "Succeeded":
        return ObjectHealth.HEALTHY, "Completed"
    if phase == "Failed":
        return (
            ObjectHealth.DEGRADED,
            f"{line}; {status.get('reason') or status.get('message') or ''}",
        )
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
    if phase == "Running" and conditions.get("Ready") == "True":
        return ObjectHealth.HEALTHY, line
    return ObjectHealth.PROGRESSING, line


def summary(obj: Manifest) -> str:
    """A one-line status of a healthy object, by kind."""
    kind = obj.get("kind")
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    if kind in ("Deployment", "StatefulSet"):
        wanted = spec.get("replicas", 1)
        return f"{status.get('readyReplicas', 0)}/{wanted} ready"
    if kind == "Job":
        return f"Complete ({status.get('succeeded', 0)} succeeded)"
    if kind == "Service":
        ports = ", ".join(str(p.get("port")) for p in spec.get("ports") or [])
        return f"{spec.get('type', 'ClusterIP')} {spec.get('clusterIP', '')} port {ports}".strip()
    if kind == "Secret":
        keys = len(obj.get("data") or {}) + len(obj.get("stringData") or {})
        return f"{obj.get('type', 'Opaque')}, {keys} key{'s' if keys != 1 else ''}"
    if kind == "ConfigMap":
        return f"{len(obj.get('data') or {})} keys"
    if kind == "ResourceQuota":
        used, hard = status.get("used") or {}, status.get("hard") or spec.get("hard") or {}
        shown = [f"{k} {used.get(k, '0')}/{v}" for k, v in list(hard.items())[:3]]
        return ", ".join(shown) or "no limits"
    if kind == "LimitRange":
        limits = (spec.get("limits") or [{}])[0]
        default = limits.get("default") or {}
        return "default " + ", ".join(f"{k} {v}" for k, v in default.items())
    if kind == "NetworkPolicy":
        types = "/".join(spec.get("policyTypes") or ["Ingress"])
        rules = len(spec.get("ingress") or []) + len(spec.get("egress") or [])
        return f"{types}, {rules} allow rule{'s' if rules != 1 else ''}"
    if kind == "ServiceAccount":
        automount = obj.get("automountServiceAccountToken")
        return "token not mounted" if automount is False else "token mounted"
    if kind == "PersistentVolumeClaim":
        size = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "")
        return f"{status.get('phase', 'Pending')} {size}".strip()
    if kind == "Ingress":
        hosts = [r.get("host") for r in spec.get("rules") or [] if r.get("host")]
        return ", ".join(hosts) or "no host"
    return "exists"


def owned_by(pod: Manifest, workloads: list[Manifest]) -> str | None:
    """``Kind/name`` of the workload whose selector picks the pod (the tree's parent)."""
    labels = (pod.get("metadata") or {}).get("labels") or {}
    for workload in workloads:
        selector = ((workload.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        if selector and all(labels.get(k) == v for k, v in selector.items()):
            return f"{workload['kind']}/{workload['metadata']['name']}"
    return None


_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def redacted(manifest: Manifest) -> Manifest:
    """The object as the YAML view may show it: no ``managedFields`` (noise), and for a
    Secret no ``data``/``stringData`` values (the key names only) and no last-applied
    annotation (which would carry them)."""
    shown = copy.deepcopy(manifest)
    meta = shown.get("metadata") or {}
    meta.pop("managedFields", None)
    if shown.get("kind") == "Secret":
        for field in ("data", "stringData"):
            if field in shown:
                shown[field] = dict.fromkeys(shown[field] or {}, "(hidden)")
        annotations = meta.get("annotations") or {}
        annotations.pop(_LAST_APPLIED, None)
    return shown
