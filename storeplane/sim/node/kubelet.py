"""The virtual node's kubelet: pods become Running and Ready after the ``Pod`` ready delay.

Run by :class:`storeplane.sim.controllers.manager.ControllerManager` as a timer controller,
for every pod with the default settings and, when local runtimes are on, for the pods the
scheduler bound to the virtual node (:mod:`storeplane.sim.node.scheduler`). Containers go
through the runtime port (:mod:`storeplane.sim.node.runtime`) to the simulated runtime:
nothing runs, and the pod's status is the only record. A container whose image has the
failing tag (fault injection) stays Waiting in ``ErrImagePull`` and the pod never becomes
Ready.

With local runtimes on, a pod here also carries the ``sim.storeplane.dev/Simulated``
condition naming its images, and a run-to-completion pod (a Job's) ends ``Succeeded`` the
``Job`` delay after it started (:class:`SimulatedCompletion`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from ..faults import FaultInjector
from ..kinds import Kind
from ..store.cluster import NODE_NAME, Cluster, Obj
from ..store.objects import ObjectKey
from .runtime import ContainerConfig, ProcessSpec, SandboxConfig
from .simulated import SimulatedRuntime

DelayFor = Callable[[str], float]
SIMULATED_CONDITION = "sim.storeplane.dev/Simulated"


def simulated_condition(images: list[str], now: str) -> Obj:
    return {"type": SIMULATED_CONDITION, "status": "True", "reason": "NoLocalRuntime",
            "message": "no local runtime for " + ", ".join(images)
            + ": these containers are simulated (nothing runs)", "lastTransitionTime": now}  # fmt: skip


def _images(spec: Obj) -> list[str]:
    seen: dict[str, None] = {}
    for c in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        seen[str(c.get("image"))] = None
    return list(seen)


class PodLifecycle:
    """The virtual node's kubelet: pods become Running and Ready after the Pod delay."""

    name = "kubelet"
    resources = ("pods",)
    manager = "kubelet"

    def __init__(
        self, delay_for: DelayFor, faults: FaultInjector, runtime_mode: bool = False
    ) -> None:
        self._delay_for = delay_for
        self.faults = faults
        self.runtime_mode = runtime_mode
        self.runtime = SimulatedRuntime()

    def delay(self) -> float:
        return self._delay_for("Pod")

    def needs_work(self, obj: Obj) -> bool:
        status = obj.get("status") or {}
        if obj["metadata"].get("deletionTimestamp"):
            return False
        if self.runtime_mode and (obj.get("spec") or {}).get("nodeName") != NODE_NAME:
            return False
        return status.get("phase") == "Pending" and not status.get("containerStatuses")

    def reconcile(self, cluster: Cluster, kind: Kind, key: ObjectKey, obj: Obj) -> float | None:
        now = cluster.now()
        meta, spec = obj["metadata"], obj.get("spec") or {}
        containers = spec.get("containers") or []
        failing = [c for c in containers if self.faults.image_fails(c.get("image"))]
        ip = _pod_ip(meta["uid"])
        sandbox = self.runtime.run_pod_sandbox(
            SandboxConfig(meta["uid"], meta.get("namespace", ""), meta["name"], ip, Path("/"))
        )
        statuses = []
        for c in containers:
            state: Obj
            if c in failing:  # the pull fails before the runtime is asked for anything
                state = {"waiting": {"reason": "ErrImagePull", "message": (
                    f'failed to pull and unpack image "{c.get("image")}": the storeplane '
                    "simulator never pulls images tagged for failure (fault injection)")}}  # fmt: skip
            else:
                process = ProcessSpec(("simulated",), {}, Path("/"))
                config = ContainerConfig(str(c.get("name")), str(c.get("image")), 0, process,
                                         Path("/dev/null"))  # fmt: skip
                container_id = self.runtime.create_container(sandbox, config)
                self.runtime.start_container(container_id)
                state = {"running": {"startedAt": now}}
            statuses.append({"name": c.get("name"), "image": c.get("image"), "imageID": "",
                             "ready": c not in failing, "started": c not in failing,
                             "restartCount": 0, "state": state})  # fmt: skip
        self.runtime.remove_pod_sandbox(sandbox)  # nothing is kept: the status is the record
        ready = "False" if failing else "True"
        conditions = [
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
            {"type": "Initialized", "status": "True", "lastTransitionTime": now},
            {"type": "ContainersReady", "status": ready, "lastTransitionTime": now},
            {"type": "Ready", "status": ready, "lastTransitionTime": now},
        ]
        if self.runtime_mode:
            conditions.append(simulated_condition(_images(spec), now))
        status = dict(obj.get("status") or {})
        status.update({
            "phase": "Pending" if failing else "Running",
            "conditions": conditions,
            "hostIP": "10.0.0.10",
            "podIP": ip,
            "startTime": obj["metadata"].get("creationTimestamp", now),
            "containerStatuses": statuses,
        })  # fmt: skip
        cluster.write_status(kind, key, status, self.manager)
        return None


class SimulatedCompletion:
    """With local runtimes on: a run-to-completion pod (restartPolicy Never or OnFailure,
    e.g. a Job's) on the virtual node exits 0 the ``Job`` delay after it started."""

    name = "kubelet-completion"
    resources = ("pods",)
    manager = "kubelet"

    def __init__(self, delay_for: DelayFor) -> None:
        self._delay_for = delay_for

    def delay(self) -> float:
        return self._delay_for("Job")

    def needs_work(self, obj: Obj) -> bool:
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        return (
            spec.get("nodeName") == NODE_NAME
            and spec.get("restartPolicy") in ("Never", "OnFailure")
            and status.get("phase") == "Running"
            and not obj["metadata"].get("deletionTimestamp")
        )

    def reconcile(self, cluster: Cluster, kind: Kind, key: ObjectKey, obj: Obj) -> float | None:
        now = cluster.now()
        status = dict(obj.get("status") or {})
        finished = []
        for container in status.get("containerStatuses") or []:
            started = ((container.get("state") or {}).get("running") or {}).get("startedAt", now)
            finished.append({**container, "ready": False, "started": False, "state": {
                "terminated": {"exitCode": 0, "reason": "Completed", "startedAt": started,
                               "finishedAt": now}}})  # fmt: skip
        conditions = []
        for condition in status.get("conditions") or []:
            if condition.get("type") in ("Ready", "ContainersReady"):
                condition = {**condition, "status": "False", "reason": "PodCompleted",
                             "lastTransitionTime": now}  # fmt: skip
            conditions.append(condition)
        status.update({"phase": "Succeeded", "containerStatuses": finished,
                       "conditions": conditions})  # fmt: skip
        cluster.write_status(kind, key, status, self.manager)
        return None


def _pod_ip(uid: str) -> str:
    n = int(hashlib.sha256(uid.encode()).hexdigest()[:6], 16)
    return f"10.244.{(n >> 8) & 255}.{max(1, n & 255) if n & 255 != 255 else 254}"
