"""What an update may not change: the API server's immutable-field rules, in its words.

Called by :class:`storeplane.sim.store.cluster.Cluster` on every client update (PUT, patch,
apply of an existing object; not on ``status`` writes), after the schema check. Each rule
is one entry of :data:`RULES`, as the registry strategies' ``ValidateUpdate`` have them:

- Deployment, ReplicaSet: ``spec.selector: Invalid value: v1.LabelSelector{...}: field is
  immutable``;
- StatefulSet: ``spec: Forbidden: updates to statefulset spec for fields other than
  'replicas', 'ordinals', 'template', 'updateStrategy',
  'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden`` (so
  ``selector``, ``serviceName``, ``volumeClaimTemplates``, ``podManagementPolicy``...);
- Job: ``spec.selector`` and ``spec.template`` are immutable (``field is immutable``);
- PersistentVolumeClaim: ``spec: Forbidden: spec is immutable after creation except
  resources.requests and volumeAttributesClassName for bound claims`` (the API server
  appends a diff of the specs, left out here); a bound claim may grow
  ``resources.requests.storage`` but not shrink it (``spec.resources.requests.storage:
  Forbidden: field can not be less than previous value``);
- Service: ``spec.clusterIPs[0]: Invalid value: []string{"10.96.0.12"}: may not change once
  set``; a client that leaves ``clusterIP`` out keeps the allocated one
  (:func:`carry_allocated`, as the Service storage does);
- every kind: ``metadata.namespace``/``metadata.name`` are taken from the stored object.

Values of big types (pod templates) are shown as JSON rather than Go's ``%#v``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from ..kinds import Kind
from .quantity import QuantityError, parse

Obj = dict[str, Any]
Cause = tuple[str, str]

STATEFULSET_MUTABLE = ("replicas", "ordinals", "template", "updateStrategy",
                       "persistentVolumeClaimRetentionPolicy", "minReadySeconds")  # fmt: skip
STATEFULSET_MESSAGE = (
    "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', "
    "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
    "'minReadySeconds' are forbidden"
)
PVC_MESSAGE = (
    "Forbidden: spec is immutable after creation except resources.requests and "
    "volumeAttributesClassName for bound claims"
)
IMMUTABLE = "field is immutable"


def _spec(obj: Obj) -> Obj:
    spec = obj.get("spec")
    return spec if isinstance(spec, dict) else {}


def _go_string_map(value: Any) -> str:
    if not isinstance(value, dict):
        return "map[string]string(nil)"
    inner = ", ".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in sorted(value.items()))
    return f"map[string]string{{{inner}}}"


def go_label_selector(selector: Any) -> str:
    """A LabelSelector as Go's ``%#v`` prints it (how the API server shows it in errors)."""
    if not isinstance(selector, dict):
        return "null"
    expressions = selector.get("matchExpressions")
    if expressions:
        items = []
        for e in expressions:
            values = e.get("values")
            shown = (
                "[]string{" + ", ".join(json.dumps(v) for v in values) + "}"
                if values
                else "[]string(nil)"
            )
            items.append(
                f"v1.LabelSelectorRequirement{{Key:{json.dumps(e.get('key'))}, "
                f"Operator:{json.dumps(e.get('operator'))}, Values:{shown}}}"
            )
        rendered = "[]v1.LabelSelectorRequirement{" + ", ".join(items) + "}"
    else:
        rendered = "[]v1.LabelSelectorRequirement(nil)"
    return (
        f"v1.LabelSelector{{MatchLabels:{_go_string_map(selector.get('matchLabels'))}, "
        f"MatchExpressions:{rendered}}}"
    )


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _selector(new: Obj, old: Obj) -> list[Cause]:
    if _spec(new).get("selector") == _spec(old).get("selector"):
        return []
    shown = go_label_selector(_spec(new).get("selector"))
    return [("spec.selector", f"Invalid value: {shown}: {IMMUTABLE}")]


def _statefulset(new: Obj, old: Obj) -> list[Cause]:
    def fixed(obj: Obj) -> Obj:
        return {k: v for k, v in _spec(obj).items() if k not in STATEFULSET_MUTABLE}

    return [] if fixed(new) == fixed(old) else [("spec", STATEFULSET_MESSAGE)]


def _job(new: Obj, old: Obj) -> list[Cause]:
    causes = _selector(new, old)
    if _spec(new).get("template") != _spec(old).get("template"):
        causes.append(
            ("spec.template", f"Invalid value: {_json(_spec(new).get('template'))}: {IMMUTABLE}")
        )
    return causes


def _storage(spec: Obj) -> Fraction | None:
    value = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
    try:
        return parse(value) if value is not None else None
    except QuantityError:
        return None


def _pvc(new: Obj, old: Obj) -> list[Cause]:
    bound = (old.get("status") or {}).get("phase") == "Bound"
    new_spec, old_spec = dict(_spec(new)), dict(_spec(old))
    if bound:
        for spec in (new_spec, old_spec):
            spec.pop("volumeAttributesClassName", None)
            resources = dict(spec.get("resources") or {})
            resources.pop("requests", None)
            spec["resources"] = resources
    if new_spec != old_spec:
        return [("spec", PVC_MESSAGE)]
    before, after = _storage(_spec(old)), _storage(_spec(new))
    if before is not None and after is not None and after < before:
        return [
            (
                "spec.resources.requests.storage",
                "Forbidden: field can not be less than previous value",
            )
        ]
    return []


def _service(new: Obj, old: Obj) -> list[Cause]:
    def ips(obj: Obj) -> list[str]:
        spec = _spec(obj)
        listed = [str(ip) for ip in spec.get("clusterIPs") or []]
        primary = spec.get("clusterIP")
        if primary and (not listed or listed[0] != primary):
            listed = [str(primary), *listed[1:]]  # the primary address decides
        return listed

    before, after = ips(old), ips(new)
    if not before or _spec(new).get("type") == "ExternalName" or after[:1] == before[:1]:
        return []
    shown = "[]string{" + ", ".join(json.dumps(ip) for ip in after) + "}"
    return [("spec.clusterIPs[0]", f"Invalid value: {shown}: may not change once set")]


RULES: dict[str, Callable[[Obj, Obj], list[Cause]]] = {
    "Deployment": _selector,
    "ReplicaSet": _selector,
    "StatefulSet": _statefulset,
    "Job": _job,
    "PersistentVolumeClaim": _pvc,
    "Service": _service,
}


def update_errors(kind: Kind, new: Obj, old: Obj) -> list[Cause]:
    """The causes for a 422 Invalid when ``new`` may not replace ``old``; empty when it may."""
    rule = RULES.get(kind.kind)
    return rule(new, old) if rule is not None else []


def carry_allocated(kind: Kind, new: Obj, old: Obj) -> None:
    """What the Service storage keeps on an update that leaves it out: the allocated
    ``clusterIP``/``clusterIPs`` (``patchAllocatedValues``)."""
    if kind.kind != "Service":
        return
    new_spec, old_spec = new.get("spec"), _spec(old)
    if not isinstance(new_spec, dict) or new_spec.get("type") == "ExternalName":
        return
    if not new_spec.get("clusterIP") and old_spec.get("clusterIP"):
        new_spec["clusterIP"] = old_spec["clusterIP"]
        if old_spec.get("clusterIPs") and not new_spec.get("clusterIPs"):
            new_spec["clusterIPs"] = list(old_spec["clusterIPs"])
