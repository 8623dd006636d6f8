"""The ``scale`` subresource (autoscaling/v1 ``Scale``) of Deployments, StatefulSets and
ReplicaSets: what ``kubectl scale``, the Python client's ``patch_namespaced_deployment_scale``
and HPAs use.

Called by the routes in :mod:`storeplane.sim.api.app` for ``.../{name}/scale``. GET answers
the Scale view of the object; PUT takes a Scale (JSON or protobuf) and PATCH a merge,
strategic merge or JSON patch of it (apply patches are taken as merge patches). A change
is written to the object's ``spec.replicas`` through :meth:`Cluster.replace`, so it is
validated, versioned and seen by watchers and controllers like any update.
"""

from __future__ import annotations

import copy
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..admission.validation import FieldValidation
from ..errors import ApiError, bad_request, conflict, method_not_allowed
from ..kinds import Kind
from ..store import apply as patches
from ..store.cluster import Cluster, Obj
from . import tables
from .codec import decode_body, decode_patch

# The Scale kind, for printing (``kubectl get deployment web --subresource=scale``).
SCALE = Kind("autoscaling", "v1", "scale", "Scale")
_SCALE_METADATA = ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")


def scale_of(obj: Obj) -> Obj:
    """The autoscaling/v1 Scale view of a workload."""
    metadata = obj.get("metadata") or {}
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {k: metadata[k] for k in _SCALE_METADATA if k in metadata},
        "spec": {"replicas": int(spec.get("replicas") or 0)},
        "status": {
            "replicas": int(status.get("replicas") or 0),
            "selector": tables.format_selector(spec.get("selector")),
        },
    }


def _replicas(scale: Any) -> int:
    if not isinstance(scale, dict) or not isinstance(scale.get("spec") or {}, dict):
        raise bad_request("the body must be an autoscaling/v1 Scale object")
    # Go's JSON leaves a zero out (replicas is not a pointer), so absent means 0.
    replicas = (scale.get("spec") or {}).get("replicas", 0)
    if not isinstance(replicas, int) or isinstance(replicas, bool):
        raise ApiError(
            422, "Invalid", f"Scale.autoscaling is invalid: spec.replicas: Invalid value: "
            f"{replicas!r}: must be an integer"
        )  # fmt: skip
    if replicas < 0:
        raise ApiError(
            422,
            "Invalid",
            f'Scale.autoscaling "{(scale.get("metadata") or {}).get("name", "")}" is invalid: '
            f"spec.replicas: Invalid value: {replicas}: must be greater than or equal to 0",
        )
    return replicas


def handle(
    request: Request,
    cluster: Cluster,
    kind: Kind,
    namespace: str | None,
    name: str,
    raw: bytes,
    manager: str,
    validation: FieldValidation,
) -> Response:
    """GET, PUT or PATCH ``.../{name}/scale``."""
    obj = cluster.get(kind, namespace, name)
    current = scale_of(obj)
    content_type = request.headers.get("content-type")
    if request.method == "GET":
        answer_as = tables.negotiate(request.headers.get("accept"))
        if answer_as is None:
            return JSONResponse(current)
        return JSONResponse(
            tables.render(SCALE, current, answer_as, request.query_params.get("includeObject"))
        )
    if request.method == "PUT":
        wanted = decode_body(content_type, raw)
    elif request.method == "PATCH":
        patch_type, body = decode_patch(content_type, raw)
        if patch_type == "json":
            try:
                wanted = patches.json_patch(current, body)
            except patches.JsonPatchError as exc:
                raise ApiError(422, "Invalid", str(exc)) from exc
        elif isinstance(body, dict):
            wanted = patches.merge_patch(current, body)
        else:
            raise bad_request("a merge patch must be a JSON object")
    else:
        raise method_not_allowed()
    replicas = _replicas(wanted)
    metadata = wanted.get("metadata") or {}
    if metadata.get("name") and metadata["name"] != name:
        raise bad_request(
            f"the name of the object ({metadata['name']}) does not match the name on the URL "
            f"({name})"
        )
    rv = metadata.get("resourceVersion")
    if rv and rv != obj["metadata"].get("resourceVersion"):
        raise conflict(kind, name)
    new = copy.deepcopy(obj)
    new.setdefault("spec", {})["replicas"] = replicas
    updated = cluster.replace(kind, namespace, name, new, manager, "", validation)
    return JSONResponse(scale_of(updated))
