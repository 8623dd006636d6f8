"""``CachedCluster``: the ClusterPort with reads served from the watch-fed cache.

Writes go to the API server and their results into the cache (so a pass sees its own writes
at once). ``namespace_status`` and ``list_owned`` read the cache once the watcher is synced,
and the API server before that. ``find_residue`` always asks the API server: it is the proof
that nothing is left, so it must not trust a cache.
"""

from __future__ import annotations

import hashlib

from storeplane.cluster.cache import ObjectCache
from storeplane.cluster.client import KubernetesCluster, live_object, namespace_status_of
from storeplane.cluster.watch import ClusterWatcher
from storeplane.domain.ports import (
    LiveObject,
    Manifest,
    NamespacePhase,
    NamespaceStatus,
    NodeResidue,
    ObjectRef,
    ServiceAnswer,
)


class CachedCluster:
    """Implements :class:`storeplane.domain.ports.ClusterPort`."""

    def __init__(
        self, inner: KubernetesCluster, cache: ObjectCache, watcher: ClusterWatcher
    ) -> None:
        self._inner = inner
        self._cache = cache
        self._watcher = watcher
        self.live_reads = 0  # reads that had to go to the API server, for tests

    async def close(self) -> None:
        await self._inner.close()

    async def namespace_status(self, name: str) -> NamespaceStatus:
        if not self._watcher.synced:
            self.live_reads += 1
            return await self._inner.namespace_status(name)
        ns = self._cache.get(ObjectRef("v1", "Namespace", name))
        return namespace_status_of(ns) if ns is not None else NamespaceStatus(NamespacePhase.ABSENT)

    async def list_owned(self, store_id: str, namespace: str) -> list[LiveObject]:
        if not self._watcher.synced:
            self.live_reads += 1
            return await self._inner.list_owned(store_id, namespace)
        return [live_object(m) for m in self._cache.owned(store_id, namespace)]

    def live_versions(self, store_id: str, namespace: str) -> str | None:
        """A digest of the store's objects as the cache holds them: the namespace's and each
        labelled object's kind, name, resourceVersion and uid. Any write to any of them (an edit
        by hand, a status change, a deletion, a new labelled object) changes it. None until
        the watcher is synced, or when a resourceVersion is opaque: then nothing may be taken
        as unchanged. The reconciler's unchanged-store pass keys on it
        (reconciler/converged.py); it costs no request and decodes no object."""
        if not self._watcher.synced:
            return None
        versions = self._cache.versions(store_id, namespace)
        if versions is None:
            return None
        return hashlib.blake2b(repr(versions).encode(), digest_size=16).hexdigest()

    async def apply(self, manifest: Manifest) -> Manifest:
        stored = await self._inner.apply(manifest)
        self._cache.upsert(stored)
        return stored

    async def _refresh(self, ref: ObjectRef) -> None:
        current = await self._inner.get(ref)
        if current is None:
            self._cache.remove_ref(ref)
        else:
            self._cache.upsert(current)

    async def create_if_absent(self, manifest: Manifest) -> bool:
        created = await self._inner.create(manifest)
        if created is not None:
            self._cache.upsert(created)
        elif self._cache.get(ObjectRef.of(manifest)) is None:
            await self._refresh(ObjectRef.of(manifest))
        return created is not None

    async def delete(self, ref: ObjectRef) -> None:
        await self._inner.delete(ref)
        # A namespace (or an object with finalizers) lingers while it terminates: keep what the
        # server says rather than assume it is gone.
        await self._refresh(ref)

    async def list_labelled(
        self, api_version: str, kind: str, namespace: str, labels: dict[str, str]
    ) -> list[Manifest]:
        return await self._inner.list_labelled(api_version, kind, namespace, labels)

    async def find_residue(self, store_id: str) -> list[ObjectRef]:
        return await self._inner.find_residue(store_id)

    async def get(self, ref: ObjectRef) -> Manifest | None:
        # Settling an interrupted step must see the server's truth, not the cache's.
        return await self._inner.get(ref)

    async def pod_log(self, namespace: str, pod: str, container: str, *, tail: int | None) -> str:
        """A container's output, from the API server (logs are never cached). The reconciler
        reads a failed migration container's last lines with it."""
        return await self._inner.pod_log(namespace, pod, container, tail=tail)

    async def node_residue(self, namespace: str) -> NodeResidue | None:
        return await self._inner.node_residue(namespace)  # proof: always asked live

    async def read_secret(self, namespace: str, name: str) -> dict[str, str] | None:
        return await self._inner.read_secret(namespace, name)  # always live: never cached

    async def service_get(
        self, namespace: str, service: str, port: int, path: str
    ) -> ServiceAnswer:
        return await self._inner.service_get(namespace, service, port, path)

    async def record_event(self, namespace: str, type_: str, reason: str, message: str) -> None:
        await self._inner.record_event(namespace, type_, reason, message)
