"""PodSecurity admission: the Pod Security Standards, per namespace, from its labels.

A namespace chooses a level per mode with the labels
``pod-security.kubernetes.io/{enforce,warn,audit}`` (``privileged``, ``baseline``,
``restricted``; no label is ``privileged``, an unknown level is treated as
``restricted``) and optionally ``pod-security.kubernetes.io/<mode>-version`` (``latest``,
the default, or ``v1.N``; checks newer than the version are not applied). As
``k8s.io/pod-security-admission`` does:

- **enforce** refuses a pod that breaks the level, 403::

    pods "web" is forbidden: violates PodSecurity "restricted:latest": privileged
    (container "web" must not set securityContext.privileged=true), ...

- **warn** admits it with a ``Warning`` header ``would violate PodSecurity
  "restricted:latest": ...`` (not added when enforce already refuses);
- **audit** would annotate the audit event; the simulator has no audit log, so it logs the
  same text at INFO.

Pods are checked on create and on updates that change their images; Deployments,
ReplicaSets, StatefulSets and Jobs get warn and audit on their pod template (create, and
updates that change the template), never enforce: their pods are refused when the
controller creates them, which shows as ``FailedCreate``. Changing a namespace's enforce
level warns about the existing pods that break it (``existing pods in namespace "shop"
violate the new PodSecurity enforce level "restricted:latest"`` and ``web-1: privileged``).
The checks are :mod:`storeplane.sim.admission.pod_security_checks`.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from ..errors import ApiError
from ..kinds import NAMESPACES
from .chain import Attributes, Operation
from .pod_security_checks import LEVELS, detail, evaluate

logger = logging.getLogger(__name__)

Obj = dict[str, Any]
PREFIX = "pod-security.kubernetes.io/"
MODES = ("enforce", "audit", "warn")
LATEST = (1, 31)  # the simulated Kubernetes release (storeplane.sim.kinds.KUBERNETES_VERSION)
TEMPLATE_KINDS = ("Deployment", "ReplicaSet", "StatefulSet", "Job")
_VERSION = re.compile(r"^v1\.(0|[1-9][0-9]*)$")


def level_version(labels: dict[str, str], mode: str) -> tuple[str, tuple[int, int], str]:
    """(level, version, shown) for one mode, e.g. ("restricted", (1, 31), "restricted:latest")."""
    level = labels.get(PREFIX + mode, "privileged")
    if level not in LEVELS:
        level = "restricted"  # an unreadable level fails closed, as the admission does
    raw = labels.get(PREFIX + mode + "-version", "latest")
    match = _VERSION.match(raw)
    if match is None or (1, int(match.group(1))) >= LATEST:
        return level, LATEST, f"{level}:latest"
    return level, (1, int(match.group(1))), f"{level}:{raw}"


def _pod_parts(attrs: Attributes, obj: Obj | None) -> tuple[Obj, Obj] | None:
    """(metadata, spec) of the pod, or of a workload's pod template."""
    if obj is None:
        return None
    if attrs.kind.kind == "Pod":
        template: Any = obj
    else:
        template = (obj.get("spec") or {}).get("template")
    if not isinstance(template, dict):
        return None
    spec = template.get("spec")
    meta = template.get("metadata")
    return (meta if isinstance(meta, dict) else {}), (spec if isinstance(spec, dict) else {})


def _images(spec: Obj) -> list[Any]:
    return [
        c.get("image")
        for section in ("initContainers", "containers", "ephemeralContainers")
        for c in spec.get(section) or []
        if isinstance(c, dict)
    ]


class PodSecurity:
    name = "PodSecurity"
    operations: frozenset[Operation] = frozenset({"CREATE", "UPDATE"})

    def handles(self, attrs: Attributes) -> bool:
        if attrs.subresource:
            return False
        if attrs.kind is NAMESPACES:
            return attrs.operation == "UPDATE"
        return bool(attrs.namespace) and attrs.kind.kind in ("Pod", *TEMPLATE_KINDS)

    def validate(self, attrs: Attributes) -> None:
        if attrs.kind is NAMESPACES:
            self._namespace_changed(attrs)
            return
        parts = _pod_parts(attrs, attrs.obj)
        if parts is None:
            return
        if attrs.operation == "UPDATE":
            before = _pod_parts(attrs, attrs.old)
            if attrs.kind.kind == "Pod":
                if before is not None and _images(before[1]) == _images(parts[1]):
                    return  # only image changes are re-checked on a pod
            elif before == parts:
                return  # the pod template did not change
        namespace = attrs.lookup(NAMESPACES.qualified, "", attrs.namespace)
        labels = ((namespace or {}).get("metadata") or {}).get("labels") or {}
        meta, spec = parts
        results: dict[str, list[tuple[str, str]]] = {}

        def violations(mode: str) -> tuple[list[tuple[str, str]], str]:
            level, version, shown = level_version(labels, mode)
            if shown not in results:
                results[shown] = evaluate(level, version, meta, spec)
            return results[shown], shown

        if attrs.kind.kind == "Pod":
            found, shown = violations("enforce")
            if found:
                raise ApiError(
                    403,
                    "Forbidden",
                    f'pods "{attrs.name}" is forbidden: violates PodSecurity "{shown}": '
                    f"{detail(found)}",
                    {"name": attrs.name, "kind": "pods"},
                )
        found, shown = violations("audit")
        if found:
            logger.info(
                "audit %s %s/%s: would violate PodSecurity %r: %s",
                attrs.kind.kind, attrs.namespace, attrs.name, shown, detail(found),
            )  # fmt: skip
        found, shown = violations("warn")
        if found:
            attrs.warnings.append(f'would violate PodSecurity "{shown}": {detail(found)}')

    def _namespace_changed(self, attrs: Attributes) -> None:
        """A raised enforce level: warn about the pods already there that break it."""
        new_labels = ((attrs.obj or {}).get("metadata") or {}).get("labels") or {}
        old_labels = ((attrs.old or {}).get("metadata") or {}).get("labels") or {}
        level, version, shown = level_version(new_labels, "enforce")
        if level == "privileged" or level_version(old_labels, "enforce")[2] == shown:
            return
        by_warning: dict[str, list[str]] = {}
        for pod in attrs.objects("pods", attrs.name):
            spec = pod.get("spec") or {}
            found = evaluate(level, version, pod.get("metadata") or {}, spec)
            if found:
                reasons = ", ".join(reason for reason, _ in found)
                by_warning.setdefault(reasons, []).append(pod["metadata"]["name"])
        if not by_warning:
            return
        attrs.warnings.append(
            f'existing pods in namespace "{attrs.name}" violate the new PodSecurity enforce '
            f'level "{shown}"'
        )
        decorated = []
        for warning, pods in by_warning.items():
            first, others = min(pods), len(pods) - 1
            if others == 0:
                decorated.append(f"{first}: {warning}")
            elif others == 1:
                decorated.append(f"{first} (and 1 other pod): {warning}")
            else:
                decorated.append(f"{first} (and {others} other pods): {warning}")
        attrs.warnings.extend(sorted(decorated))
