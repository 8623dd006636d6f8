"""The kinds storeplane applies, reads and checks for residue: one table, one line per kind."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lightkube.core.resource_registry import resource_registry


@dataclass(frozen=True, slots=True)
class Kind:
    api_version: str
    kind: str
    namespaced: bool = True

    @property
    def resource(self) -> Any:  # a lightkube resource class; Any keeps its overloads usable
        return resource_registry.load(self.api_version, self.kind)


NAMESPACE = Kind("v1", "Namespace", namespaced=False)

# Every namespaced kind a store's objects can be (platform objects and chart objects).
OWNED_KINDS: tuple[Kind, ...] = (
    Kind("v1", "ResourceQuota"),
    Kind("v1", "LimitRange"),
    Kind("v1", "ServiceAccount"),
    Kind("v1", "Secret"),
    Kind("v1", "ConfigMap"),
    Kind("v1", "Service"),
    Kind("v1", "PersistentVolumeClaim"),
    Kind("apps/v1", "Deployment"),
    Kind("apps/v1", "StatefulSet"),
    Kind("batch/v1", "Job"),
    Kind("networking.k8s.io/v1", "NetworkPolicy"),
    Kind("networking.k8s.io/v1", "Ingress"),
    Kind("rbac.authorization.k8s.io/v1", "Role"),
    Kind("rbac.authorization.k8s.io/v1", "RoleBinding"),
    # Made by the workload controllers, never applied by storeplane: read (and watched) so
    # that a workload that is not ready can say which pod and container is stuck, and why.
    Kind("v1", "Pod"),
)

# Cluster-scoped kinds that could carry a store's label by mistake; checked after teardown.
# PersistentVolumes: a store's slice of the folder backup target (teardown deletes it).
PERSISTENT_VOLUME = Kind("v1", "PersistentVolume", namespaced=False)
CLUSTER_KINDS: tuple[Kind, ...] = (NAMESPACE, PERSISTENT_VOLUME)


# Written by storeplane (its step outcomes), never owned or pruned.
EVENT = Kind("v1", "Event")


def kind_of(api_version: str, kind: str) -> Kind:
    for known in (*OWNED_KINDS, *CLUSTER_KINDS, EVENT):
        if known.api_version == api_version and known.kind == kind:
            return known
    raise KeyError(f"{kind} ({api_version}) is not a kind storeplane manages")
