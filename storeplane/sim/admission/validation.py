"""Validation of an object before it is stored.

Called by :mod:`storeplane.sim.store.cluster` on create, update, patch and apply, on the
complete object. Two layers, reported together in one ``422 Invalid`` with a cause per
field (``details.causes[].field``), in the API server's wording:

- the Kubernetes OpenAPI schema of the kind for the simulated version (types, required
  fields, enums, bounds; see :mod:`storeplane.sim.admission.schemas`), messages in the form the API
  server uses for schema errors (``spec.replicas: Invalid value: "two": spec.replicas in
  body must be of type integer: "string"``);
- rules the schemas cannot express: the object name (DNS-1123 label or subdomain per kind),
  label keys and values (the object's, a pod template's, a Service selector's), a few
  required fields, a workload selector that matches its template labels, and the pod spec
  and Service rules of :mod:`~storeplane.sim.admission.podspec` and
  :mod:`~storeplane.sim.admission.service_spec` (whose warnings, e.g. a container port
  declared twice, go to the client's ``Warning`` header).

What an *update* may not change is checked apart, by :mod:`storeplane.sim.admission.immutable`.

Unknown fields follow ``fieldValidation``: ``Strict`` (what kubectl sends) refuses them with
a 400 ``strict decoding error: unknown field "spec.foo"``; ``Warn`` (the server default)
drops them and returns a warning for the ``Warning`` header; ``Ignore`` drops them silently.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Literal

import jsonschema

from ..errors import bad_request, invalid
from ..kinds import CRDS, Kind
from . import podspec, service_spec, structural
from .crds import crd_errors
from .names import (
    LABEL_MSG,
    LABEL_RE,
    LABEL_VALUE_MSG,
    LABEL_VALUE_RE,
    QUALIFIED_NAME_RE,
    SUBDOMAIN_MSG,
    SUBDOMAIN_RE,
)
from .schemas import validator

FieldValidation = Literal["Strict", "Warn", "Ignore"]

_LABEL_RE = LABEL_RE
_SUBDOMAIN_RE = SUBDOMAIN_RE
_LABEL_VALUE_RE = LABEL_VALUE_RE
_QUALIFIED_NAME_RE = QUALIFIED_NAME_RE

# Fields the API server refuses to store without; (kind, dotted path).
REQUIRED: dict[str, tuple[str, ...]] = {
    "Deployment": ("spec.selector", "spec.template"),
    "StatefulSet": ("spec.selector", "spec.template"),
    "ReplicaSet": ("spec.selector",),
    "Job": ("spec.template",),
    "RoleBinding": ("roleRef",),
    "PersistentVolumeClaim": ("spec.accessModes", "spec.resources.requests.storage"),
    "NetworkPolicy": ("spec.podSelector",),
}


def name_errors(kind: Kind, name: str, field: str = "metadata.name") -> list[tuple[str, str]]:
    """Problems with an object name under the kind's rule; empty when valid."""
    if not name:
        return [(field, "Required value: name or generateName is required")]
    if kind.name_rule == "path":
        if name in (".", "..") or "/" in name or "%" in name:
            return [(field, f"Invalid value: \"{name}\": may not contain '/' or '%'")]
        return []
    if kind.name_rule == "label":
        if len(name) > 63:
            return [(field, f'Invalid value: "{name}": must be no more than 63 characters')]
        if not _LABEL_RE.match(name):
            return [(field, f'Invalid value: "{name}": {LABEL_MSG}')]
        return []
    if len(name) > 253:
        return [(field, f'Invalid value: "{name}": must be no more than 253 characters')]
    if not _SUBDOMAIN_RE.match(name):
        return [(field, f'Invalid value: "{name}": {SUBDOMAIN_MSG}')]
    return []


def _label_errors(labels: Any, field: str = "metadata.labels") -> list[tuple[str, str]]:
    if labels is None:
        return []
    if not isinstance(labels, dict):
        return [(field, "Invalid value: must be a map of strings")]
    errors: list[tuple[str, str]] = []
    for key, value in labels.items():
        prefix, _, name = key.rpartition("/")
        if (prefix and not _SUBDOMAIN_RE.match(prefix)) or not (
            0 < len(name) <= 63 and _QUALIFIED_NAME_RE.match(name)
        ):
            errors.append((field, f'Invalid value: "{key}": invalid label key'))
        if not isinstance(value, str):
            errors.append((field, f"Invalid value: {value!r}: must be a string"))
        elif len(value) > 63:
            errors.append((field, f'Invalid value: "{value}": must be no more than 63 characters'))
        elif not _LABEL_VALUE_RE.match(value):
            errors.append((field, f'Invalid value: "{value}": {LABEL_VALUE_MSG}'))
    return errors


