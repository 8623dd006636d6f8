"""The scheduler and the Node objects of a simulator with local runtimes.

Started with the agent (:mod:`storeplane.sim.node.agent`) when local runtimes are on; with
the default settings pods are bound to the one pretend node at creation, as before. Two nodes:

- ``storeplane-local``: this machine, with its CPU count and memory (``/proc/meminfo``) as
  capacity, minus a reserve for the system as allocatable. Pods with at least one container
  whose image has a local runtime go here, if their requests fit beside the requests of
  the pods already running here; otherwise they stay Pending with ``PodScheduled=False``
  (reason ``Unschedulable``, e.g. ``0/1 nodes are available: 1 Insufficient memory.``) and a
  ``FailedScheduling`` event, and are tried again when a pod here ends. Requests are what
  count (the scheduler's rule: the larger of the containers' sum and any init container);
  limits are not enforced on processes.
- ``storeplane-sim-node``: the virtual node (kwok's idea) with room for a hundred thousand
  pods, for every pod whose containers are all simulated, so thousands of simulated stores
  never compete with the real processes for this machine.
"""

from __future__ import annotations

import copy
import os
from fractions import Fraction
from typing import Any

from ..admission.quantity import QuantityError, parse
from ..controllers import events
from ..errors import ApiError
from ..kinds import Kind, by_qualified
from ..store.cluster import NODE_NAME, Cluster
from ..store.objects import ObjectKey
from .agent import LOCAL_NODE
from .images import RuntimeTable

Obj = dict[str, Any]
PODS = by_qualified("pods")
NODES = by_qualified("nodes")
COMPONENT = "default-scheduler"
VIRTUAL_NODE = NODE_NAME
RESOURCES = ("cpu", "memory")


def machine() -> dict[str, Fraction]:
    """This machine's capacity: CPUs and memory in bytes."""
    memory = Fraction(8 * 2**30)
    try:
        for line in open("/proc/meminfo"):  # noqa: SIM115 - tiny file
            if line.startswith("MemTotal:"):
                memory = Fraction(int(line.split()[1]) * 1024)
                break
    except OSError:
        pass
    return {"cpu": Fraction(os.cpu_count() or 1), "memory": memory}


def allocatable(capacity: dict[str, Fraction]) -> dict[str, Fraction]:
    """Capacity minus the system's share: 10% of memory (at most 1 GiB), no CPU."""
    reserve = min(capacity["memory"] / 10, Fraction(2**30))
    return {"cpu": capacity["cpu"], "memory": capacity["memory"] - reserve}


def _render(resource: str, value: Fraction) -> str:
    if resource == "cpu":
        millis = int(value * 1000)
        return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"
    return f"{int(value) // 1024}Ki"


def node_object(
    name: str,
    capacity: dict[str, Fraction],
    allocatable_: dict[str, Fraction],
    pods: int,
    virtual: bool,
    now: str,
) -> Obj:
    labels = {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "node.kubernetes.io/instance-type": "storeplane-virtual" if virtual else "storeplane-local",
    }
    return {
        "metadata": {
            "name": name,
            "labels": labels,
            "annotations": {
                "sim.storeplane.dev/node": (
                    "virtual: simulated pods, nothing runs"
                    if virtual
                    else "this machine: pods with a local runtime run as processes"
                )
            },
        },
        "spec": {},
        "status": {
            "capacity": {**{r: _render(r, capacity[r]) for r in RESOURCES}, "pods": str(pods)},
            "allocatable": {
                **{r: _render(r, allocatable_[r]) for r in RESOURCES},
                "pods": str(pods),
            },
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "KubeletReady",
                    "message": "kubelet is posting ready status",
                    "lastHeartbeatTime": now,
                    "lastTransitionTime": now,
                }
            ],
            "addresses": [
                {"type": "InternalIP", "address": "127.0.0.1"},
                {"type": "Hostname", "address": name},
            ],
            "nodeInfo": {
                "kubeletVersion": "v1.31.0",
                "operatingSystem": "linux",
                "architecture": "amd64",
                "containerRuntimeVersion": "storeplane-sim://"
                + ("simulated" if virtual else "local"),
                "kernelVersion": "",
                "osImage": "",
                "kubeProxyVersion": "",
                "machineID": "",
                "systemUUID": "",
                "bootID": "",
            },
        },
    }


def ensure_nodes(cluster: Cluster) -> dict[str, Fraction]:
    """Create or refresh both Node objects; returns the local node's allocatable."""
    now = cluster.now()
    capacity = machine()
    local_alloc = allocatable(capacity)
    huge = {"cpu": Fraction(100000), "memory": Fraction(2**50)}
    for name, cap, alloc, pods, virtual in (
        (LOCAL_NODE, capacity, local_alloc, 110, False),
        (VIRTUAL_NODE, huge, huge, 100000, True),
    ):
        body = node_object(name, cap, alloc, pods, virtual, now)
        key = cluster.key(NODES, None, name)
        if not cluster.store.exists(key):
            cluster.create(NODES, None, {"metadata": body["metadata"], "spec": {}}, "kubelet")
        cluster.write_status(NODES, key, body["status"], "kubelet")
    return local_alloc


