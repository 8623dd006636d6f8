"""The ingress listener (CONTRACTS B): the cluster's Ingresses served on their own port.

With ``SimulatorConfig.ingress_port`` set, the runner listens on a second socket and
:func:`storeplane.sim.api.app.create_app` sends its requests here. A request is routed as an
ingress controller routes it: by ``Host`` (the port ignored; a rule without host matches any,
``*.example.com`` matches one label) and path over every namespace's
``networking.k8s.io/v1`` Ingress rules (``Exact``; ``Prefix`` by path elements;
``ImplementationSpecific`` as Prefix; the longest match wins, Exact before Prefix), else an
Ingress's ``defaultBackend``. The ingress class is not looked at. The backend Service's
ready pod on the local node gets the request (:mod:`storeplane.sim.api.forward`) with
``X-Forwarded-Proto/Host/For/Port``; the answer is streamed back.

Answers of its own: 404 when no Ingress matches, 503 when the backend's pods run here but
none is ready, 502 when the backend is simulated (nothing runs behind it).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from ..kinds import by_qualified
from .forward import backend, forward, service_port

Obj = dict[str, Any]
INGRESSES = by_qualified("ingresses.networking.k8s.io")
SERVICES = by_qualified("services")


def _host_matches(rule_host: str | None, host: str) -> bool:
    if not rule_host:
        return True
    if rule_host.startswith("*."):
        first, _, rest = host.partition(".")
        return bool(first) and rest == rule_host[2:]
    return rule_host.lower() == host


def _path_matches(kind: str, rule_path: str, path: str) -> bool:
    if kind == "Exact":
        return path == rule_path
    prefix = rule_path.rstrip("/")
    return not prefix or path == prefix or path.startswith(prefix + "/")


def route(cluster: Any, host: str, path: str) -> tuple[Obj, Obj] | None:
    """(the Ingress, its backend) for a request, or None."""
    best: tuple[tuple[int, int], Obj, Obj] | None = None
    default: tuple[Obj, Obj] | None = None
    for ingress in cluster.store.list_objects(INGRESSES.qualified, copies=False):
        spec = ingress.get("spec") or {}
        for rule in spec.get("rules") or []:
            if not _host_matches(rule.get("host"), host):
                continue
            for item in (rule.get("http") or {}).get("paths") or []:
                kind = str(item.get("pathType") or "ImplementationSpecific")
                rule_path = str(item.get("path") or "/")
                if not _path_matches(kind, rule_path, path):
                    continue
                score = (len(rule_path.rstrip("/")), 1 if kind == "Exact" else 0)
                if best is None or score > best[0]:
                    best = (score, ingress, item.get("backend") or {})
        if default is None and spec.get("defaultBackend"):
            default = (ingress, spec["defaultBackend"])
    if best is not None:
        return best[1], best[2]
    return default


async def handle(request: Request, cluster: Any, node: Any) -> Response:
    host_header = request.headers.get("host", "")
    host = host_header.rsplit(":", 1)[0].lower() if not host_header.startswith("[") else host_header
    path = request.url.path
    found = route(cluster, host, path)
    if found is None:
        return PlainTextResponse(f"no Ingress for host {host} and path {path}\n", status_code=404)
    ingress, target = found
    namespace = ingress["metadata"]["namespace"]
    ref = target.get("service") or {}
    name = str(ref.get("name") or "")
    service = cluster.store.peek(cluster.key(SERVICES, namespace, name))
    if service is None:
        return PlainTextResponse(f"service {namespace}/{name} (the backend of Ingress "
                                 f"{ingress['metadata']['name']}) does not exist\n", status_code=503)  # fmt: skip
    port_ref = (ref.get("port") or {}).get("name") or (ref.get("port") or {}).get("number")
    port = service_port(service, port_ref)
    found_backend = backend(node, cluster, service, port)
    if not found_backend.local:
        return PlainTextResponse(
            f"nothing runs behind service {namespace}/{name}: its pods are simulated (no local "
            "runtime for their images)\n", status_code=502)  # fmt: skip
    endpoint = node.pick_endpoint(str(service["metadata"]["uid"]), port) if port else None
    if endpoint is None:
        return PlainTextResponse(f"no ready endpoint for service {namespace}/{name}\n",
                                 status_code=503)  # fmt: skip
    client = request.client.host if request.client else ""
    forwarded_for = request.headers.get("x-forwarded-for")
    server_port = request.url.port or (443 if request.url.scheme == "https" else 80)
    extra = {
        "X-Forwarded-Proto": request.headers.get("x-forwarded-proto") or request.url.scheme,
        "X-Forwarded-Host": request.headers.get("x-forwarded-host") or host_header,
        "X-Forwarded-For": f"{forwarded_for}, {client}" if forwarded_for else client,
        "X-Forwarded-Port": request.headers.get("x-forwarded-port") or str(server_port),
        "Host": host_header,
    }
    return await forward(request, node, endpoint, path, extra)
