"""Pod spec rules the OpenAPI schemas cannot express, in the API server's words.

Called by :func:`storeplane.sim.admission.validation.validate` for Pods and for the pod
templates of Deployments, ReplicaSets, StatefulSets and Jobs (``spec.template.spec``), as
``pkg/apis/core/validation`` ``ValidatePodSpec`` checks them:

- ``containers``: at least one (``spec.containers: Required value``); names are DNS labels,
  unique across init and app containers (``Duplicate value: "web"``); an image is set;
- ports: names are IANA service names (at most 15 characters, lowercase letters, digits and
  single inner hyphens, at least one letter), unique within a container; port numbers in
  1..65535; the same ``containerPort``/``protocol`` twice is a *warning*, as on a cluster
  (``spec.containers[1].ports[0]: duplicate port definition with spec.containers[0].ports[0]``);
- env: names match ``[-._a-zA-Z][-._a-zA-Z0-9]*``; ``value`` and ``valueFrom`` not both;
- probes: exactly one handler (``must specify a handler type`` / ``may not specify more
  than 1 handler type``), ``successThreshold`` 1 for liveness and startup probes, a probe
  port is a number in range or a port name;
- volumes: names unique, one volume type each; every ``volumeMounts[].name`` names a volume
  (a StatefulSet's ``volumeClaimTemplates`` count), mount paths unique per container;
- ``restartPolicy``: ``Always`` in Deployment/ReplicaSet/StatefulSet templates,
  ``OnFailure`` or ``Never`` in Job templates (a missing one is the default ``Always``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..kinds import Kind
from .names import LABEL_MSG, LABEL_RE

Obj = dict[str, Any]
Cause = tuple[str, str]

TEMPLATE_KINDS = ("Deployment", "ReplicaSet", "StatefulSet", "Job")
HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")
_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
ENV_NAME_MSG = (
    "a valid environment variable name must consist of alphabetic characters, digits, '_', "
    "'-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or "
    "'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')"
)
_PORT_NAME_CHARS = re.compile(r"^[-a-z0-9]+$")
_HAS_LETTER = re.compile(r"[a-z]")


def port_name_problems(name: str) -> list[str]:
    """Why ``name`` is not an IANA service name (``validation.IsValidPortName``)."""
    problems = []
    if len(name) > 15:
        problems.append("must be no more than 15 characters")
    if not _PORT_NAME_CHARS.match(name):
        problems.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if "--" in name:
        problems.append("must not contain consecutive hyphens")
    if not _HAS_LETTER.search(name):
        problems.append("must contain at least one letter (a-z)")
    if name.startswith("-") or name.endswith("-"):
        problems.append("must not begin or end with a hyphen")
    return problems


def port_number_error(field: str, value: Any) -> Cause | None:
    if isinstance(value, int) and not isinstance(value, bool) and not 1 <= value <= 65535:
        return field, f"Invalid value: {value}: must be between 1 and 65535, inclusive"
    return None


def int_or_name_errors(field: str, value: Any) -> list[Cause]:
    """A port given as a number (1..65535) or a name (an IANA service name)."""
    if isinstance(value, str) and not value.isdigit():
        return [(field, f'Invalid value: "{value}": {p}') for p in port_name_problems(value)]
    if isinstance(value, str):
        value = int(value)
    found = port_number_error(field, value)
    return [found] if found else []


def _containers(spec: Obj, prefix: str) -> Iterator[tuple[str, Obj]]:
    for section in ("initContainers", "containers"):
        for i, container in enumerate(spec.get(section) or []):
            if isinstance(container, dict):
                yield f"{prefix}.{section}[{i}]", container


def _probe_errors(path: str, probe: Any, needs_one_success: bool) -> list[Cause]:
    if not isinstance(probe, dict):
        return []
    handlers = [h for h in HANDLERS if probe.get(h) is not None]
    errors: list[Cause] = []
    if not handlers:
        errors.append((path, "Required value: must specify a handler type"))
    elif len(handlers) > 1:
        errors.append((path, "Forbidden: may not specify more than 1 handler type"))
    threshold = probe.get("successThreshold")
    if needs_one_success and isinstance(threshold, int) and threshold != 1:
        errors.append((f"{path}.successThreshold", f"Invalid value: {threshold}: must be 1"))
    for handler in ("httpGet", "tcpSocket"):
        action = probe.get(handler)
        if isinstance(action, dict) and "port" in action:
            errors += int_or_name_errors(f"{path}.{handler}.port", action["port"])
    return errors


def _container_errors(
    path: str, container: Obj, volumes: set[str]
) -> tuple[list[Cause], list[tuple[str, Obj]]]:
    errors: list[Cause] = []
    name = container.get("name")
    if isinstance(name, str) and name and not LABEL_RE.match(name):
        errors.append((f"{path}.name", f'Invalid value: "{name}": {LABEL_MSG}'))
    if not container.get("image"):
        errors.append((f"{path}.image", "Required value"))
    port_names: set[str] = set()
    ports: list[tuple[str, Obj]] = []
    for j, port in enumerate(container.get("ports") or []):
        if not isinstance(port, dict):
            continue
        port_path = f"{path}.ports[{j}]"
        ports.append((port_path, port))
        port_name = port.get("name")
        if isinstance(port_name, str) and port_name:
            errors += [
                (f"{port_path}.name", f'Invalid value: "{port_name}": {p}')
                for p in port_name_problems(port_name)
            ]
            if port_name in port_names:
                errors.append((f"{port_path}.name", f'Duplicate value: "{port_name}"'))
            port_names.add(port_name)
        for field in ("containerPort", "hostPort"):
            if field == "hostPort" and not port.get(field):
                continue
            found = port_number_error(f"{port_path}.{field}", port.get(field))
            if found:
                errors.append(found)
    for j, env in enumerate(container.get("env") or []):
        if not isinstance(env, dict):
            continue
        env_name = env.get("name")
        if isinstance(env_name, str) and env_name and not _ENV_NAME.match(env_name):
            errors.append((f"{path}.env[{j}].name", f'Invalid value: "{env_name}": {ENV_NAME_MSG}'))
        if env.get("value") and env.get("valueFrom") is not None:
            errors.append((
                f"{path}.env[{j}].valueFrom",
                'Invalid value: "": may not be specified when `value` is not empty',
            ))  # fmt: skip
    for probe, one_success in (("livenessProbe", True), ("readinessProbe", False),
                               ("startupProbe", True)):  # fmt: skip
        errors += _probe_errors(f"{path}.{probe}", container.get(probe), one_success)
    mount_paths: set[str] = set()
    for j, mount in enumerate(container.get("volumeMounts") or []):
        if not isinstance(mount, dict):
            continue
        mount_name = mount.get("name")
        if isinstance(mount_name, str) and mount_name and mount_name not in volumes:
            errors.append((f"{path}.volumeMounts[{j}].name", f'Not found: "{mount_name}"'))
        mount_path = mount.get("mountPath")
        if isinstance(mount_path, str) and mount_path:
            if mount_path in mount_paths:
                errors.append((
                    f"{path}.volumeMounts[{j}].mountPath",
                    f'Invalid value: "{mount_path}": must be unique',
                ))  # fmt: skip
            mount_paths.add(mount_path)
    return errors, ports


def _port_warnings(ports: list[tuple[str, Obj]]) -> list[str]:
    """``pkg/api/pod/warnings.go``: the same port/protocol declared twice."""
    warnings = []
    seen: dict[str, list[tuple[str, Obj]]] = {}
    for path, port in ports:
        key = f"{port.get('containerPort')}/{port.get('protocol') or 'TCP'}"
        for other_path, other in seen.get(key, []):
            same_host = (port.get("hostIP") or "") == (other.get("hostIP") or "")
            if same_host and (port.get("hostPort") or 0) == (other.get("hostPort") or 0):
                warnings.append(f"{path}: duplicate port definition with {other_path}")
            elif not port.get("hostPort") or not other.get("hostPort"):
                warnings.append(f"{path}: overlapping port definition with {other_path}")
        seen.setdefault(key, []).append((path, port))
    return warnings


def spec_errors(kind: Kind, obj: Obj) -> tuple[list[Cause], list[str]]:
    """(causes, warnings) for the pod spec of ``obj`` (a Pod or a workload with a template)."""
    if kind.kind == "Pod":
        prefix, spec = "spec", obj.get("spec")
    elif kind.kind in TEMPLATE_KINDS:
        template = (obj.get("spec") or {}).get("template")
        prefix = "spec.template.spec"
        spec = template.get("spec") if isinstance(template, dict) else None
    else:
        return [], []
    if not isinstance(spec, dict):
        return [], []
    errors: list[Cause] = []
    if not spec.get("containers"):
        errors.append((f"{prefix}.containers", "Required value"))
    volumes: set[str] = set()
    for i, volume in enumerate(spec.get("volumes") or []):
        if not isinstance(volume, dict):
            continue
        name = volume.get("name")
        if name in volumes:
            errors.append((f"{prefix}.volumes[{i}].name", f'Duplicate value: "{name}"'))
        if isinstance(name, str):
            volumes.add(name)
        if not set(volume) - {"name"}:
            errors.append((f"{prefix}.volumes[{i}]", "Required value: must specify a volume type"))
    if kind.kind == "StatefulSet":
        for claim in (obj.get("spec") or {}).get("volumeClaimTemplates") or []:
            if isinstance(claim, dict):
                volumes.add(str((claim.get("metadata") or {}).get("name")))
    names: set[str] = set()
    ports: list[tuple[str, Obj]] = []
    for path, container in _containers(spec, prefix):
        name = container.get("name")
        if isinstance(name, str) and name:
            if name in names:
                errors.append((f"{path}.name", f'Duplicate value: "{name}"'))
            names.add(name)
        found, container_ports = _container_errors(path, container, volumes)
        errors += found
        ports += container_ports
    policy = spec.get("restartPolicy") or "Always"
    if kind.kind == "Job" and policy not in ("OnFailure", "Never"):
        errors.append((
            f"{prefix}.restartPolicy",
            f'Unsupported value: "{policy}": supported values: "OnFailure", "Never"',
        ))  # fmt: skip
    elif kind.kind in ("Deployment", "ReplicaSet", "StatefulSet") and policy != "Always":
        errors.append(
            (
                f"{prefix}.restartPolicy",
                f'Unsupported value: "{policy}": supported values: "Always"',
            )
        )
    return errors, _port_warnings(ports)
