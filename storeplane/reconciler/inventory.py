"""``StoreInventory``: a store's live resource tree for the console (``GET .../objects``).

Called by the objects service through :class:`storeplane.domain.ports.StoreObjectsPort`;
``runtime.py`` builds it on the reconciler's own context, so it reads what the reconciler
reads (the watch-fed cache once synced: opening a store's page costs the cluster nothing) and
knows what should exist the way the reconciler does (the rendered desired state, cached): an
object that is rendered but absent is ``Missing``. ObjectHealth comes from the reconciler's
readiness rules (:mod:`storeplane.domain.objects`).
"""

from __future__ import annotations

import logging

from storeplane.domain.errors import ReconcileError
from storeplane.domain.objects import ObjectHealth, StoreObject, judge, owned_by
from storeplane.domain.ports import NamespacePhase, ObjectRef
from storeplane.domain.store import Store
from storeplane.reconciler.context import ReconcileContext
from storeplane.reconciler.desired import desired_state

log = logging.getLogger(__name__)

# The order the tree lists kinds in: the namespace's guard rails, then what the chart runs.
KIND_ORDER = (
    "ResourceQuota",
    "LimitRange",
    "NetworkPolicy",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "Secret",
    "ConfigMap",
    "Service",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "Job",
    "Pod",
    "Ingress",
)
_WORKLOADS = ("Deployment", "StatefulSet", "Job")


def _rank(kind: str) -> int:
    return KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)


class StoreInventory:
    """Implements :class:`storeplane.domain.ports.StoreObjectsPort`."""

    def __init__(self, ctx: ReconcileContext) -> None:
        self._ctx = ctx

    async def objects(self, store: Store) -> list[StoreObject]:
        cluster = self._ctx.cluster
        namespace = await cluster.namespace_status(store.namespace)
        if namespace.phase == NamespacePhase.ABSENT or namespace.manifest is None:
            ns = StoreObject(
                "v1", "Namespace", store.namespace, ObjectHealth.MISSING, "not in the cluster"
            )
            live = []
        else:
            health, line = judge(namespace.manifest, True, "")
            if namespace.message:
                line = f"{line}: {namespace.message}"
            ns = StoreObject(
                "v1", "Namespace", store.namespace, health, line, manifest=namespace.manifest
            )
            live = await cluster.list_owned(store.id, store.namespace)
        wanted = await self._wanted(store)
        found = {o.ref for o in live}
        workloads = [o.manifest for o in live if o.ref.kind in _WORKLOADS]
        items: list[StoreObject] = []
        for obj in live:
            health, line = judge(obj.manifest, obj.ready, obj.readiness_message)
            parent = owned_by(obj.manifest, workloads) if obj.ref.kind == "Pod" else None
            items.append(
                StoreObject(
                    obj.ref.api_version,
                    obj.ref.kind,
                    obj.ref.name,
                    health,
                    line,
                    parent=parent,
                    manifest=obj.manifest,
                )
            )
        if store.deleted_at is None:
            for ref in sorted(wanted - found, key=lambda r: (r.kind, r.name)):
                items.append(
                    StoreObject(
                        ref.api_version,
                        ref.kind,
                        ref.name,
                        ObjectHealth.MISSING,
                        "rendered but not in the cluster (the next pass applies it)",
                    )
                )
        items.sort(key=lambda o: (_rank(o.kind), o.parent or "", o.name))
        return [ns, *items]

    async def _wanted(self, store: Store) -> set[ObjectRef]:
        """What storeplane would apply now; empty when the chart does not render (the store's
        own conditions say why), so nothing is wrongly reported missing."""
        try:
            desired = await desired_state(store, self._ctx)
        except (ReconcileError, ValueError) as exc:
            log.debug("inventory: %s does not render: %s", store.id, exc)
            return set()
        return {
            ObjectRef(r.api_version, r.kind, r.name, r.namespace or store.namespace)
            for r in desired.refs()
        }
