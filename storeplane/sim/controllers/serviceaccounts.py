"""The ServiceAccount controller: every active namespace has a ``default`` ServiceAccount.

Run by :class:`storeplane.sim.controllers.manager.ControllerManager` as a sync controller,
as ``pkg/controller/serviceaccount`` runs in the controller manager: a namespace that is
created (or whose ``default`` ServiceAccount is deleted) gets one again, unless it is
terminating. Pods that name no ServiceAccount run as it (see
:mod:`storeplane.sim.admission.service_account`).
"""

from __future__ import annotations

from ..errors import ApiError
from ..kinds import NAMESPACES, Kind, by_qualified
from ..store.cluster import Cluster, Obj
from ..store.objects import ObjectKey

SERVICE_ACCOUNTS = by_qualified("serviceaccounts")
DEFAULT = "default"
MANAGER = "kube-controller-manager"


class ServiceAccountSync:
    name = "serviceaccount"
    resources = ("namespaces", "serviceaccounts")

    def keys_for(self, cluster: Cluster, kind: Kind, obj: Obj) -> list[ObjectKey]:
        meta = obj["metadata"]
        if kind is NAMESPACES:
            return [cluster.key(NAMESPACES, None, meta["name"])]
        if meta.get("name") == DEFAULT:
            return [cluster.key(NAMESPACES, None, meta.get("namespace", ""))]
        return []

    def sync(self, cluster: Cluster, key: ObjectKey) -> float | None:
        namespace = cluster.store.peek(key)
        if namespace is None or namespace["metadata"].get("deletionTimestamp"):
            return None
        if cluster.store.exists(cluster.key(SERVICE_ACCOUNTS, key.name, DEFAULT)):
            return None
        try:
            cluster.create(SERVICE_ACCOUNTS, key.name, {"metadata": {"name": DEFAULT}}, MANAGER)
        except ApiError:
            return 1.0  # e.g. a quota on serviceaccounts: try again, as the real one does
        return None
