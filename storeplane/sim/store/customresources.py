"""What a stored CustomResourceDefinition serves: its kinds, read from the CRD object.

Called by :class:`~storeplane.sim.store.cluster.Cluster` whenever a CRD is stored (and for
every stored CRD at start-up) to update its :class:`~storeplane.sim.kinds.KindRegistry`, and
by the CRD controller (:mod:`storeplane.sim.controllers.crds`) for the ``NamesAccepted``
condition. Every served version becomes a :class:`~storeplane.sim.kinds.Kind` carrying its
structural schema and printer columns; the storage version comes first (its qualified
name is the storage key of the objects, shared by all versions: there is no conversion,
an object keeps the apiVersion it was last written with).
"""

from __future__ import annotations

from typing import Any

from ..kinds import Kind, KindRegistry

Obj = dict[str, Any]

CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"


def names_of(crd: Obj) -> Obj:
    spec = crd.get("spec") or {}
    names = dict(spec.get("names") or {})
    kind = str(names.get("kind") or "")
    names.setdefault("singular", kind.lower())
    names.setdefault("listKind", f"{kind}List")
    return names


def served_kinds(crd: Obj) -> tuple[Kind, ...]:
    """The kinds a CRD serves (storage version first); () for a CRD that cannot serve."""
    spec = crd.get("spec") or {}
    names = names_of(crd)
    group, plural, kind = spec.get("group"), names.get("plural"), names.get("kind")
    if not (isinstance(group, str) and isinstance(plural, str) and isinstance(kind, str)):
        return ()
    versions = [v for v in spec.get("versions") or [] if isinstance(v, dict) and v.get("served")]
    versions.sort(key=lambda v: not v.get("storage"))
    result = []
    for version in versions:
        schema = ((version.get("schema") or {}).get("openAPIV3Schema")) or {
            "type": "object",
            "x-kubernetes-preserve-unknown-fields": True,
        }
        subresources = version.get("subresources") or {}
        result.append(
            Kind(
                group,
                str(version.get("name")),
                plural,
                kind,
                namespaced=spec.get("scope") != "Cluster",
                short_names=tuple(names.get("shortNames") or ()),
                has_status="status" in subresources,
                categories=tuple(names.get("categories") or ()),
                schema=schema,
                printer_columns=tuple(version.get("additionalPrinterColumns") or ()),
                crd=str(crd["metadata"]["name"]),
            )
        )
    return tuple(result)


def name_conflict(crd: Obj, registry: KindRegistry) -> str | None:
    """Why the CRD's names cannot be accepted (another kind serves them), or None."""
    spec = crd.get("spec") or {}
    names = names_of(crd)
    group, own = spec.get("group"), crd["metadata"]["name"]
    for other in registry.all():
        if other.group != group or other.crd == own:
            continue
        if other.resource == names.get("plural"):
            return f'"{other.resource}" is already in use'
        if other.kind == names.get("kind"):
            return f'"{other.kind}" is already in use'
        clash = set(other.short_names) & set(names.get("shortNames") or ())
        if clash:
            return f'"{sorted(clash)[0]}" is already in use'
    return None