# Closed value sets the schemas do not carry; (kind, dotted path) -> supported values.
ENUMS: dict[tuple[str, str], tuple[str, ...]] = {
    ("Service", "spec.type"): ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort"),
    ("Deployment", "spec.strategy.type"): ("Recreate", "RollingUpdate"),
}


def _rule_errors(kind: Kind, obj: dict[str, Any]) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    for (kind_name, path), values in ENUMS.items():
        value = get_path(obj, path) if kind_name == kind.kind else None
        if isinstance(value, str) and value not in values:
            supported = ", ".join(f'"{v}"' for v in values)
            errors.append((path, f'Unsupported value: "{value}": supported values: {supported}'))
    replicas = get_path(obj, "spec.replicas")
    if kind.kind in ("Deployment", "StatefulSet", "ReplicaSet") and (
        isinstance(replicas, int) and not isinstance(replicas, bool) and replicas < 0
    ):
        errors.append(
            ("spec.replicas", f"Invalid value: {replicas}: must be greater than or equal to 0")
        )
    return errors


def get_path(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
    return obj


def _selector_errors(obj: dict[str, Any]) -> list[tuple[str, str]]:
    selector = get_path(obj, "spec.selector.matchLabels")
    labels = get_path(obj, "spec.template.metadata.labels") or {}
    if not isinstance(selector, dict) or not isinstance(labels, dict):
        return []
    if all(labels.get(k) == v for k, v in selector.items()):
        return []
    return [
        (
            "spec.template.metadata.labels",
            f"Invalid value: {labels!r}: `selector` does not match template `labels`",
        )
    ]


def field_path(path: Iterable[Any]) -> str:
    """``spec.template.spec.containers[0].image``: a JSON path as the API server prints it."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _shown(value: Any) -> str:
    text = json.dumps(value, separators=(",", ":"))
    return text if len(text) <= 80 else text[:77] + "..."


_JSON_TYPES = ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"),
               (list, "array"), (dict, "object"))  # fmt: skip


def _json_type(value: Any) -> str:
    for cls, name in _JSON_TYPES:
        if isinstance(value, cls):
            return name
    return "null"


def _cause(error: jsonschema.ValidationError) -> tuple[str, str]:
    """One schema error as (field, message) in the API server's words."""
    path = list(error.absolute_path)
    field = field_path(path)
    value = error.instance
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        return field_path([*path, missing]), "Required value"
    if error.validator == "type":
        wanted = [t for t in _types(error.validator_value) if t != "null"]
        expected = wanted[0] if wanted else "null"
        return field, (
            f"Invalid value: {_shown(value)}: {field} in body must be of type {expected}: "
            f'"{_json_type(value)}"'
        )
    if error.validator == "enum":
        supported = ", ".join(_shown(v) for v in error.validator_value if v is not None)
        return field, f"Unsupported value: {_shown(value)}: supported values: {supported}"
    if error.validator in ("minimum", "exclusiveMinimum"):
        return field, (
            f"Invalid value: {_shown(value)}: {field} in body should be greater than or "
            f"equal to {error.validator_value}"
        )
    if error.validator in ("maximum", "exclusiveMaximum"):
        return field, (
            f"Invalid value: {_shown(value)}: {field} in body should be less than or equal "
            f"to {error.validator_value}"
        )
    if error.validator in ("oneOf", "anyOf"):
        kinds = sorted(
            {t for s in error.validator_value for t in _types(s.get("type")) if t != "null"}
        )
        if kinds:
            return field, (
                f"Invalid value: {_shown(value)}: {field} in body must be of type "
                f'{" or ".join(kinds)}: "{_json_type(value)}"'
            )
    return field, f"Invalid value: {_shown(value)}: {error.message}"


def _types(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value or []]


def _unknown_fields(error: jsonschema.ValidationError) -> list[tuple[list[Any], str]]:
    known = set((error.schema or {}).get("properties", {}))
    instance = error.instance if isinstance(error.instance, dict) else {}
    return [(list(error.absolute_path), key) for key in instance if key not in known]


def _drop(obj: Any, path: list[Any], key: str) -> None:
    for part in path:
        try:
            obj = obj[part]
        except (KeyError, IndexError, TypeError):
            return
    if isinstance(obj, dict):
        obj.pop(key, None)


def schema_check(
    kind: Kind, obj: dict[str, Any], field_validation: FieldValidation
) -> tuple[list[tuple[str, str]], list[str]]:
    """Check ``obj`` against its kind's schema: returns (causes, warnings). Unknown fields
    are removed from ``obj`` unless ``field_validation`` is Strict, which raises a 400.
    A custom resource (``kind.schema`` set) gets its CRD's structural schema, pruned and
    defaulted as the apiextensions-apiserver does (:mod:`.structural`)."""
    if kind.schema is not None:
        return _structural_check(kind, obj, field_validation)
    checker = validator(kind)
    if checker is None:
        return [], []
    causes: list[tuple[str, str]] = []
    unknown: list[tuple[list[Any], str]] = []
    for error in checker.iter_errors(obj):
        if error.validator == "additionalProperties":
            unknown += _unknown_fields(error)
        else:
            causes.append(_cause(error))
    names = [field_path([*path, key]) for path, key in unknown]
    if names and field_validation == "Strict":
        listed = ", ".join(f'unknown field "{n}"' for n in names)
        raise bad_request(
            f'{kind.kind} in version "{kind.version}" cannot be handled as a {kind.kind}: '
            f"strict decoding error: {listed}"
        )
    for path, key in sorted(unknown, key=lambda u: len(u[0]), reverse=True):
        _drop(obj, path, key)
    warnings = [f'unknown field "{n}"' for n in names] if field_validation == "Warn" else []
    return sorted(set(causes), key=causes.index), warnings


def _structural_check(
    kind: Kind, obj: dict[str, Any], field_validation: FieldValidation
) -> tuple[list[tuple[str, str]], list[str]]:
    unknown, causes = structural.admit(obj, kind.schema)
    if unknown and field_validation == "Strict":
        listed = ", ".join(f'unknown field "{n}"' for n in unknown)
        raise bad_request(
            f'{kind.kind} in version "{kind.version}" cannot be handled as a {kind.kind}: '
            f"strict decoding error: {listed}"
        )
    warnings = [f'unknown field "{n}"' for n in unknown] if field_validation == "Warn" else []
    return sorted(set(causes), key=causes.index), warnings


def validate(
    kind: Kind,
    obj: dict[str, Any],
    field_validation: FieldValidation = "Ignore",
    *,
    check_schema: bool = True,
) -> list[str]:
    """Raise a 422 Invalid if ``obj`` (complete, with its final name) would be refused.
    Returns the warnings for the client (unknown fields dropped, with ``Warn``).
    ``check_schema=False`` skips the OpenAPI schema check (a fifth of the simulator's CPU) for
    objects the built-in controllers make from parts that passed it already (a ReplicaSet or
    Pod from a checked template, an Event); every other rule still applies."""
    metadata = obj.get("metadata") or {}
    name = str(metadata.get("name") or "")
    schema_causes: list[tuple[str, str]] = []
    warnings: list[str] = []
    if check_schema:
        schema_causes, warnings = schema_check(kind, obj, field_validation)
    errors = name_errors(kind, name)
    errors += _label_errors(metadata.get("labels"))
    annotations = metadata.get("annotations")
    if annotations is not None and (
        not isinstance(annotations, dict)
        or not all(isinstance(v, str) for v in annotations.values())
    ):
        errors.append(("metadata.annotations", "Invalid value: must be a map of strings"))
    if kind.schema is not None:  # a custom resource: only its CRD's schema applies
        combined = schema_causes + [e for e in errors if e not in schema_causes]
        if combined:
            raise invalid(kind, name, combined)
        return warnings
    if kind is CRDS:
        errors += crd_errors(obj)
    for path in REQUIRED.get(kind.kind, ()):
        value = get_path(obj, path)
        if value is None or value == "" or value == []:
            errors.append((path, "Required value"))
    if kind.kind in ("Deployment", "StatefulSet", "ReplicaSet"):
        errors += _selector_errors(obj)
    errors += _rule_errors(kind, obj)
    template_labels = get_path(obj, "spec.template.metadata.labels")
    if kind.kind in podspec.TEMPLATE_KINDS and template_labels is not None:
        errors += _label_errors(template_labels, "spec.template.metadata.labels")
    pod_causes, pod_warnings = podspec.spec_errors(kind, obj)
    errors += pod_causes
    warnings += pod_warnings
    if kind.kind == "Service":
        errors += service_spec.spec_errors(obj)
        selector = get_path(obj, "spec.selector")
        if isinstance(selector, dict):
            errors += _label_errors(selector, "spec.selector")
    combined = schema_causes + [e for e in errors if e not in schema_causes]
    if combined:
        raise invalid(kind, name, combined)
    return warnings
