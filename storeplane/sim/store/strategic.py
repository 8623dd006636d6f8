"""Strategic merge patch (``application/strategic-merge-patch+json``) with the per-type merge
keys and the patch directives, as the API server applies it.

Called by :meth:`storeplane.sim.store.cluster.Cluster.patch`. It is what client-side
``kubectl apply`` of a changed object, ``kubectl edit``, ``kubectl set``/``rollout restart``
and ``kubectl diff`` send. How a list merges comes from the Kubernetes OpenAPI schema of the
kind (``x-kubernetes-patch-strategy`` and ``x-kubernetes-patch-merge-key``, read through
:mod:`storeplane.sim.admission.schemas`): containers, initContainers, env, volumes,
volumeMounts and imagePullSecrets merge by ``name``, container ports by ``containerPort``,
Service ports by ``port``, conditions by ``type``; ``finalizers`` merge as a set of strings;
lists without a strategy (tolerations, args, command...) are replaced whole. Directives:

- ``$patch: replace`` (a map replaces the live one; as a list element: the list is replaced),
  ``$patch: delete`` (the map, or the list element with that merge key, goes),
  ``$patch: merge`` (the default);
- ``$retainKeys: [...]``: keys of the live map not listed are cleared (Deployment
  ``strategy`` when its type changes; a volume whose source changes);
- ``$setElementOrder/<list>: [...]``: the merged list follows that order (items only the
  server has keep their place);
- ``$deleteFromPrimitiveList/<list>: [...]``: those values leave a list of strings.

Pure functions on plain dicts; a malformed patch raises :class:`StrategicPatchError`.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from ..admission import schemas
from ..kinds import Kind
from .objects import json_copy

Obj = dict[str, Any]
_DELETE = object()
ORDER = "$setElementOrder/"
DELETE_FROM = "$deleteFromPrimitiveList/"


class StrategicPatchError(ValueError):
    """A strategic merge patch that cannot be applied; the message says where and why."""


class Schema:
    """A node of a kind's OpenAPI schema, walked field by field alongside the patch."""

    def __init__(self, node: Obj) -> None:
        self.node = node  # the property as declared: it carries the patch extensions
        self.resolved = _resolve(node)

    @property
    def strategy(self) -> set[str]:
        raw = self.node.get("x-kubernetes-patch-strategy") or ""
        return {part for part in str(raw).split(",") if part}

    @property
    def merge_key(self) -> str | None:
        key = self.node.get("x-kubernetes-patch-merge-key")
        return str(key) if key else None

    def field(self, key: str) -> Schema | None:
        """The schema of a map's field (an object's property, or a map's value type)."""
        properties = self.resolved.get("properties")
        if isinstance(properties, dict) and key in properties:
            return Schema(properties[key])
        values = self.resolved.get("additionalProperties")
        return Schema(values) if isinstance(values, dict) else None

    def items(self) -> Schema | None:
        items = self.resolved.get("items")
        return Schema(items) if isinstance(items, dict) else None


def _resolve(node: Obj) -> Obj:
    defs = schemas.definitions()["$defs"]
    seen = 0
    while isinstance(node.get("$ref"), str) and seen < 32:
        target = defs.get(node["$ref"].rsplit("/", 1)[-1], {})
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        seen += 1
    for combinator in ("allOf", "oneOf", "anyOf"):
        for option in node.get(combinator) or []:
            if isinstance(option, dict) and "$ref" in option:
                return _resolve({**node, **option, combinator: []})
    return node


@functools.cache
def schema_for(kind: Kind) -> Schema | None:
    """The root schema of a kind, or None when the published schemas do not have it."""
    try:
        name = schemas.definition_name(kind)
    except KeyError:
        return None
    return Schema({"$ref": f"#/$defs/{name}"})


def strip_directives(value: Any) -> Any:
    """``value`` without patch directives (for parts of a patch that replace or add)."""
    if isinstance(value, dict):
        return {
            k: strip_directives(v)
            for k, v in value.items()
            if not k.startswith("$") and v is not None
        }
    if isinstance(value, list):
        return [strip_directives(v) for v in value]
    return value


