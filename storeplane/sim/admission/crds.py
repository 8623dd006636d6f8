"""Rules for a CustomResourceDefinition the published schema cannot express.

Called by :func:`storeplane.sim.admission.validation.validate` for every CRD written
(after the OpenAPI schema check), in the apiextensions-apiserver's words: the name is
``<plural>.<group>``, the group has a dot, the scope is ``Namespaced`` or ``Cluster``,
exactly one version is the storage version, every version has a schema whose root is an
object, and names are DNS labels.
"""

from __future__ import annotations

from typing import Any

from .names import LABEL_MSG, LABEL_RE

Cause = tuple[str, str]


def crd_errors(crd: dict[str, Any]) -> list[Cause]:
    spec = crd.get("spec")
    if not isinstance(spec, dict):
        return [("spec", "Required value")]
    errors: list[Cause] = []
    group = spec.get("group")
    raw_names = spec.get("names")
    names: dict[str, Any] = raw_names if isinstance(raw_names, dict) else {}
    plural = names.get("plural")
    name = (crd.get("metadata") or {}).get("name")
    if isinstance(group, str) and "." not in group:
        errors.append(("spec.group", f'Invalid value: "{group}": should be a domain with at '
                                     "least one dot"))  # fmt: skip
    if isinstance(plural, str) and isinstance(group, str) and name != f"{plural}.{group}":
        errors.append(("metadata.name", f'Invalid value: "{name}": must be '
                                        'spec.names.plural+"."+spec.group'))  # fmt: skip
    for field in ("plural", "singular"):
        value = names.get(field)
        if isinstance(value, str) and not LABEL_RE.match(value):
            errors.append((f"spec.names.{field}", f'Invalid value: "{value}": {LABEL_MSG}'))
    if not names.get("kind"):
        errors.append(("spec.names.kind", "Required value"))
    scope = spec.get("scope")
    if scope not in ("Namespaced", "Cluster"):
        errors.append(("spec.scope", f'Unsupported value: "{scope}": supported values: '
                                     '"Cluster", "Namespaced"'))  # fmt: skip
    versions = spec.get("versions")
    if not isinstance(versions, list) or not versions:
        return [*errors, ("spec.versions", "Invalid value: null: must have exactly one version")]
    storage = [v for v in versions if isinstance(v, dict) and v.get("storage")]
    if len(storage) != 1:
        errors.append(("spec.versions", f"Invalid value: {_names(versions)}: must have "
                                        "exactly one version marked as storage version"))  # fmt: skip
    for index, version in enumerate(versions):
        if not isinstance(version, dict):
            continue
        schema = (version.get("schema") or {}).get("openAPIV3Schema")
        field = f"spec.versions[{index}].schema.openAPIV3Schema"
        if not isinstance(schema, dict):
            errors.append((field, "Required value: schemas are required"))
        elif schema.get("type") != "object":
            errors.append((f"{field}.type", "Required value: must be object at the root"))
    return errors


def _names(versions: list[Any]) -> str:
    return "[" + ",".join(str(v.get("name")) for v in versions if isinstance(v, dict)) + "]"
