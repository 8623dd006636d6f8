"""Structural schemas: how the API server checks a custom resource against its CRD.

Called by :func:`storeplane.sim.admission.validation.validate` for kinds served from a
CustomResourceDefinition (``Kind.schema`` is the version's ``openAPIV3Schema``), on every
create, update, patch and apply, in the apiextensions-apiserver's order:

1. **pruning**: fields the schema does not specify are unknown; they are dropped (or, with
   ``fieldValidation=Strict``, refused with the 400 ``strict decoding error: unknown field
   "spec.foo"``), except under ``x-kubernetes-preserve-unknown-fields: true``;
2. **defaulting**: ``default`` values fill missing properties (of objects that exist);
3. **validation**: ``type`` (``x-kubernetes-int-or-string`` takes both), ``nullable``,
   ``required``, ``enum``, ``pattern``, ``format`` (none checked), ``minimum``/``maximum``
   (and exclusive), ``minLength``/``maxLength``, ``minItems``/``maxItems``,
   ``minProperties``/``maxProperties``, ``items``, ``additionalProperties`` (maps), with
   the API server's messages (``spec.engine: Unsupported value: "x": supported values:
   "medusa", "woocommerce"``).

``apiVersion``, ``kind`` and ``metadata`` are the API machinery's: the schema may not
constrain them beyond ``metadata.name``/``generateName``, and they are never pruned.
Not modelled: ``x-kubernetes-validations`` (CEL rules), ``allOf``/``anyOf``/``oneOf``/``not``
value checks, ``x-kubernetes-list-type`` uniqueness, ``x-kubernetes-embedded-resource``.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

Obj = dict[str, Any]
Cause = tuple[str, str]

_MACHINERY = ("apiVersion", "kind", "metadata")
_TYPES = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "number": (int, float),
}


def _path(parts: list[Any]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _shown(value: Any) -> str:
    text = json.dumps(value, separators=(",", ":"))
    return text if len(text) <= 80 else text[:77] + "..."


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def prune(obj: Any, schema: Obj | None, parts: list[Any], unknown: list[str], root: bool) -> None:
    """Remove from ``obj`` (in place) what ``schema`` does not specify; names go in
    ``unknown`` as dotted paths."""
    if not isinstance(schema, dict) or schema.get("x-kubernetes-preserve-unknown-fields"):
        if isinstance(schema, dict) and isinstance(obj, dict):
            # Preserved, but specified children are still pruned below them.
            for key, sub in (schema.get("properties") or {}).items():
                if key in obj:
                    prune(obj[key], sub, [*parts, key], unknown, False)
        return
    if isinstance(obj, dict):
        properties = schema.get("properties")
        additional = schema.get("additionalProperties")
        for key in list(obj):
            if root and key in _MACHINERY:
                continue
            if isinstance(properties, dict) and key in properties:
                prune(obj[key], properties[key], [*parts, key], unknown, False)
            elif isinstance(additional, dict):
                prune(obj[key], additional, [*parts, key], unknown, False)
            elif additional is True:
                continue
            else:
                unknown.append(_path([*parts, key]))
                del obj[key]
    elif isinstance(obj, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(obj):
            prune(item, schema["items"], [*parts, index], unknown, False)


def default(obj: Any, schema: Obj | None) -> None:
    """Fill ``default`` values into ``obj`` (in place), depth first."""
    if not isinstance(schema, dict):
        return
    if isinstance(obj, dict):
        for key, sub in (schema.get("properties") or {}).items():
            if not isinstance(sub, dict):
                continue
            if key not in obj and "default" in sub:
                obj[key] = copy.deepcopy(sub["default"])
            if key in obj:
                default(obj[key], sub)
        additional = schema.get("additionalProperties")
        if isinstance(additional, dict):
            for key in obj:
                if not (schema.get("properties") or {}).get(key):
                    default(obj[key], additional)
    elif isinstance(obj, list) and isinstance(schema.get("items"), dict):
        for item in obj:
            default(item, schema["items"])


def check(obj: Any, schema: Obj | None, parts: list[Any], causes: list[Cause]) -> None:
    """Append the schema's refusals of ``obj`` to ``causes`` as (field, message)."""
    if not isinstance(schema, dict):
        return
    field = _path(parts)
    if obj is None:
        if not schema.get("nullable") and "type" in schema:
            causes.append((field, f'Invalid value: "null": {field} in body must be of type '
                                  f'{schema["type"]}: "null"'))  # fmt: skip
        return
    wanted = schema.get("type")
    if schema.get("x-kubernetes-int-or-string"):
        if not isinstance(obj, (int, str)) or isinstance(obj, bool):
            causes.append((field, f"Invalid value: {_shown(obj)}: {field} in body must be of "
                                  f'type integer or string: "{_json_type(obj)}"'))  # fmt: skip
            return
    elif isinstance(wanted, str) and wanted in _TYPES:
        ok = isinstance(obj, _TYPES[wanted]) and not (
            isinstance(obj, bool) and wanted in ("integer", "number")
        )
        if wanted == "integer" and isinstance(obj, float) and obj.is_integer():
            ok = True
        if not ok:
            causes.append((field, f'Invalid value: "{_json_type(obj)}": {field} in body must '
                                  f'be of type {wanted}: "{_json_type(obj)}"'))  # fmt: skip
            return
    enum = schema.get("enum")
    if isinstance(enum, list) and obj not in enum:
        supported = ", ".join(_shown(v) for v in enum)
        causes.append((field, f"Unsupported value: {_shown(obj)}: supported values: {supported}"))
    if isinstance(obj, str):
        _check_string(obj, schema, field, causes)
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        _check_number(obj, schema, field, causes)
    elif isinstance(obj, list):
        _check_size(len(obj), schema, "Items", "items", field, obj, causes)
        if isinstance(schema.get("items"), dict):
            for index, item in enumerate(obj):
                check(item, schema["items"], [*parts, index], causes)
    elif isinstance(obj, dict):
        _check_size(len(obj), schema, "Properties", "properties", field, obj, causes)
        for name in schema.get("required") or []:
            if name not in obj:
                causes.append((_path([*parts, name]), "Required value"))
        properties = schema.get("properties") or {}
        additional = schema.get("additionalProperties")
        for key, value in obj.items():
            if not parts and key in _MACHINERY:
                continue
            if key in properties:
                check(value, properties[key], [*parts, key], causes)
            elif isinstance(additional, dict):
                check(value, additional, [*parts, key], causes)


