"""A container's environment, resolved as the kubelet does (``pkg/kubelet/kubelet_pods.go``).

Called by the agent (:mod:`storeplane.sim.node.agent`) before each container start. Order:
``envFrom`` sources (with ``prefix``), then ``env`` entries, later ones winning; ``$(VAR)``
in a value is replaced by a variable defined before it (``$$`` escapes, an unknown reference
stays as written); ``valueFrom`` reads Secrets, ConfigMaps, the pod's own fields
(``fieldRef``) and resources (``resourceFieldRef``) from the simulator's objects. A missing
Secret, ConfigMap or key (not ``optional``) raises :class:`ConfigError` with the kubelet's
message; the container then waits in ``CreateContainerConfigError``.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Callable
from typing import Any

from ..admission.quantity import parse as parse_quantity

Obj = dict[str, Any]
Lookup = Callable[[str, str], Obj | None]  # (resource, name) in the pod's namespace
_REF = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")
_SUBSCRIPT = re.compile(r"^metadata\.(labels|annotations)\['(.+)'\]$")


class ConfigError(Exception):
    """The kubelet's CreateContainerConfigError; ``str()`` is its message."""


def expand(value: str, env: dict[str, str]) -> str:
    """Kubernetes ``$(VAR)`` expansion (``third_party/forked/golang/expansion``)."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        return env[name] if name in env else match.group(0)

    return _REF.sub(replace, value)


def _data(obj: Obj, kind: str) -> dict[str, str]:
    if kind == "Secret":
        return {k: base64.b64decode(v).decode(errors="replace")
                for k, v in (obj.get("data") or {}).items()}  # fmt: skip
    data = dict(obj.get("data") or {})
    for key, value in (obj.get("binaryData") or {}).items():
        data[key] = base64.b64decode(value).decode(errors="replace")
    return data


def _source(lookup: Lookup, kind: str, name: str, optional: bool) -> dict[str, str] | None:
    resource = "secrets" if kind == "Secret" else "configmaps"
    obj = lookup(resource, name)
    if obj is None:
        if optional:
            return None
        raise ConfigError(f'{kind.lower()} "{name}" not found')
    return _data(obj, kind)


def _key_ref(lookup: Lookup, namespace: str, kind: str, ref: Obj) -> str | None:
    name, key = str(ref.get("name", "")), str(ref.get("key", ""))
    optional = bool(ref.get("optional"))
    data = _source(lookup, kind, name, optional)
    if data is None:
        return None
    if key not in data:
        if optional:
            return None
        raise ConfigError(f"couldn't find key {key} in {kind} {namespace}/{name}")
    return data[key]


def field_value(pod: Obj, path: str) -> str:
    """A ``fieldRef.fieldPath`` of the pod; ConfigError for an unsupported path."""
    meta, spec, status = pod["metadata"], pod.get("spec") or {}, pod.get("status") or {}
    simple = {
        "metadata.name": meta.get("name"),
        "metadata.namespace": meta.get("namespace"),
        "metadata.uid": meta.get("uid"),
        "spec.nodeName": spec.get("nodeName"),
        "spec.serviceAccountName": spec.get("serviceAccountName", "default"),
        "status.hostIP": status.get("hostIP"),
        "status.hostIPs": status.get("hostIP"),
        "status.podIP": status.get("podIP"),
        "status.podIPs": status.get("podIP"),
    }
    if path in simple:
        return str(simple[path] or "")
    match = _SUBSCRIPT.match(path)
    if match:
        return str((meta.get(match.group(1)) or {}).get(match.group(2), ""))
    if path in ("metadata.labels", "metadata.annotations"):
        items = (meta.get(path.split(".")[1]) or {}).items()
        return "\n".join(f'{k}="{v}"' for k, v in sorted(items))
    raise ConfigError(f'unsupported fieldPath: "{path}"')


def _resource_value(container: Obj, ref: Obj) -> str:
    resource = str(ref.get("resource", ""))
    section, _, name = resource.partition(".")
    resources = container.get("resources") or {}
    raw = (resources.get(section) or {}).get(name)
    if raw is None and section == "requests":
        raw = (resources.get("limits") or {}).get(name)
    if raw is None:
        return "0" if section == "requests" else ("1" if name == "cpu" else "0")
    divisor = parse_quantity(str(ref.get("divisor", "1")))
    value = parse_quantity(str(raw)) / (divisor or 1)
    return str(math.ceil(value))


def resolve(pod: Obj, container: Obj, lookup: Lookup) -> dict[str, str]:
    """The container's env as the kubelet builds it; raises ConfigError."""
    namespace = pod["metadata"].get("namespace", "")
    env: dict[str, str] = {}
    for source in container.get("envFrom") or []:
        prefix = str(source.get("prefix") or "")
        for kind, ref_key in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
            ref = source.get(ref_key)
            if ref is None:
                continue
            data = _source(lookup, kind, str(ref.get("name", "")), bool(ref.get("optional")))
            for key, value in (data or {}).items():
                env[prefix + key] = value
    for entry in container.get("env") or []:
        name = str(entry.get("name"))
        if "value" in entry or "valueFrom" not in entry:
            env[name] = expand(str(entry.get("value") or ""), env)
            continue
        source = entry["valueFrom"] or {}
        found: str | None
        if "secretKeyRef" in source:
            found = _key_ref(lookup, namespace, "Secret", source["secretKeyRef"])
        elif "configMapKeyRef" in source:
            found = _key_ref(lookup, namespace, "ConfigMap", source["configMapKeyRef"])
        elif "fieldRef" in source:
            found = field_value(pod, str(source["fieldRef"].get("fieldPath", "")))
        elif "resourceFieldRef" in source:
            found = _resource_value(container, source["resourceFieldRef"])
        else:
            found = ""
        if found is not None:
            env[name] = found
    return env
