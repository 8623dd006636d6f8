"""Built-in controllers: the behaviours of a real cluster that clients wait for.

Started by the app's lifespan (:func:`storeplane.sim.api.app.create_app`) unless
``SimulatorConfig.controllers`` is False. :class:`ControllerManager` runs them all on one
asyncio task, fed by :meth:`Cluster.subscribe`. Two shapes:

- *timer controllers* decide whether an object needs work and schedule a timer a delay
  later. Timers are stored with the objects (see :mod:`storeplane.sim.store.objects`) and
  re-derived at start-up, so pending work (a pod becoming ready, a namespace finishing
  termination) resumes after a restart;
- *sync controllers* are level-triggered: events map to keys in a deduplicated work queue
  and ``sync`` converges one key (see :mod:`storeplane.sim.controllers.workloads`); at start-up every
  object they own is queued once.

This module holds the manager and two timer controllers:

- **JobComplete** (Job): the ``Job`` ready delay after creation the Job has succeeded
  (``succeeded`` = ``spec.completions`` or 1, condition Complete=True). No pods are run
  for Jobs. A Job whose image has the failing tag stays ``active`` forever. The Event
  ``Completed`` (``Job completed``) is recorded, as the job controller does.
- **NamespaceFinalizer** (Namespace): ``terminate_delay`` seconds after a namespace is
  marked for deletion, everything in it is deleted (objects with finalizers are only
  marked, and the namespace waits for them, with the real ``NamespaceContentRemaining`` /
  ``NamespaceFinalizersRemaining`` conditions), then the ``kubernetes`` finalizer is
  dropped and the namespace removed.

The workload controllers (Deployment, ReplicaSet, StatefulSet, kubelet stand-in, PVC
binder, load balancer, ResourceQuota status) live in :mod:`storeplane.sim.controllers.workloads`.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
from typing import Any, Protocol

from ..faults import FaultInjector, Faults
from ..kinds import Kind, by_qualified
from ..node import kubelet
from ..store.cluster import Cluster, Obj, rfc3339
from ..store.objects import ObjectKey, Timer
from . import endpoints, jobs, workloads
from .crds import CrdController
from .events import record
from .serviceaccounts import ServiceAccountSync

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
        if cluster.write_status(kind, key, status, self.manager) is not None:
            record(cluster, obj, "Normal", "Completed", "Job completed", "job-controller")


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


class SyncController(Protocol):
    """A level-triggered controller: events map to keys, ``sync`` converges one key."""

    name: str
    resources: tuple[str, ...]

    def keys_for(self, cluster: Cluster, kind: Kind, obj: Obj) -> list[ObjectKey]: ...

    def sync(self, cluster: Cluster, key: ObjectKey) -> float | None:
        """Converge ``key``; return seconds after which to sync it again, or None."""
        ...


class ControllerManager:
    """Runs the controllers on one asyncio task: fires the timer controllers' due timers
    and drains the sync controllers' work queue (deduplicated keys)."""

    def __init__(self, cluster: Cluster, controllers: list[Any]) -> None:
        self.cluster = cluster
        self.controllers: list[Controller] = [c for c in controllers if hasattr(c, "needs_work")]
        self.sync_controllers: list[SyncController] = [c for c in controllers if hasattr(c, "sync")]
        self._by_resource: dict[str, list[Controller]] = {}
        for controller in self.controllers:
            for resource in controller.resources:
                self._by_resource.setdefault(resource, []).append(controller)
        self._sync_by_resource: dict[str, list[SyncController]] = {}
        for sync_controller in self.sync_controllers:
            for resource in sync_controller.resources:
                self._sync_by_resource.setdefault(resource, []).append(sync_controller)
        self._by_name = {c.name: c for c in self.controllers}
        self._heap: list[tuple[float, int, ObjectKey, str]] = []
        self._seq = 0
        self._pending: dict[tuple[int, ObjectKey], SyncController] = {}
        self._wake = asyncio.Event()
        cluster.subscribe_changes(self._on_event)

    def _on_event(self, event: str, kind: Kind, obj: Obj, old: Obj | None = None) -> None:
        """Called for every change, with the stored object (read it, never change it)."""
        for sync_controller in self._sync_by_resource.get(kind.qualified, ()):
            for key in sync_controller.keys_for(self.cluster, kind, obj):
                self.enqueue(sync_controller, key)
        if event == "DELETED":
            return  # the store drops an object's timers with it
        key = self.cluster.key(kind, obj["metadata"].get("namespace"), obj["metadata"]["name"])
        for controller in self._by_resource.get(kind.qualified, ()):
            self._observe(controller, key, obj)

    def enqueue(self, controller: SyncController, key: ObjectKey) -> None:
        self._pending[(id(controller), key)] = controller
        self._wake.set()

    def drain(self, limit: int = 1000) -> None:
        """Sync up to ``limit`` queued keys (new work they cause waits for the next round)."""
        batch = list(self._pending.items())[:limit]
        for item, _ in batch:
            del self._pending[item]
        for (_, key), controller in batch:
            try:
                again = controller.sync(self.cluster, key)
            except Exception:
                logger.exception("%s failed to sync %s", controller.name, key)
                continue
            if again is not None:
                asyncio.get_running_loop().call_later(again, self.enqueue, controller, key)

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
        """Derive every timer and sync from the stored objects (start-up, after a restart)."""
        for sync_controller in self.sync_controllers:
            for resource in sync_controller.resources[:1]:  # the kind it converges
                kind = by_qualified(resource)
                for obj in self.cluster.store.list_objects(resource, copies=False):
                    for key in sync_controller.keys_for(self.cluster, kind, obj):
                        self.enqueue(sync_controller, key)
        for resource, controllers in self._by_resource.items():
            for obj in self.cluster.store.list_objects(resource, copies=False):
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
            obj = store.peek(key)
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
                current = store.peek(key)
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
            self.drain()
            if self._pending:
                await asyncio.sleep(0)  # let requests in between rounds
                continue
            timeout = self._heap[0][0] - self.cluster.clock() if self._heap else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)


