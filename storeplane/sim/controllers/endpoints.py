"""The endpoints controllers of a simulator with local runtimes: Endpoints and EndpointSlices
follow the pods a Service selects.

Level-triggered on Services and pods (as ``pkg/controller/endpoint`` and
``endpointslice`` are), started only when local runtimes are on. For each Service with a
selector: an ``Endpoints`` object of the same name (ready pods under ``addresses``, the others
under ``notReadyAddresses``) and one ``EndpointSlice`` ``<service>-<5 chars>`` (label
``kubernetes.io/service-name``, owned by the Service) with each pod's ``ready``/``serving``/
``terminating`` conditions. Named target ports are resolved from the pods' container ports.
Written only when they change; removed with the Service.
"""

from __future__ import annotations

import contextlib
import hashlib
from typing import Any

from ..errors import ApiError
from ..kinds import Kind, by_qualified
from ..store.cluster import Cluster
from ..store.objects import ObjectKey

Obj = dict[str, Any]
SERVICES = by_qualified("services")
PODS = by_qualified("pods")
ENDPOINTS = by_qualified("endpoints")
SLICES = by_qualified("endpointslices.discovery.k8s.io")
MANAGER = "endpoint-controller"
SLICE_MANAGER = "endpointslice-controller.k8s.io"


def _ready(pod: Obj) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])  # fmt: skip


def _target(pod: Obj, port: Obj) -> int | None:
    target = port.get("targetPort", port.get("port"))
    if isinstance(target, int) or (isinstance(target, str) and target.isdigit()):
        return int(target)
    for container in (pod.get("spec") or {}).get("containers") or []:
        for item in container.get("ports") or []:
            if item.get("name") == target:
                return int(item["containerPort"])
    return None


class EndpointsController:
    name = "endpoints"
    resources = ("services", "pods")

    def keys_for(self, cluster: Cluster, kind: Kind, obj: Obj) -> list[ObjectKey]:
        namespace = obj["metadata"].get("namespace", "")
        if kind is SERVICES:
            return [cluster.key(SERVICES, namespace, obj["metadata"]["name"])]
        labels = obj["metadata"].get("labels") or {}
        keys = []
        for service in cluster.store.values("services", namespace):
            selector = (service.get("spec") or {}).get("selector") or {}
            if selector and all(labels.get(k) == v for k, v in selector.items()):
                keys.append(cluster.key(SERVICES, namespace, service["metadata"]["name"]))
        return keys

    def sync(self, cluster: Cluster, key: ObjectKey) -> float | None:
        service = cluster.store.peek(key)
        slice_name = f"{key.name}-{hashlib.sha256(key.name.encode()).hexdigest()[:5]}"
        if service is None or service["metadata"].get("deletionTimestamp"):
            for kind, name in ((ENDPOINTS, key.name), (SLICES, slice_name)):
                if cluster.store.exists(cluster.key(kind, key.namespace, name)):
                    with contextlib.suppress(ApiError):
                        cluster.delete(kind, key.namespace, name)
            return None
        spec = service.get("spec") or {}
        selector = spec.get("selector") or {}
        if not selector:
            return None
        pods = [p for p in cluster.store.values("pods", key.namespace)
                if all((p["metadata"].get("labels") or {}).get(k) == v for k, v in selector.items())
                and (p.get("status") or {}).get("podIP")
                and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]  # fmt: skip
        pods.sort(key=lambda p: str(p["metadata"]["name"]))
        ports = spec.get("ports") or []
        resolved = [(p, next((t for pod in pods if (t := _target(pod, p)) is not None),
                             p.get("targetPort") if isinstance(p.get("targetPort"), int)
                             else p.get("port"))) for p in ports]  # fmt: skip

        def address(pod: Obj) -> Obj:
            meta = pod["metadata"]
            return {"ip": pod["status"]["podIP"], "nodeName": pod["spec"].get("nodeName"),
                    "targetRef": {"kind": "Pod", "namespace": meta.get("namespace"),
                                  "name": meta["name"], "uid": meta["uid"]}}  # fmt: skip

        subset: Obj = {}
        ready = [address(p) for p in pods if _ready(p)]
        not_ready = [address(p) for p in pods if not _ready(p)]
        if ready:
            subset["addresses"] = ready
        if not_ready:
            subset["notReadyAddresses"] = not_ready
        endpoint_ports = [{k: v for k, v in {"name": p.get("name"), "port": target,
                                              "protocol": p.get("protocol", "TCP")}.items()
                           if v is not None} for p, target in resolved]  # fmt: skip
        if subset:
            subset["ports"] = endpoint_ports
        labels = dict(service["metadata"].get("labels") or {})
        endpoints = {"metadata": {"name": key.name, "labels": labels},
                     "subsets": [subset] if subset else []}  # fmt: skip
        self._put(cluster, ENDPOINTS, key.namespace, key.name, endpoints, MANAGER)
        owner = {"apiVersion": "v1", "kind": "Service", "name": key.name,
                 "uid": service["metadata"]["uid"], "controller": True,
                 "blockOwnerDeletion": True}  # fmt: skip
        slice_body = {
            "metadata": {"name": slice_name, "ownerReferences": [owner],
                         "labels": {**labels, "kubernetes.io/service-name": key.name,
                                    "endpointslice.kubernetes.io/managed-by": SLICE_MANAGER}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": [p["status"]["podIP"]],
                           "conditions": {"ready": _ready(p), "serving": _ready(p),
                                          "terminating": False},
                           "nodeName": p["spec"].get("nodeName"),
                           "targetRef": address(p)["targetRef"]} for p in pods],
            "ports": endpoint_ports,
        }  # fmt: skip
        self._put(cluster, SLICES, key.namespace, slice_name, slice_body, SLICE_MANAGER)
        return None

    @staticmethod
    def _put(
        cluster: Cluster, kind: Kind, namespace: str, name: str, body: Obj, manager: str
    ) -> None:
        current = cluster.store.peek(cluster.key(kind, namespace, name))
        try:
            if current is None:
                cluster.create(kind, namespace, body, manager)
                return
            content = {k: v for k, v in body.items() if k != "metadata"}
            if all(current.get(k) == v for k, v in content.items()) and (
                current["metadata"].get("labels") == body["metadata"].get("labels")
            ):
                return
            new = {**{k: v for k, v in current.items() if k not in content}, **content}
            new["metadata"] = {**current["metadata"], "labels": body["metadata"].get("labels")}
            cluster.replace(kind, namespace, name, new, manager)
        except ApiError:
            pass  # the namespace is going away
