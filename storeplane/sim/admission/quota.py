"""The arithmetic of LimitRange defaults and ResourceQuota, for their admission plugins.

Used by :mod:`storeplane.sim.admission.limit_ranger` and
:mod:`storeplane.sim.admission.resource_quota`, in the admission chain's order: the
LimitRanger fills in container resources from the namespace's
LimitRanges (``default`` -> limits, ``defaultRequest`` -> requests, for containers that do
not set them), then ResourceQuota admission refuses an object that would take the
namespace over a quota's ``spec.hard``, with the real ``403 Forbidden`` message::

    pods "web-7c9f-" is forbidden: exceeded quota: store-quota, requested:
    limits.cpu=500m, used: limits.cpu=1500m, limited: limits.cpu=2

:func:`usage` is also what the quota controller writes to ``status.used``. Counted: pods
(``pods``, ``count/pods``, ``requests.*``/``limits.*`` of cpu, memory and
ephemeral-storage, bare ``cpu``/``memory`` meaning requests), PVCs
(``persistentvolumeclaims``, ``count/persistentvolumeclaims``, ``requests.storage``) and
object counts ``count/<resource>`` plus ``services``, ``secrets``, ``configmaps``. Not
modelled: quota scopes and scope selectors, storage-class quotas, init container
resources, LimitRange min/max/ratio checks and Pod/PVC-level limits.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

from ..errors import ApiError
from ..kinds import Kind
from .quantity import QuantityError, is_binary, parse, render

Obj = dict[str, Any]
Lister = Callable[[str, str], list[Obj]]  # (qualified resource, namespace) -> objects

COMPUTE = ("cpu", "memory", "ephemeral-storage")
_COUNTED = {"services": "services", "secrets": "secrets", "configmaps": "configmaps",
            "persistentvolumeclaims": "persistentvolumeclaims", "pods": "pods"}  # fmt: skip


def _containers(pod: Obj) -> list[Obj]:
    return [c for c in (pod.get("spec") or {}).get("containers") or [] if isinstance(c, dict)]


def apply_limit_ranges(pod: Obj, limit_ranges: list[Obj]) -> None:
    """Fill in missing container requests/limits from the namespace's LimitRanges."""
    for limit_range in limit_ranges:
        for item in (limit_range.get("spec") or {}).get("limits") or []:
            if item.get("type") != "Container":
                continue
            default = item.get("default") or {}
            default_request = {**default, **(item.get("defaultRequest") or {})}
            for container in _containers(pod):
                resources = container.setdefault("resources", {})
                limits = resources.get("limits") or {}
                requests = resources.get("requests") or {}
                # Pod defaulting first: a container's own limit is its request.
                for name, value in limits.items():
                    requests.setdefault(name, value)
                for name, value in default.items():
                    limits.setdefault(name, value)
                for name, value in default_request.items():
                    requests.setdefault(name, value)
                if limits:
                    resources["limits"] = limits
                if requests:
                    resources["requests"] = requests


def _pod_amounts(pod: Obj) -> dict[str, Fraction]:
    amounts: dict[str, Fraction] = {"pods": Fraction(1), "count/pods": Fraction(1)}
    for container in _containers(pod):
        resources = container.get("resources") or {}
        limits = resources.get("limits") or {}
        requests = {**limits, **(resources.get("requests") or {})}
        for name in COMPUTE:
            for prefix, values in (("requests.", requests), ("limits.", limits)):
                if name in values:
                    key = prefix + name
                    amounts[key] = amounts.get(key, Fraction(0)) + _parse(values[name])
    for name in ("cpu", "memory", "ephemeral-storage"):
        if f"requests.{name}" in amounts:
            amounts[name] = amounts[f"requests.{name}"]
    return amounts


def _pvc_amounts(pvc: Obj) -> dict[str, Fraction]:
    storage = ((pvc.get("spec") or {}).get("resources") or {}).get("requests", {}).get("storage")
    amounts = {"persistentvolumeclaims": Fraction(1), "count/persistentvolumeclaims": Fraction(1)}
    if storage is not None:
        amounts["requests.storage"] = _parse(storage)
    return amounts


def _parse(value: Any) -> Fraction:
    if isinstance(value, Fraction):
        return value
    try:
        return parse(value)
    except QuantityError:
        return Fraction(0)


