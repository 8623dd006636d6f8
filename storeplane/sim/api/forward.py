"""HTTP forwarding to a pod of the local node, for the service proxy and the ingress listener.

Used by :mod:`storeplane.sim.api.proxy` (``services/NAME:PORT/proxy/...``, CONTRACTS A) and
:mod:`storeplane.sim.api.ingress` (CONTRACTS B). :func:`backend` finds the ready local
endpoints of a Service port; :func:`forward` sends the request (any method, the headers but
the hop-by-hop ones, the body) to one of them and streams the answer back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from ..kinds import by_qualified
from ..node.agent import LocalNode, is_local

Obj = dict[str, Any]
PODS = by_qualified("pods")
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailers", "transfer-encoding", "upgrade", "host", "content-length"}  # fmt: skip
RUNTIME_HEADER = "X-Storeplane-Sim-Runtime"


@dataclass(frozen=True)
class Backend:
    """What is behind a Service port: ``local`` pods (maybe none ready) or simulated ones."""

    local: bool
    endpoints: list[tuple[str, int]]


def service_port(service: Obj, ref: str | int | None) -> int | None:
    """A Service port's number from a name or number (None: the first port)."""
    ports = (service.get("spec") or {}).get("ports") or []
    if ref is None or ref == "":
        return int(ports[0]["port"]) if ports else None
    for port in ports:
        if str(port.get("name")) == str(ref) or str(port.get("port")) == str(ref):
            return int(port["port"])
    return None


def backend(node: LocalNode | None, cluster: Any, service: Obj, port: int | None) -> Backend:
    """The Service's pods on the local node and its ready endpoints there."""
    if node is None or port is None:
        return Backend(False, [])
    selector = (service.get("spec") or {}).get("selector") or {}
    namespace = service["metadata"].get("namespace", "")
    local = bool(selector) and any(
        is_local(p)
        and all((p["metadata"].get("labels") or {}).get(k) == v for k, v in selector.items())
        for p in cluster.store.values(PODS.qualified, namespace)
    )
    return Backend(local, node.endpoints(service, port) if local else [])


async def forward(
    request: Request, node: LocalNode, target: tuple[str, int], path: str, extra: dict[str, str]
) -> Response:
    """Send ``request`` to ``http://<target><path>?<query>`` and stream the answer back."""
    drop = HOP_BY_HOP | {k.lower() for k in extra}
    headers = [(k, v) for k, v in request.headers.items() if k.lower() not in drop]
    headers += list(extra.items())
    host, port = target
    url = httpx.URL(scheme="http", host=host, port=port, path=path or "/")
    if request.url.query:  # (an empty query would still add a "?")
        url = url.copy_with(query=request.url.query.encode())
    body = await request.body()
    client = node.http_client()
    upstream = client.build_request(request.method, url, headers=headers, content=body)
    try:
        response = await client.send(upstream, stream=True)
    except httpx.HTTPError as exc:
        return PlainTextResponse(f"error trying to reach the pod at {host}:{port}: {exc}",
                                 status_code=502)  # fmt: skip
    answer_headers = {k: v for k, v in response.headers.items() if k.lower() not in HOP_BY_HOP}

    async def body_chunks() -> AsyncIterator[bytes]:
        async for chunk in response.aiter_raw():
            yield chunk

    answer = StreamingResponse(body_chunks(), status_code=response.status_code,
                               headers=answer_headers, background=BackgroundTask(response.aclose))  # fmt: skip
    answer.headers[RUNTIME_HEADER] = "local"
    return answer