def pod_requests(pod: Obj) -> dict[str, Fraction]:
    """What the scheduler counts: max(sum of containers, each init container) per resource."""
    spec = pod.get("spec") or {}

    def requests(container: Obj) -> dict[str, Fraction]:
        resources = container.get("resources") or {}
        wanted = {**(resources.get("limits") or {}), **(resources.get("requests") or {})}
        result = {}
        for name in RESOURCES:
            try:
                result[name] = parse(wanted[name]) if name in wanted else Fraction(0)
            except QuantityError:
                result[name] = Fraction(0)
        return result

    apps = [requests(c) for c in spec.get("containers") or []]
    inits = [requests(c) for c in spec.get("initContainers") or []]
    return {
        r: max([sum((a[r] for a in apps), Fraction(0)), *(i[r] for i in inits)]) for r in RESOURCES
    }


class Scheduler:
    """Binds unscheduled pods (a sync controller: level-triggered on pods)."""

    name = "scheduler"
    resources = ("pods",)

    def __init__(self, table: RuntimeTable, local_allocatable: dict[str, Fraction]) -> None:
        self.table = table
        self.allocatable = local_allocatable
        self._pending: set[ObjectKey] = set()

    def keys_for(self, cluster: Cluster, kind: Kind, obj: Obj) -> list[ObjectKey]:
        key = cluster.key(PODS, obj["metadata"].get("namespace"), obj["metadata"]["name"])
        spec = obj.get("spec") or {}
        if not spec.get("nodeName") and not obj["metadata"].get("deletionTimestamp"):
            self._pending.add(key)
            return [key]
        self._pending.discard(key)
        phase = (obj.get("status") or {}).get("phase")
        if spec.get("nodeName") == LOCAL_NODE and (
            phase in ("Succeeded", "Failed") or obj["metadata"].get("deletionTimestamp")
        ):
            return sorted(self._pending)  # room freed: try the waiting pods again
        return []

    def wants_local(self, pod: Obj) -> bool:
        spec = pod.get("spec") or {}
        return any(
            self.table.lookup(c.get("image")) is not None
            for c in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
        )

    def _used(self, cluster: Cluster) -> dict[str, Fraction]:
        used = {r: Fraction(0) for r in RESOURCES}
        for pod in cluster.store.list_objects("pods", copies=False):
            if (pod.get("spec") or {}).get("nodeName") != LOCAL_NODE:
                continue
            if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                continue
            for r, v in pod_requests(pod).items():
                used[r] += v
        return used

    def sync(self, cluster: Cluster, key: ObjectKey) -> float | None:
        pod = cluster.store.peek(key)
        if pod is None or (pod.get("spec") or {}).get("nodeName"):
            self._pending.discard(key)
            return None
        node = VIRTUAL_NODE
        if self.wants_local(pod):
            wanted = pod_requests(pod)
            used = self._used(cluster)
            short = [r for r in RESOURCES if used[r] + wanted[r] > self.allocatable[r]]
            if short:
                self._unschedulable(cluster, key, pod, short)
                return None
            node = LOCAL_NODE
        new = copy.deepcopy(pod)
        new["spec"]["nodeName"] = node
        try:
            bound = cluster.replace(PODS, key.namespace, key.name, new, COMPONENT)
        except ApiError:
            return 1.0
        self._pending.discard(key)
        events.record(
            cluster,
            bound,
            "Normal",
            "Scheduled",
            f"Successfully assigned {key.namespace}/{key.name} to {node}",
            COMPONENT,
        )
        return None

    def _unschedulable(self, cluster: Cluster, key: ObjectKey, pod: Obj, short: list[str]) -> None:
        reasons = ", ".join(f"1 Insufficient {r}" for r in short)
        message = (
            f"0/1 nodes are available: {reasons}. preemption: 0/1 nodes are available: "
            "1 No preemption victims found for incoming pod."
        )
        status = dict(pod.get("status") or {})
        conditions = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
        old: Obj = next(
            (c for c in status.get("conditions") or [] if c.get("type") == "PodScheduled"), {}
        )
        if old.get("message") == message:
            return
        conditions.append(
            {
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": message,
                "lastProbeTime": None,
                "lastTransitionTime": cluster.now(),
            }
        )
        status["conditions"] = conditions
        status["phase"] = "Pending"
        written = cluster.write_status(PODS, key, status, COMPONENT)
        events.record(cluster, written or pod, "Warning", "FailedScheduling", message, COMPONENT)