def amounts_of(kind: Kind, obj: Obj) -> dict[str, Fraction]:
    """What one object counts for against a quota."""
    if kind.kind == "Pod":
        phase = (obj.get("status") or {}).get("phase")
        if phase in ("Succeeded", "Failed") or obj["metadata"].get("deletionTimestamp"):
            return {}
        return _pod_amounts(obj)
    if kind.kind == "PersistentVolumeClaim":
        return _pvc_amounts(obj)
    amounts = {f"count/{kind.qualified}": Fraction(1)}
    if kind.resource in _COUNTED:
        amounts[_COUNTED[kind.resource]] = Fraction(1)
    return amounts


def _counts_toward(kind: Kind, names: set[str]) -> bool:
    if kind.kind == "Pod":
        return any(n in ("pods", "count/pods") or n.rpartition(".")[2] in COMPUTE for n in names)
    if kind.kind == "PersistentVolumeClaim":
        return bool(
            names & {"persistentvolumeclaims", "count/persistentvolumeclaims", "requests.storage"}
        )
    return f"count/{kind.qualified}" in names or _COUNTED.get(kind.resource, "-") in names


def usage(hard: Obj, namespace: str, kinds: list[Kind], lister: Lister) -> dict[str, Fraction]:
    """Current use in ``namespace`` of every resource named in ``hard``."""
    used = {name: Fraction(0) for name in hard}
    for kind in kinds:
        if not _counts_toward(kind, set(hard)):
            continue
        for obj in lister(kind.qualified, namespace):
            for name, amount in amounts_of(kind, obj).items():
                if name in used:
                    used[name] += amount
    return used


def render_usage(hard: Obj, used: dict[str, Fraction]) -> dict[str, str]:
    return {name: render(amount, is_binary(hard.get(name))) for name, amount in used.items()}


def check_quota(
    kind: Kind,
    obj: Obj,
    quotas: list[Obj],
    kinds: list[Kind],
    lister: Lister,
    name: str | None = None,
) -> None:
    """Raise the API server's 403 Forbidden if ``obj`` would exceed a quota. ``name`` is
    the name the refusal shows: the ``generateName`` prefix when the server is to pick the
    name, as admission runs before names are generated."""
    name = name or obj["metadata"].get("name") or obj["metadata"].get("generateName", "")
    wanted = amounts_of(kind, obj)
    for quota in sorted(quotas, key=lambda q: q["metadata"]["name"]):
        hard = (quota.get("spec") or {}).get("hard") or {}
        quota_name = quota["metadata"]["name"]
        if kind.kind == "Pod":
            missing = _missing_resources(obj, hard)
            if missing:
                raise _forbidden(kind, name, f"failed quota: {quota_name}: {missing}")
        relevant = {k: v for k, v in wanted.items() if k in hard}
        if not relevant:
            continue
        used = usage(hard, obj["metadata"]["namespace"], kinds, lister)
        exceeded = sorted(k for k, amount in relevant.items() if used[k] + amount > _parse(hard[k]))
        if exceeded:
            raise _forbidden(
                kind,
                name,
                f"exceeded quota: {quota_name}, requested: {_show(relevant, exceeded, hard)}, "
                f"used: {_show(used, exceeded, hard)}, limited: {_show(hard, exceeded, hard)}",
            )


def _show(values: dict[str, Any], keys: list[str], hard: Obj) -> str:
    return ",".join(f"{k}={render(_parse(values[k]), is_binary(hard[k]))}" for k in keys)


def _missing_resources(pod: Obj, hard: Obj) -> str:
    """``must specify limits.cpu for: web; ...``: compute resources a quota tracks but a
    container does not set (after LimitRange defaults)."""
    problems = []
    for resource in sorted(hard):
        prefix, _, name = resource.rpartition(".")
        if name not in COMPUTE or prefix not in ("requests", "limits", ""):
            continue
        field = "limits" if prefix == "limits" else "requests"
        lacking = [
            str(c.get("name"))
            for c in _containers(pod)
            if name not in ((c.get("resources") or {}).get(field) or {})
            and not (
                field == "requests" and name in ((c.get("resources") or {}).get("limits") or {})
            )
        ]
        if lacking:
            problems.append(f"must specify {resource} for: {','.join(lacking)}")
    return "; ".join(problems)


def _forbidden(kind: Kind, name: str, why: str) -> ApiError:
    details: Obj = {"name": name, "kind": kind.resource}
    return ApiError(403, "Forbidden", f'{kind.qualified} "{name}" is forbidden: {why}', details)
