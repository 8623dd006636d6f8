"""An in-memory copy of every object that carries a store label, fed by watches.

The reconciler reads a store's objects from here instead of listing them from the API server
on every pass: a Ready store with nothing to change costs the cluster no reads at all. Writes
storeplane makes are put in the cache as the server returned them, so a pass sees its own
writes at once; watch events that are older than what the cache holds are ignored.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from storeplane.domain.ports import Manifest, ObjectRef

STORE_ID_LABEL = "storeplane.dev/store-id"
Key = tuple[str, str, str | None, str]  # apiVersion, kind, namespace, name


def _key(manifest: Manifest) -> Key:
    meta = manifest["metadata"]
    return (manifest["apiVersion"], manifest["kind"], meta.get("namespace"), meta["name"])


def _ref_key(ref: ObjectRef) -> Key:
    return (ref.api_version, ref.kind, ref.namespace, ref.name)


def _rv(manifest: Manifest) -> int | None:
    try:
        return int(manifest["metadata"].get("resourceVersion", ""))
    except (TypeError, ValueError):
        return None  # opaque on some servers: then the newest write simply wins


def store_of(manifest: Manifest) -> str | None:
    labels: dict[str, Any] = manifest.get("metadata", {}).get("labels") or {}
    value = labels.get(STORE_ID_LABEL)
    return str(value) if value else None


class ObjectCache:
    def __init__(self) -> None:
        self._objects: dict[Key, Manifest] = {}
        self._by_store: dict[str, set[Key]] = defaultdict(set)

    def __len__(self) -> int:
        return len(self._objects)

    def upsert(self, manifest: Manifest) -> str | None:
        """Store ``manifest`` unless the cache already holds it or a newer version; returns the
        store id it belongs to when something changed (also when it stopped belonging: its label
        was removed), else None."""
        key = _key(manifest)
        old = self._objects.get(key)
        if old is not None:
            new_rv, old_rv = _rv(manifest), _rv(old)
            # Older than what we hold, or the very version we hold (a re-list after a watch
            # expired sees every object again): nothing changed, nobody needs waking.
            if new_rv is not None and old_rv is not None and new_rv <= old_rv:
                return None
        store = store_of(manifest)
        previous = store_of(old) if old is not None else None
        if previous and previous != store:
            self._by_store[previous].discard(key)
        if store is None:
            self._objects.pop(key, None)
            return previous
        self._objects[key] = manifest
        self._by_store[store].add(key)
        return store

    def remove(self, manifest: Manifest) -> str | None:
        key = _key(manifest)
        old = self._objects.pop(key, None)
        store = store_of(old) if old is not None else store_of(manifest)
        if store:
            self._by_store[store].discard(key)
            if not self._by_store[store]:
                del self._by_store[store]
        return store

    def remove_ref(self, ref: ObjectRef) -> None:
        old = self._objects.get(_ref_key(ref))
        if old is not None:
            self.remove(old)

    def replace_kind(self, api_version: str, kind: str, manifests: list[Manifest]) -> set[str]:
        """After a full re-list: make the cache hold exactly ``manifests`` for that kind.
        Returns the stores whose objects changed."""
        touched: set[str] = set()
        fresh = {_key(m) for m in manifests}
        stale = [
            k for k in self._objects if k[0] == api_version and k[1] == kind and k not in fresh
        ]
        for k in stale:
            store = self.remove(self._objects[k])
            if store:
                touched.add(store)
        for manifest in manifests:
            store = self.upsert(manifest)
            if store:
                touched.add(store)
        return touched

    def get(self, ref: ObjectRef) -> Manifest | None:
        return self._objects.get(_ref_key(ref))

    def owned(self, store_id: str, namespace: str) -> list[Manifest]:
        return [
            self._objects[k]
            for k in self._by_store.get(store_id, ())
            if k[2] == namespace and k[1] != "Namespace"
        ]
