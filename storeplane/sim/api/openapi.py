"""``/openapi/v3``: the OpenAPI documents kubectl downloads before it validates or applies.

Served by :mod:`storeplane.sim.api.app`. The root lists one document per served group-version
(``{"paths": {"apis/apps/v1": {"serverRelativeURL": "/openapi/v3/apis/apps/v1?hash=..."}}}``);
each document has the paths and operations of that group-version's kinds (with
``x-kubernetes-group-version-kind`` and the ``fieldValidation`` query parameter, which is
how kubectl learns that the server validates, so it sends ``fieldValidation=Strict``) and,
under ``components.schemas``, every schema they reach.

The schemas come from ``kubernetes-validate``'s JSON Schema definitions for the simulated
version (see :mod:`storeplane.sim.admission.schemas`), adapted to OpenAPI 3.0: ``["string", "null"]``
types become ``string``, ``$ref``s point into ``#/components/schemas/``, and
``IntOrString``/``Quantity`` take the API server's ``int-or-string`` form. Documents are
built once per process and served as bytes. ``/openapi/v2`` (protobuf) is not served.

A CRD's group-version gets a document built from its stored CRD when asked (the CRD's
``openAPIV3Schema`` under ``components.schemas`` as ``<reversed group>.<version>.<Kind>``,
with ``apiVersion``/``kind``/``metadata`` added as the apiextensions-apiserver publishes
them), so ``kubectl apply`` and ``kubectl explain`` work for custom resources too.
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

from ..admission.schemas import definition_name
from ..kinds import KUBERNETES_VERSION, Kind, KindRegistry, group_versions, kinds_in

Obj = dict[str, Any]

_REF_PREFIXES = ("/api/_definitions.json#/$defs/", "_definitions.json#/$defs/", "#/$defs/")
_SPECIAL = {
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": {
        "type": "string",
        "format": "int-or-string",
        "x-kubernetes-int-or-string": True,
    },
    "io.k8s.apimachinery.pkg.api.resource.Quantity": {
        "type": "string",
        "format": "quantity",
        "x-kubernetes-int-or-string": True,
    },
}
_SHARED = (
    "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
    "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Patch",
)


def _component(ref: str) -> str:
    for prefix in _REF_PREFIXES:
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref.rsplit("/", 1)[-1]


def convert(schema: Any, seen: set[str]) -> Any:
    """A JSON Schema node as OpenAPI 3.0; collects referenced definition names in ``seen``."""
    if isinstance(schema, list):
        return [convert(item, seen) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: Obj = {}
    for key, value in schema.items():
        if key == "$ref" and isinstance(value, str):
            name = _component(value)
            seen.add(name)
            out["$ref"] = f"#/components/schemas/{name}"
        elif key == "type" and isinstance(value, list):
            types = [t for t in value if t != "null"]
            if types:
                out["type"] = types[0]
        elif key == "additionalProperties" and value is False:
            continue
        elif key == "properties" and isinstance(value, dict):
            out[key] = {name: convert(prop, seen) for name, prop in value.items()}
        else:
            out[key] = convert(value, seen)
    if "enum" in out and isinstance(out["enum"], list):
        out["enum"] = [v for v in out["enum"] if v is not None]
    return out


@functools.cache
def _definitions() -> dict[str, Any]:
    from ..admission.schemas import definitions

    return dict(definitions()["$defs"])


def _schemas(roots: list[str]) -> Obj:
    """The named definitions and every definition they reach, converted."""
    definitions = _definitions()
    result: Obj = {}
    pending = list(roots)
    while pending:
        name = pending.pop()
        if name in result or name not in definitions:
            continue
        if name in _SPECIAL:
            result[name] = dict(
                _SPECIAL[name], description=definitions[name].get("description", "")
            )
            continue
        seen: set[str] = set()
        result[name] = convert(definitions[name], seen)
        pending += sorted(seen - set(result))
    return dict(sorted(result.items()))


def _param(name: str, kind: str = "string", where: str = "query") -> Obj:
    return {"name": name, "in": where, "schema": {"type": kind}, "required": where == "path"}


def _operation(kind: Kind, action: str, schema: str, body: bool, extra: list[Obj]) -> Obj:
    ref = {"$ref": f"#/components/schemas/{schema}"}
    status = {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Status"}
    op: Obj = {
        "operationId": f"{action}{kind.kind}",
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {
            "group": kind.group,
            "version": kind.version,
            "kind": kind.kind,
        },
        "parameters": extra,
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": ref}}},
            "401": {"description": "Unauthorized"},
        },
    }
    if action == "delete":
        op["responses"]["200"]["content"]["application/json"]["schema"] = status
    if body:
        patches = [
            "application/apply-patch+yaml",
            "application/json-patch+json",
            "application/merge-patch+json",
        ]
        if not kind.crd:  # custom resources take no strategic merge patch (kubectl reads this)
            patches.append("application/strategic-merge-patch+json")
        media = (
            patches
            if action == "patch"
            else ["application/json", "application/yaml"]
        )  # fmt: skip
        body_schema = (
            {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"}
            if action == "patch"
            else ref
        )
        op["requestBody"] = {"content": {m: {"schema": body_schema} for m in media}}
    return op


_WRITE_PARAMS = [_param("dryRun"), _param("fieldManager"), _param("fieldValidation")]
_LIST_PARAMS = [
    _param("labelSelector"), _param("fieldSelector"), _param("limit", "integer"),
    _param("continue"), _param("resourceVersion"), _param("timeoutSeconds", "integer"),
    _param("watch", "boolean"), _param("allowWatchBookmarks", "boolean"),
]  # fmt: skip


def _paths(kind: Kind, schema: str, list_schema: str) -> Obj:
    prefix = f"/apis/{kind.group}/{kind.version}" if kind.group else f"/api/{kind.version}"
    name = [_param("name", where="path")]
    if kind.namespaced:
        collection = f"{prefix}/namespaces/{{namespace}}/{kind.resource}"
        scope = [_param("namespace", where="path")]
    else:
        collection = f"{prefix}/{kind.resource}"
        scope = []
    item = f"{collection}/{{name}}"
    if kind.verbs == ("create",):  # the access reviews: one POST, nothing to read back
        return {collection: {"post": _operation(kind, "post", schema, True, _WRITE_PARAMS)}}
    paths: Obj = {
        collection: {
            "get": _operation(kind, "list", list_schema, False, scope + _LIST_PARAMS),
            "post": _operation(kind, "post", schema, True, scope + _WRITE_PARAMS),
            "delete": _operation(kind, "deletecollection", schema, True, scope + _LIST_PARAMS),
        },
        item: {
            "get": _operation(kind, "get", schema, False, scope + name),
            "put": _operation(kind, "put", schema, True, scope + name + _WRITE_PARAMS),
            "patch": _operation(
                kind,
                "patch",
                schema,
                True,
                scope + name + _WRITE_PARAMS + [_param("force", "boolean")],
            ),
            "delete": _operation(kind, "delete", schema, True, scope + name),
        },
    }
    if kind.namespaced:
        paths[f"{prefix}/{kind.resource}"] = {
            "get": _operation(kind, "list", list_schema, False, _LIST_PARAMS)
        }
    if kind.has_status:
        paths[f"{item}/status"] = {
            "get": _operation(kind, "get", schema, False, scope + name),
            "put": _operation(kind, "put", schema, True, scope + name + _WRITE_PARAMS),
            "patch": _operation(kind, "patch", schema, True, scope + name + _WRITE_PARAMS),
        }
    return paths


def _path_key(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _custom_name(kind: Kind) -> str:
    return ".".join([*reversed(kind.group.split(".")), kind.version, kind.kind])


def _custom_schemas(kind: Kind) -> Obj:
    """The published schemas of a custom resource and its list (ObjectMeta by reference)."""
    meta = "io.k8s.apimachinery.pkg.apis.meta.v1"
    gvk = {"group": kind.group, "version": kind.version, "kind": kind.kind}
    schema = json.loads(json.dumps(kind.schema))  # a copy, never the served Kind's own
    properties = schema.setdefault("properties", {})
    properties["apiVersion"] = {"type": "string", "description": "APIVersion of the object"}
    properties["kind"] = {"type": "string", "description": "Kind of the object"}
    properties["metadata"] = {"$ref": f"#/components/schemas/{meta}.ObjectMeta"}
    schema["x-kubernetes-group-version-kind"] = [gvk]
    listed = {
        "type": "object",
        "description": f"{kind.list_kind} is a list of {kind.kind}",
        "required": ["items"],
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "items": {
                "type": "array",
                "items": {"$ref": f"#/components/schemas/{_custom_name(kind)}"},
            },
            "metadata": {"$ref": f"#/components/schemas/{meta}.ListMeta"},
        },
        "x-kubernetes-group-version-kind": [dict(gvk, kind=kind.list_kind)],
    }
    return {_custom_name(kind): schema, f"{_custom_name(kind)}List": listed}


def custom_document(kinds: list[Kind]) -> bytes:
    """The document of a group-version served from CRDs (built when asked)."""
    paths: Obj = {}
    schemas: Obj = _schemas(
        [*_SHARED, "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
         "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"]
    )  # fmt: skip
    for kind in kinds:
        name = _custom_name(kind)
        paths.update(_paths(kind, name, f"{name}List"))
        schemas.update(_custom_schemas(kind))
    doc = {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes CRD Swagger", "version": "v0.1.0"},
        "paths": paths,
        "components": {"schemas": dict(sorted(schemas.items()))},
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def served_document(group: str, version: str, registry: KindRegistry) -> bytes | None:
    """The document of one group-version this simulator serves (built-in or from CRDs)."""
    custom = [k for k in registry.kinds_in(group, version) if k.crd]
    if custom:
        return custom_document(custom)
    return document(group, version)


@functools.cache
def document(group: str, version: str) -> bytes | None:
    """The OpenAPI 3.0 document of one built-in group-version (JSON bytes), or None."""
    kinds = kinds_in(group, version)
    if not kinds:
        return None
    paths: Obj = {}
    roots = list(_SHARED)
    for kind in kinds:
        schema = definition_name(kind)
        list_schema = f"{schema}List"
        roots += [schema, list_schema]
        paths.update(_paths(kind, schema, list_schema))
    doc = {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": KUBERNETES_VERSION},
        "paths": paths,
        "components": {"schemas": _schemas(roots)},
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def root(registry: KindRegistry) -> bytes:
    """``/openapi/v3``: where each group-version's document is (the hash changes with the
    document, so clients' caches notice a changed CRD)."""
    paths = dict(_builtin_root())
    for kind in registry.custom():
        key = _path_key(kind.group, kind.version)
        body = served_document(kind.group, kind.version, registry)
        assert body is not None
        digest = hashlib.sha512(body).hexdigest()[:64].upper()
        paths[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash={digest}"}
    return json.dumps({"paths": paths}, separators=(",", ":")).encode()


@functools.cache
def _builtin_root() -> dict[str, Obj]:
    paths = {}
    for group, versions in group_versions().items():
        for version in versions:
            body = document(group, version)
            assert body is not None
            digest = hashlib.sha512(body).hexdigest()[:64].upper()
            key = _path_key(group, version)
            paths[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash={digest}"}
    return paths
