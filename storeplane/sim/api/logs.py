"""The ``pods/{name}/log`` subresource: a container's output, as the kubelet serves it.

Called by :mod:`storeplane.sim.api.app` for ``GET .../pods/{name}/log``. A container that runs
as a local process writes to ``<node folder>/pods/<uid>/logs/<container>/<restart count>.log``
(see :mod:`storeplane.sim.node.agent`); this reads that file. Parameters: ``container``
(required when the pod has several), ``previous`` (the run before the last restart),
``tailLines``, ``limitBytes``, ``follow`` (streams until that run of the container ends).
``timestamps`` and ``sinceSeconds`` are accepted and not applied (the files carry no times).
A container of the simulated runtime has an empty log. Errors are the API server's 400s.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from ..errors import ApiError, bad_request
from ..kinds import by_qualified
from ..node.agent import is_local

Obj = dict[str, Any]
PODS = by_qualified("pods")


def _names(spec: Obj, section: str) -> list[str]:
    return [str(c.get("name")) for c in spec.get(section) or []]


def _choose(pod: Obj, container: str | None) -> str:
    spec = pod.get("spec") or {}
    apps, inits = _names(spec, "containers"), _names(spec, "initContainers")
    name = pod["metadata"]["name"]
    if not container:
        if len(apps) == 1:
            return apps[0]
        raise bad_request(
            f"a container name must be specified for pod {name}, choose one of: "
            f"[{' '.join(apps)}]"
            + (f" or one of the init containers: [{' '.join(inits)}]" if inits else "")
        )
    if container not in apps + inits:
        raise bad_request(f"container {container} is not valid for pod {name}")
    return container


def _status(pod: Obj, container: str) -> Obj:
    status = pod.get("status") or {}
    for item in [
        *(status.get("containerStatuses") or []),
        *(status.get("initContainerStatuses") or []),
    ]:
        if item.get("name") == container:
            return dict(item)
    return {}


def _int(value: str | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    if not value.lstrip("-").isdigit():
        raise bad_request(f'{name}: Invalid value: "{value}": must be an integer')
    return int(value)


def _tail(data: bytes, lines: int | None, limit: int | None) -> bytes:
    if lines is not None and lines >= 0:
        parts = data.splitlines(keepends=True)
        data = b"".join(parts[-lines:]) if lines else b""
    if limit is not None and limit > 0:
        data = data[:limit]
    return data


def pod_log(
    request: Request, cluster: Any, node_root: Path | None, namespace: str, name: str
) -> Response:
    """Answer ``GET .../pods/{name}/log``; raises ApiError."""
    q = request.query_params
    pod = cluster.get(PODS, namespace, name, copies=False)
    container = _choose(pod, q.get("container"))
    previous = (q.get("previous") or "").lower() in ("true", "1")
    follow = (q.get("follow") or "").lower() in ("true", "1")
    tail_lines, limit = (
        _int(q.get("tailLines"), "tailLines"),
        _int(q.get("limitBytes"), "limitBytes"),
    )
    status = _status(pod, container)
    if node_root is None or not is_local(pod):
        return Response(b"", media_type="text/plain")
    restarts = int(status.get("restartCount") or 0)
    logs = node_root / "pods" / str(pod["metadata"]["uid"]) / "logs" / container
    # While a container waits to restart (back-off), its last run is the current one.
    latest = restarts if (logs / f"{restarts}.log").exists() or not restarts else restarts - 1
    attempt = latest - 1 if previous else latest
    path = logs / f"{attempt}.log"
    if previous and (attempt < 0 or not path.exists()):
        raise bad_request(f'previous terminated container "{container}" in pod "{name}" not found')
    if not path.exists():
        waiting = (status.get("state") or {}).get("waiting") or {}
        reason = waiting.get("reason") or "ContainerCreating"
        if reason == "PodInitializing" or not status:
            raise bad_request(
                f'container "{container}" in pod "{name}" is waiting to start: PodInitializing'
            )
        raise bad_request(
            f'container "{container}" in pod "{name}" is waiting to start: {reason}'
            + (f" ({waiting['message']})" if waiting.get("message") else "")
        )
    data = _tail(path.read_bytes(), tail_lines, limit)
    if not follow or previous:
        return Response(data, media_type="text/plain")
    return StreamingResponse(
        _follow(cluster, namespace, name, container, path, data, attempt), media_type="text/plain"
    )


async def _follow(
    cluster: Any, namespace: str, name: str, container: str, path: Path, first: bytes, attempt: int
) -> AsyncIterator[bytes]:
    """What was there, then whatever the process writes, until this run of it ends."""
    if first:
        yield first
    position = path.stat().st_size
    uid = None
    while True:
        await asyncio.sleep(0.2)
        try:
            size = path.stat().st_size
        except OSError:
            return
        if size > position:
            with open(path, "rb") as handle:
                handle.seek(position)
                chunk = handle.read(size - position)
            position = size
            yield chunk
            continue
        try:
            pod = cluster.get(PODS, namespace, name, copies=False)
        except ApiError:
            return
        uid = uid or pod["metadata"]["uid"]
        status = _status(pod, container)
        if pod["metadata"]["uid"] != uid or int(status.get("restartCount") or 0) != attempt:
            return
        if "terminated" in (status.get("state") or {}):
            return
