"""The ``services/{name}[:port]/proxy/{path}`` subresource, with a stand-in for the app behind it.

A real API server forwards the request to a ready pod of the Service. The simulator runs no
pods, so it answers *as a healthy app would* on well-known health paths once a workload whose
pod template matches the Service's selector is ready:

- ``/health`` -> ``200 OK`` (text; Medusa's health endpoint)
- ``/wp-json`` and below -> ``200`` with a small WordPress REST index (JSON)
- anything else -> ``200`` with a short text saying the simulator has no real app

No ready backing workload -> ``503 ServiceUnavailable`` ("no endpoints available for service"),
as a real API server says. Tests can make a healthy-looking service fail on purpose with the
annotation ``sim.storeplane.dev/proxy-status: "<code>"`` on the Service. This is a stand-in:
the real engine's health is only checked against a real cluster (tests/e2e/cluster).

Every stand-in answer says so (CONTRACTS A): ``X-Storeplane-Sim-Runtime: simulated`` and
``X-Storeplane-Sim-Simulated-Images: <comma list>`` (the images of the backing workloads'
containers), so storeplane reports the store's ``workload_runtime`` as ``simulated`` and never
mistakes this answer for a working shop.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from ..errors import ApiError, method_not_allowed
from ..kinds import lookup
from .forward import backend, forward, service_port

FORCED_STATUS_ANNOTATION = "sim.storeplane.dev/proxy-status"
RUNTIME_HEADER = "X-Storeplane-Sim-Runtime"
SIMULATED_IMAGES_HEADER = "X-Storeplane-Sim-Simulated-Images"
_WORKLOAD_RESOURCES = (("apps", "v1", "deployments"), ("apps", "v1", "statefulsets"))


def _selected(selector: dict[str, str], labels: dict[str, str] | None) -> bool:
    labels = labels or {}
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _ready(obj: dict[str, Any]) -> bool:
    status = obj.get("status", {})
    wanted = obj.get("spec", {}).get("replicas", 1)
    seen = status.get("observedGeneration", 0) >= obj.get("metadata", {}).get("generation", 0)
    return bool(seen and wanted > 0 and status.get("readyReplicas", 0) >= 1)


def _images(workloads: list[dict[str, Any]]) -> str:
    """The backing workloads' container images, in order, each once: none of them runs."""
    seen: dict[str, None] = {}
    for obj in workloads:
        spec = obj.get("spec", {}).get("template", {}).get("spec", {})
        for container in (*spec.get("initContainers", []), *spec.get("containers", [])):
            if container.get("image"):
                seen[str(container["image"])] = None
    return ",".join(seen)


def _unavailable(name: str) -> ApiError:
    return ApiError(503, "ServiceUnavailable", f'no endpoints available for service "{name}"')


async def serve(
    request: Request, cluster: Any, node: Any, namespace: str, service_ref: str, path: str
) -> Response:
    """The proxy subresource: forwarded for real to a ready pod of the Service when its
    pods run on the local node (``X-Storeplane-Sim-Runtime: local``, any method), else the
    stand-in answer below (GET only)."""
    parts = service_ref.split(":")
    if len(parts) == 3:  # scheme:name:port
        parts = parts[1:]
    name, port_ref = parts[0], (parts[1] if len(parts) > 1 else None)
    services = lookup("", "v1", "services")
    assert services is not None
    service = cluster.get(services, namespace, name)
    port = service_port(service, port_ref)
    found = backend(node, cluster, service, port)
    if found.local:
        target = node.pick_endpoint(str(service["metadata"]["uid"]), port) if port else None
        if target is None:
            raise _unavailable(name)
        return await forward(request, node, target, path, {})
    if request.method != "GET":
        raise method_not_allowed()
    return proxy(cluster, namespace, service_ref, path)


def proxy(cluster: Any, namespace: str, service_ref: str, path: str) -> Response:
    """Answer a proxied GET; raises ApiError like the rest of the routes."""
    name = service_ref.split(":", 1)[0]
    services = lookup("", "v1", "services")
    assert services is not None
    service = cluster.get(services, namespace, name)
    selector = service.get("spec", {}).get("selector") or {}
    backing = []
    for group, version, resource in _WORKLOAD_RESOURCES:
        kind = lookup(group, version, resource)
        assert kind is not None
        for obj in cluster.list_objects(kind, namespace)["items"]:
            template = obj.get("spec", {}).get("template", {}).get("metadata", {})
            if _selected(selector, template.get("labels")):
                backing.append(obj)
    if not any(_ready(obj) for obj in backing):
        raise _unavailable(name)
    answer = _stand_in(service, name, path)
    answer.headers[RUNTIME_HEADER] = "simulated"
    answer.headers[SIMULATED_IMAGES_HEADER] = _images([o for o in backing if _ready(o)])
    return answer


def _stand_in(service: dict[str, Any], name: str, path: str) -> Response:
    forced = (service["metadata"].get("annotations") or {}).get(FORCED_STATUS_ANNOTATION)
    if forced:
        return PlainTextResponse(f"forced status {forced}", status_code=int(forced))
    clean = "/" + path.strip("/")
    if clean == "/health":
        return PlainTextResponse("OK")
    if clean == "/wp-json" or clean.startswith("/wp-json/"):
        body = {"name": "simulated WordPress", "namespaces": ["wp/v2", "wc/store/v1"], "routes": {}}
        return Response(json.dumps(body), media_type="application/json")
    return PlainTextResponse(f"storeplane simulator: no real app behind service {name}")