def apply(original: Obj, patch: Any, schema: Schema | None) -> Obj:
    """The object after the strategic merge ``patch`` (``original`` is not changed)."""
    if not isinstance(patch, dict):
        raise StrategicPatchError("a strategic merge patch must be a JSON object")
    merged = _merge_map(original, patch, schema, "")
    if merged is _DELETE:
        raise StrategicPatchError("$patch: delete at the top level would delete the object")
    assert isinstance(merged, dict)
    return merged


def _merge_map(original: Any, patch: Obj, schema: Schema | None, path: str) -> Any:
    patch = dict(patch)
    directive = patch.pop("$patch", None)
    if directive == "replace":
        return strip_directives(patch)
    if directive == "delete":
        return _DELETE
    if directive not in (None, "merge"):
        raise StrategicPatchError(
            f'{path or "the patch"}: Unsupported value: "{directive}" for $patch: supported '
            'values: "replace", "merge", "delete"'
        )
    result: Obj = json_copy(original) if isinstance(original, dict) else {}
    retain = patch.pop("$retainKeys", None)
    if retain is not None:
        if not isinstance(retain, list) or not all(isinstance(k, str) for k in retain):
            raise StrategicPatchError(f"{path}.$retainKeys must be a list of field names")
        result = {k: v for k, v in result.items() if k in retain}
    orders = {k[len(ORDER) :]: patch.pop(k) for k in list(patch) if k.startswith(ORDER)}
    removals = {
        k[len(DELETE_FROM) :]: patch.pop(k) for k in list(patch) if k.startswith(DELETE_FROM)
    }
    for key, value in patch.items():
        where = f"{path}.{key}"
        if key.startswith("$"):
            raise StrategicPatchError(f"{where}: unknown patch directive {key!r}")
        field = schema.field(key) if schema is not None else None
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            merged = _merge_map(result.get(key), value, field, where)
            if merged is _DELETE:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list) and field is not None and "merge" in field.strategy:
            result[key] = _merge_list(result.get(key), value, field, where)
        else:
            result[key] = strip_directives(value)
    for key, values in removals.items():
        if not isinstance(values, list):
            raise StrategicPatchError(f"{path}.{DELETE_FROM}{key} must be a list")
        if isinstance(result.get(key), list):
            result[key] = [v for v in result[key] if v not in values]
    for key, order in orders.items():
        if not isinstance(order, list):
            raise StrategicPatchError(f"{path}.{ORDER}{key} must be a list")
        field = schema.field(key) if schema is not None else None
        if isinstance(result.get(key), list):
            result[key] = _reorder(result[key], order, field.merge_key if field else None)
    return result


def _merge_list(original: Any, patch: list[Any], field: Schema, path: str) -> list[Any]:
    live: list[Any] = json_copy(original) if isinstance(original, list) else []
    if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch):
        return [
            strip_directives(i)
            for i in patch
            if not (isinstance(i, dict) and i.get("$patch") == "replace")
        ]
    key = field.merge_key
    if key is None or not all(isinstance(i, dict) for i in patch):
        # A set of scalars (finalizers...): the union, live order first.
        return live + [strip_directives(v) for v in patch if v not in live]
    items = field.items()
    for element in patch:
        if key not in element:
            raise StrategicPatchError(
                f"{path}: map {json.dumps(element)} does not contain declared merge key: {key}"
            )
        at = next(
            (i for i, e in enumerate(live) if isinstance(e, dict) and e.get(key) == element[key]),
            None,
        )
        if element.get("$patch") == "delete":
            live = [e for e in live if not (isinstance(e, dict) and e.get(key) == element[key])]
            continue
        merged = _merge_map(live[at] if at is not None else {}, element, items, path)
        if merged is _DELETE:
            if at is not None:
                del live[at]
        elif at is None:
            live.append(merged)
        else:
            live[at] = merged
    return live


def _reorder(items: list[Any], order: list[Any], key: str | None) -> list[Any]:
    """``items`` in ``order`` (by merge key, or by value for scalars); items the order does
    not name (only the server has them) keep their position."""

    def ident(value: Any) -> str:
        if key is not None and isinstance(value, dict):
            return json.dumps(value.get(key), sort_keys=True)
        return json.dumps(value, sort_keys=True)

    position = {ident(o): i for i, o in enumerate(order)}
    ordered = sorted((x for x in items if ident(x) in position), key=lambda x: position[ident(x)])
    for index, item in enumerate(items):
        if ident(item) not in position:
            ordered.insert(min(index, len(ordered)), item)
    return ordered
