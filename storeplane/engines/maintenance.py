"""The maintenance backend of a suspended store: what its Ingress sends visitors to.

While a store is suspended (``spec.suspended``), its engine chart scales every workload to
zero and points the Ingress at the Service ``storeplane-maintenance`` (chart values
``suspended`` and ``maintenance.service``); :func:`maintenance_manifests` is that Service, a
one-replica Deployment and the ConfigMap holding its program
(:mod:`storeplane.engines.maintenance_server`: 503, a small page, ``Retry-After``). The
reconciler adds them to a suspended store's workloads (:mod:`storeplane.reconciler.desired`),
so they are applied, judged ready and, on resume, pruned like any chart object.

Why a pod of its own and not the ingress controller's error pages: an Ingress whose backend
has no endpoints answers 503 on every controller, but each one words it its own way (and
custom error pages are controller-specific annotations); a backend of our own is the same
page on any cluster and on the simulator's ingress listener, where the node runs the image's
``python3`` as a local process (its runtime table). Its cost: one small pod per suspended
store (10m CPU, 32Mi requested) and the image pull.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from storeplane.domain.store import Store

MAINTENANCE_NAME = "storeplane-maintenance"
ROLE_LABEL = "storeplane.dev/role"
ROLE = "maintenance"
PORT = 8080
DEFAULT_IMAGE = "docker.io/library/python:3.12-alpine"
_SERVER = Path(__file__).with_name("maintenance_server.py")
_MOUNT = "/etc/maintenance"

Manifest = dict[str, Any]


def is_maintenance(obj: Manifest) -> bool:
    """Whether a live object (a pod) belongs to the maintenance backend."""
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return labels.get(ROLE_LABEL) == ROLE


def chart_values(store: Store) -> dict[str, Any]:
    """The chart values every engine chart takes for suspension."""
    return {"suspended": store.spec.suspended, "maintenance": {"service": MAINTENANCE_NAME}}


def _labels(store: Store) -> dict[str, str]:
    # The reconciler adds the store's labels to the objects, as for chart objects; the pod
    # template needs them itself (storeplane finds and audits pods by the store-id label).
    return {
        "app.kubernetes.io/name": MAINTENANCE_NAME,
        "app.kubernetes.io/managed-by": "storeplane",
        "app.kubernetes.io/part-of": "storeplane",
        "storeplane.dev/store-id": store.id,
        ROLE_LABEL: ROLE,
    }


def maintenance_manifests(store: Store, image: str = DEFAULT_IMAGE) -> list[Manifest]:
    """ConfigMap, Deployment and Service of the maintenance backend of ``store``."""
    selector = {"app.kubernetes.io/name": MAINTENANCE_NAME}
    meta = {"name": MAINTENANCE_NAME, "labels": _labels(store)}
    security = {
        "allowPrivilegeEscalation": False,
        "runAsNonRoot": True,
        "runAsUser": 65534,
        "runAsGroup": 65534,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    container = {
        "name": "maintenance",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": ["python3", f"{_MOUNT}/server.py"],
        "ports": [{"name": "http", "containerPort": PORT, "protocol": "TCP"}],
        "env": [
            {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            {"name": "PORT", "value": str(PORT)},
            {"name": "STORE_NAME", "value": store.name},
            {"name": "PYTHONDONTWRITEBYTECODE", "value": "1"},
        ],
        # TCP, not HTTP: every path of the page answers 503, on purpose.
        "readinessProbe": {"tcpSocket": {"port": "http"}, "periodSeconds": 2},
        "resources": {
            "requests": {"cpu": "10m", "memory": "32Mi"},
            "limits": {"cpu": "100m", "memory": "64Mi"},
        },
        "securityContext": security,
        "volumeMounts": [{"name": "program", "mountPath": _MOUNT, "readOnly": True}],
    }
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": dict(meta),
            "data": {"server.py": _SERVER.read_text()},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": dict(meta),
            "spec": {
                "replicas": 1,
                "revisionHistoryLimit": 1,
                "selector": {"matchLabels": selector},
                "template": {
                    "metadata": {"labels": _labels(store)},
                    "spec": {
                        "serviceAccountName": "store",
                        "automountServiceAccountToken": False,
                        "enableServiceLinks": False,
                        "securityContext": {
                            "runAsNonRoot": True,
                            "seccompProfile": {"type": "RuntimeDefault"},
                        },
                        "containers": [container],
                        "volumes": [{"name": "program", "configMap": {"name": MAINTENANCE_NAME}}],
                    },
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": dict(meta),
            "spec": {
                "selector": selector,
                "ports": [{"name": "http", "port": PORT, "targetPort": "http", "protocol": "TCP"}],
            },
        },
    ]
