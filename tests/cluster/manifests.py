"""Small manifests and names for the cluster adapter tests."""

from __future__ import annotations

import uuid
from typing import Any

READY_DELAY = 0.5  # the module simulators' ready delay, in seconds
STORE_LABEL = "storeplane.dev/store-id"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def namespace(name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": labels or {}},
    }


def config_map(
    name: str, ns: str, data: dict[str, str], store_id: str | None = None
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "namespace": ns,
            "labels": {STORE_LABEL: store_id} if store_id else {},
        },
        "data": data,
    }


def deployment(name: str, ns: str, store_id: str, app: str | None = None) -> dict[str, Any]:
    labels = {"app": app or name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "labels": {STORE_LABEL: store_id}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "app", "image": "nginx"}]},
            },
        },
    }


def service(name: str, ns: str, store_id: str, app: str, port: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": ns, "labels": {STORE_LABEL: store_id}},
        "spec": {"selector": {"app": app}, "ports": [{"name": "http", "port": port}]},
    }