def default_controllers(
    ready_delay: float,
    terminate_delay: float,
    faults: FaultInjector | None = None,
    ready_delays: dict[str, float] | None = None,
    node_controllers: list[Any] | None = None,
) -> list[Any]:
    """Every built-in controller. ``ready_delays`` overrides ``ready_delay`` per kind
    (``Pod``, ``Job``, ``PersistentVolumeClaim``, ``Ingress``). ``node_controllers`` (the
    scheduler, given when local runtimes are on) switch to the runtime-mode set: Jobs run
    pods (:mod:`.jobs`), Endpoints follow pods (:mod:`.endpoints`), the virtual node's
    kubelet handles only the pods bound to it."""
    faults = faults or FaultInjector(Faults())
    delays = dict(ready_delays or {})

    def delay_for(kind: str) -> float:
        return delays.get(kind, ready_delay)

    runtime_mode = node_controllers is not None
    common = [
        ServiceAccountSync(),
        workloads.DeploymentSync(),
        workloads.ReplicaSetSync(faults),
        workloads.StatefulSetSync(faults),
        workloads.QuotaStatus(),
        kubelet.PodLifecycle(delay_for, faults, runtime_mode=runtime_mode),
        workloads.PvcBinder(delay_for),
        workloads.LoadBalancer(delay_for),
        NamespaceFinalizer(terminate_delay),
        CrdController(),
    ]
    if not runtime_mode:
        return [*common, JobComplete(delay_for("Job"), faults)]
    return [
        *common,
        *(node_controllers or []),
        kubelet.SimulatedCompletion(delay_for),
        jobs.JobController(),
        endpoints.EndpointsController(),
    ]
