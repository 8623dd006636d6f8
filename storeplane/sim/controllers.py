"""Built-in controllers: the few behaviours of a real cluster that clients wait for.

Started by the app's lifespan (:func:`storeplane.sim.app.create_app`). Each controller
watches some kinds through :meth:`Cluster.subscribe`, decides whether an object needs work,
and schedules a timer; a single asyncio task fires due timers. Timers are stored with the
objects (see :mod:`storeplane.sim.store`) and re-derived from the objects at start-up, so
pending work resumes after a restart.

- **WorkloadReady** (Deployment, StatefulSet, ReplicaSet): ``ready_delay`` seconds after a
  new generation is stored, status says every replica is ready and updated for that
  generation (``observedGeneration``, ``replicas``, ``readyReplicas``,
  ``availableReplicas``, ``updatedReplicas`` = ``spec.replicas``; Deployments also get
  Available=True and Progressing=True/NewReplicaSetAvailable). Until then status is left as
  it was, so ``status.observedGeneration < metadata.generation`` is what "not ready yet"
  looks like after a spec change. No ReplicaSets or Pods are created.
- **JobComplete** (Job): ``ready_delay`` seconds after creation the Job has succeeded
  (``succeeded`` = ``spec.completions`` or 1, condition Complete=True).
- **NamespaceFinalizer** (Namespace): ``terminate_delay`` seconds after a namespace is
  marked for deletion, everything in it is deleted, then the namespace itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import heapq
import json
import logging
from typing import Any, Protocol

from .cluster import Cluster, Obj, rfc3339
from .faults import FaultInjector, Faults
from .kinds import Kind, by_qualified
from .store import ObjectKey, Timer

logger = logging.getLogger(__name__)

RECHECK = 0.2  # seconds between passes of a controller waiting on something else


class Controller(Protocol):
    name: str
    resources: tuple[str, ...]  # qualified resource names, e.g. "deployments.apps"

    def delay(self) -> float:
        """Seconds from noticing the work to doing it."""
        ...

    def needs_work(self, obj: Obj) -> bool: ...

    def reconcile(self, cluster: Cluster, kind: Kind, key: ObjectKey, obj: Obj) -> float | None:
        """Do the work; return seconds after which to look again, or None when done."""
        ...


def _generation(obj: Obj) -> int:
    return int(obj["metadata"].get("generation") or 0)


def _condition(ctype: str, reason: str, message: str, now: str, status: str = "True") -> Obj:
    return {
        "type": ctype,
        "status": status,
        "reason": reason,
        "message": message,
        "lastUpdateTime": now,
        "lastTransitionTime": now,
    }


class WorkloadReady:
    name = "workload-ready"
    resources = ("deployments.apps", "statefulsets.apps", "replicasets.apps")
    manager = "storeplane-sim-workload-controller"

    def __init__(self, ready_delay: float, faults: FaultInjector | None = None) -> None:
        self._delay = ready_delay
        self._faults = faults or FaultInjector(Faults())

    def delay(self) -> float:
        return self._delay

    def needs_work(self, obj: Obj) -> bool:
        status = obj.get("status") or {}
        spec = obj.get("spec") or {}
        replicas = int(spec.get("replicas", 1))
        if status.get("observedGeneration") != _generation(obj):
            return True
        if self._faults.template_fails(spec.get("template")):
            return False  # reported as never ready; a new generation tries again
        return bool(status.get("readyReplicas", 0) != replicas)

    def reconcile(self, cluster: Cluster, kind: Kind, key: ObjectKey, obj: Obj) -> None:
        spec = obj.get("spec") or {}
        replicas = int(spec.get("replicas", 1))
        now = cluster.now()
        if self._faults.template_fails(spec.get("template")):
            self._never_ready(cluster, kind, key, obj, replicas, now)
            return
        status: Obj = {
            "observedGeneration": _generation(obj),
            "replicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
        }
        if kind.kind == "ReplicaSet":
            status["fullyLabeledReplicas"] = replicas
        else:
            status["updatedReplicas"] = replicas
        revision = hashlib.sha256(
            json.dumps(spec.get("template"), sort_keys=True).encode()
        ).hexdigest()[:10]
        name = obj["metadata"]["name"]
        if kind.kind == "Deployment":
            status["conditions"] = [
                _condition(
                    "Available", "MinimumReplicasAvailable", "Deployment has minimum availability.",
                    now,
                ),
                _condition(
                    "Progressing", "NewReplicaSetAvailable",
                    f'ReplicaSet "{name}-{revision}" has successfully progressed.', now,
                ),
            ]  # fmt: skip
        elif kind.kind == "StatefulSet":
            status["currentReplicas"] = replicas
            status["currentRevision"] = status["updateRevision"] = f"{name}-{revision}"
            status["collisionCount"] = 0
        cluster.write_status(kind, key, status, self.manager)

    def _never_ready(
        self, cluster: Cluster, kind: Kind, key: ObjectKey, obj: Obj, replicas: int, now: str
    ) -> None:
        """Status of a workload whose image never becomes ready (fault injection)."""
        status: Obj = {"observedGeneration": _generation(obj), "replicas": replicas}
        if kind.kind == "Deployment":
            status["updatedReplicas"] = replicas
            status["unavailableReplicas"] = replicas
            name = obj["metadata"]["name"]
            status["conditions"] = [
                _condition(
                    "Available", "MinimumReplicasUnavailable",
                    "Deployment does not have minimum availability.", now, status="False",
                ),
                _condition(
                    "Progressing", "ReplicaSetUpdated",
                    f'ReplicaSet "{name}" is progressing.', now,
                ),
            ]  # fmt: skip
        elif kind.kind == "StatefulSet":
            status["currentReplicas"] = replicas
            status["updatedReplicas"] = replicas
        cluster.write_status(kind, key, status, self.manager)


class JobComplete:
    name = "job-complete"
    resources = ("jobs.batch",)
    manager = "storeplane-sim-job-controller"

    def __init__(self, ready_delay: float, faults: FaultInjector | None = None) -> None:
        self._delay = ready_delay
        self._faults = faults or FaultInjector(Faults())

    def delay(self) -> float:
        return self._delay

    def needs_work(self, obj: Obj) -> bool:
        status = obj.get("status") or {}
        if status.get("active") and self._faults.template_fails(
            (obj.get("spec") or {}).get("template")
        ):
            return False  # stuck on an image that never becomes ready
        conditions = status.get("conditions") or []
        return not any(
            c.get("type") == "Complete" and c.get("status") == "True" for c in conditions
        )

    def reconcile(self, cluster: Cluster, kind: Kind, key: ObjectKey, obj: Obj) -> None:
        now = cluster.now()
        if self._faults.template_fails((obj.get("spec") or {}).get("template")):
            started = obj["metadata"].get("creationTimestamp", now)
            cluster.write_status(kind, key, {"startTime": started, "active": 1}, self.manager)
            return
        completions = int((obj.get("spec") or {}).get("completions") or 1)
        status: Obj = {
            "startTime": obj["metadata"].get("creationTimestamp", now),
            "completionTime": now,
            "succeeded": completions,
            "ready": 0,
            "conditions": [
                {
                    "type": "Complete",
                    "status": "True",
                    "lastProbeTime": now,
                    "lastTransitionTime": now,
                }
            ],
        }
        cluster.write_status(kind, key, status, self.manager)


class NamespaceFinalizer:
    name = "namespace-finalizer"
    resources = ("namespaces",)

    def __init__(self, terminate_delay: float) -> None:
        self._delay = terminate_delay

    def delay(self) -> float:
        return self._delay

    def needs_work(self, obj: Obj) -> bool:
        return bool(obj["metadata"].get("deletionTimestamp"))

    def reconcile(self, cluster: Cluster, kind: Kind, key: ObjectKey, obj: Obj) -> float | None:
        if cluster.finalize_namespace(key.name):
            return None
        return RECHECK  # content with finalizers remains: look again soon


class ControllerManager:
    """Schedules and fires the controllers' timers on one asyncio task."""

    def __init__(self, cluster: Cluster, controllers: list[Any]) -> None:
        self.cluster = cluster
        self.controllers: list[Controller] = controllers
        self._by_resource: dict[str, list[Controller]] = {}
        for controller in controllers:
            for resource in controller.resources:
                self._by_resource.setdefault(resource, []).append(controller)
        self._by_name = {c.name: c for c in controllers}
        self._heap: list[tuple[float, int, ObjectKey, str]] = []
        self._seq = 0
        self._wake = asyncio.Event()
        cluster.subscribe(self._on_event)

    def _on_event(self, event: str, kind: Kind, obj: Obj) -> None:
        if event == "DELETED":
            return  # the store drops an object's timers with it
        key = self.cluster.key(kind, obj["metadata"].get("namespace"), obj["metadata"]["name"])
        for controller in self._by_resource.get(kind.qualified, ()):
            self._observe(controller, key, obj)

    def _observe(self, controller: Controller, key: ObjectKey, obj: Obj) -> None:
        store = self.cluster.store
        if not controller.needs_work(obj):
            store.clear_timer(key, controller.name)
            return
        existing = store.get_timer(key, controller.name)
        if existing is not None and existing.generation == _generation(obj):
            self._push(existing)  # already scheduled (e.g. loaded from the state file)
            return
        timer = Timer(key, controller.name, self.cluster.clock() + controller.delay(),
                      _generation(obj))  # fmt: skip
        store.set_timer(timer)
        self._push(timer)

    def _push(self, timer: Timer) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (timer.due, self._seq, timer.key, timer.controller))
        self._wake.set()

    def resync(self) -> None:
        """Derive every timer from the stored objects (start-up, after a restart)."""
        for resource, controllers in self._by_resource.items():
            for obj in self.cluster.store.list_objects(resource):
                meta = obj["metadata"]
                key = ObjectKey(resource, meta.get("namespace", ""), meta["name"])
                for controller in controllers:
                    self._observe(controller, key, obj)

    def fire_due(self) -> None:
        """Run every timer that is due now."""
        now = self.cluster.clock()
        store = self.cluster.store
        while self._heap and self._heap[0][0] <= now:
            due, _, key, name = heapq.heappop(self._heap)
            timer = store.get_timer(key, name)
            if timer is None or timer.due != due:
                continue  # superseded or cleared
            controller = self._by_name[name]
            kind = by_qualified(key.resource)
            obj = store.get(key)
            store.clear_timer(key, name)
            if obj is None:
                continue
            if _generation(obj) != timer.generation:
                self._observe(controller, key, obj)
                continue
            try:
                again = controller.reconcile(self.cluster, kind, key, obj)
            except Exception:
                logger.exception("%s failed on %s", name, key)
                again = None
            if again is not None:
                current = store.get(key)
                if current is not None:
                    requeued = Timer(key, name, self.cluster.clock() + again, _generation(current))
                    store.set_timer(requeued)
                    self._push(requeued)
            logger.debug("%s reconciled %s at %s", name, key, rfc3339(now))

    async def run(self) -> None:
        """Fire timers forever; cancel the task to stop."""
        self.resync()
        while True:
            self._wake.clear()
            self.fire_due()
            timeout = self._heap[0][0] - self.cluster.clock() if self._heap else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)


def default_controllers(
    ready_delay: float, terminate_delay: float, faults: FaultInjector | None = None
) -> list[Any]:
    return [
        WorkloadReady(ready_delay, faults),
        JobComplete(ready_delay, faults),
        NamespaceFinalizer(terminate_delay),
    ]