def _check_string(value: str, schema: Obj, field: str, causes: list[Cause]) -> None:
    pattern = schema.get("pattern")
    if isinstance(pattern, str) and re.search(pattern, value) is None:
        causes.append((field, f"Invalid value: {_shown(value)}: {field} in body should match "
                              f"'{pattern}'"))  # fmt: skip
    low, high = schema.get("minLength"), schema.get("maxLength")
    if isinstance(low, int) and len(value) < low:
        causes.append((field, f"Invalid value: {_shown(value)}: {field} in body should be at "
                              f"least {low} chars long"))  # fmt: skip
    if isinstance(high, int) and len(value) > high:
        causes.append((field, f"Too long: may not be more than {high} bytes"))


def _check_number(value: float, schema: Obj, field: str, causes: list[Cause]) -> None:
    low, high = schema.get("minimum"), schema.get("maximum")
    if isinstance(low, (int, float)):
        exclusive = bool(schema.get("exclusiveMinimum"))
        if value < low or (exclusive and value == low):
            than = "greater than" if exclusive else "greater than or equal to"
            causes.append((field, f"Invalid value: {_shown(value)}: {field} in body should be "
                                  f"{than} {low}"))  # fmt: skip
    if isinstance(high, (int, float)):
        exclusive = bool(schema.get("exclusiveMaximum"))
        if value > high or (exclusive and value == high):
            than = "less than" if exclusive else "less than or equal to"
            causes.append((field, f"Invalid value: {_shown(value)}: {field} in body should be "
                                  f"{than} {high}"))  # fmt: skip


def _check_size(
    size: int, schema: Obj, suffix: str, noun: str, field: str, value: Any, causes: list[Cause]
) -> None:
    low, high = schema.get(f"min{suffix}"), schema.get(f"max{suffix}")
    if isinstance(low, int) and size < low:
        causes.append((field, f"Invalid value: {size}: {field} in body should have at least "
                              f"{low} {noun}"))  # fmt: skip
    if isinstance(high, int) and size > high:
        causes.append((field, f"Too many: {size}: must have at most {high} {noun}"))


def admit(obj: Obj, schema: Obj) -> tuple[list[str], list[Cause]]:
    """Prune, default and check ``obj`` (changed in place): (unknown fields, causes)."""
    unknown: list[str] = []
    prune(obj, schema, [], unknown, True)
    default(obj, schema)
    causes: list[Cause] = []
    check(obj, schema, [], causes)
    return unknown, causes
