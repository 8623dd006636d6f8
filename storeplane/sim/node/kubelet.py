"""The kubelet stand-in: pods become Running and Ready after the ``Pod`` ready delay.

Run by :class:`storeplane.sim.controllers.manager.manager.ControllerManager` as a timer controller.
A container whose image has the failing tag (fault injection) stays Waiting in
``ErrImagePull`` and the pod never becomes Ready. No containers run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from ..faults import FaultInjector
from ..kinds import Kind
from ..store.cluster import Cluster, Obj
from ..store.objects import ObjectKey

DelayFor = Callable[[str], float]


class PodLifecycle:
    """The kubelet stand-in: pods become Running and Ready after the Pod delay."""

    name = "kubelet"
    resources = ("pods",)
    manager = "kubelet"

    def __init__(self, delay_for: DelayFor, faults: FaultInjector) -> None:
        self._delay_for = delay_for
        self.faults = faults

    def delay(self) -> float:
        return self._delay_for("Pod")

    def needs_work(self, obj: Obj) -> bool:
        status = obj.get("status") or {}
        if obj["metadata"].get("deletionTimestamp"):
            return False
        return status.get("phase") == "Pending" and not status.get("containerStatuses")

    def reconcile(self, cluster: Cluster, kind: Kind, key: ObjectKey, obj: Obj) -> float | None:
        now = cluster.now()
        containers = (obj.get("spec") or {}).get("containers") or []
        failing = [c for c in containers if self.faults.image_fails(c.get("image"))]
        statuses = []
        for c in containers:
            state: Obj
            if c in failing:
                state = {"waiting": {"reason": "ErrImagePull", "message": (
                    f'failed to pull and unpack image "{c.get("image")}": the storeplane '
                    "simulator never pulls images tagged for failure (fault injection)")}}  # fmt: skip
            else:
                state = {"running": {"startedAt": now}}
            statuses.append({"name": c.get("name"), "image": c.get("image"), "imageID": "",
                             "ready": c not in failing, "started": c not in failing,
                             "restartCount": 0, "state": state})  # fmt: skip
        ready = "False" if failing else "True"
        conditions = [
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
            {"type": "Initialized", "status": "True", "lastTransitionTime": now},
            {"type": "ContainersReady", "status": ready, "lastTransitionTime": now},
            {"type": "Ready", "status": ready, "lastTransitionTime": now},
        ]
        status = dict(obj.get("status") or {})
        status.update({
            "phase": "Pending" if failing else "Running",
            "conditions": conditions,
            "hostIP": "10.0.0.10",
            "podIP": _pod_ip(obj["metadata"]["uid"]),
            "startTime": obj["metadata"].get("creationTimestamp", now),
            "containerStatuses": statuses,
        })  # fmt: skip
        cluster.write_status(kind, key, status, self.manager)
        return None


def _pod_ip(uid: str) -> str:
    n = int(hashlib.sha256(uid.encode()).hexdigest()[:6], 16)
    return f"10.244.{(n >> 8) & 255}.{max(1, n & 255) if n & 255 != 255 else 254}"
