"""Basic validation of an object before it is stored (not the full OpenAPI schemas).

Called by :mod:`storeplane.sim.cluster` on create, update, patch and apply. Checks what
real clients most often get wrong, with the API server's own wording: the object name
(DNS-1123 label or subdomain per kind), label keys and values, a few required fields per
kind, and a Deployment/StatefulSet selector that matches its template. Raises
:func:`errors.invalid` (422).
"""

from __future__ import annotations

import re
from typing import Any

from .errors import invalid
from .kinds import Kind

_LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_VALUE_RE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_QUALIFIED_NAME_RE = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")

LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
    "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)

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


def _label_errors(labels: Any) -> list[tuple[str, str]]:
    if labels is None:
        return []
    if not isinstance(labels, dict):
        return [("metadata.labels", "Invalid value: must be a map of strings")]
    errors: list[tuple[str, str]] = []
    for key, value in labels.items():
        prefix, _, name = key.rpartition("/")
        if (prefix and not _SUBDOMAIN_RE.match(prefix)) or not (
            0 < len(name) <= 63 and _QUALIFIED_NAME_RE.match(name)
        ):
            errors.append(("metadata.labels", f'Invalid value: "{key}": invalid label key'))
        if not isinstance(value, str):
            errors.append(("metadata.labels", f"Invalid value: {value!r}: must be a string"))
        elif len(value) > 63:
            errors.append(
                ("metadata.labels", f'Invalid value: "{value}": must be no more than 63 characters')
            )
        elif not _LABEL_VALUE_RE.match(value):
            errors.append(("metadata.labels", f'Invalid value: "{value}": {LABEL_VALUE_MSG}'))
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


def validate(kind: Kind, obj: dict[str, Any]) -> None:
    """Raise a 422 Invalid if ``obj`` (complete, with its final name) would be refused."""
    metadata = obj.get("metadata") or {}
    name = str(metadata.get("name") or "")
    errors = name_errors(kind, name)
    errors += _label_errors(metadata.get("labels"))
    annotations = metadata.get("annotations")
    if annotations is not None and (
        not isinstance(annotations, dict)
        or not all(isinstance(v, str) for v in annotations.values())
    ):
        errors.append(("metadata.annotations", "Invalid value: must be a map of strings"))
    for path in REQUIRED.get(kind.kind, ()):
        value = get_path(obj, path)
        if value is None or value == "" or value == []:
            errors.append((path, "Required value"))
    if kind.kind in ("Deployment", "StatefulSet", "ReplicaSet"):
        errors += _selector_errors(obj)
    if errors:
        raise invalid(kind, name, errors)
