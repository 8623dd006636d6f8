"""An in-memory copy of every object that carries a store label, fed by watches.

The reconciler reads a store's objects from here instead of listing them from the API server
on every pass: a Ready store with nothing to change costs the cluster no reads at all. Writes
storeplane makes are put in the cache as the server returned them, so a pass sees its own
writes at once; watch events that are older than what the cache holds are ignored.

Entries are kept compactly, because there are a few dozen per store and thousands of stores:
each object is held as its compact JSON text *without* ``metadata.managedFields`` (half of an
object's size, and no reader of the cache needs it: the settling of interrupted steps reads
managedFields from the API server, never from here), beside its resourceVersion and store id.
That is ~57 KB per store instead of ~470 KB as Python dicts. Every read decodes a fresh copy
(~0.2 ms for a store's objects), so a caller may change what it gets without touching the cache.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any, NamedTuple

from storeplane.domain.ports import Manifest, ObjectRef

STORE_ID_LABEL = "storeplane.dev/store-id"
Key = tuple[str, str, str | None, str]  # apiVersion, kind, namespace, name


class _Entry(NamedTuple):
    version: int | None  # resourceVersion as a number, None when the server's is opaque
    store: str  # the store id its label names
    text: str  # compact JSON of the object without managedFields (ASCII: one byte a character)
    uid: str  # metadata.uid: an object deleted and made again, or a rebuilt cluster, differs


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


def _not_newer(new: int | None, held: int | None) -> bool:
    return new is not None and held is not None and new <= held


def store_of(manifest: Manifest) -> str | None:
    labels: dict[str, Any] = manifest.get("metadata", {}).get("labels") or {}
    value = labels.get(STORE_ID_LABEL)
    return str(value) if value else None


def compact(manifest: Manifest) -> str:
    """``manifest`` as the cache keeps it: compact JSON, ``metadata.managedFields`` left out."""
    meta = manifest.get("metadata") or {}
    if "managedFields" in meta:
        manifest = {
            **manifest,
            "metadata": {k: v for k, v in meta.items() if k != "managedFields"},
        }
    return json.dumps(manifest, separators=(",", ":"))


def _load(entry: _Entry) -> Manifest:
    manifest: Manifest = json.loads(entry.text)
    return manifest


class ObjectCache:
    def __init__(self) -> None:
        self._objects: dict[Key, _Entry] = {}
        self._by_store: dict[str, set[Key]] = defaultdict(set)

    def __len__(self) -> int:
        return len(self._objects)

    def size_bytes(self) -> int:
        """The JSON text held, in bytes (for benchmarks: the bulk of the cache's memory)."""
        return sum(len(entry.text) for entry in self._objects.values())

    def upsert(self, manifest: Manifest) -> str | None:
        """Store ``manifest`` unless the cache already holds it or a newer version; returns the
        store id it belongs to when something changed (also when it stopped belonging: its label
        was removed), else None."""
        key = _key(manifest)
        old = self._objects.get(key)
        new_rv = _rv(manifest)
        # Older than what we hold, or the very version we hold (a re-list after a watch
        # expired sees every object again): nothing changed, nobody needs waking.
        if old is not None and _not_newer(new_rv, old.version):
            return None
        store = store_of(manifest)
        previous = old.store if old is not None else None
        if previous and previous != store:
            self._discard(previous, key)
        if store is None:
            self._objects.pop(key, None)
            return previous
        uid = str(manifest["metadata"].get("uid") or "")
        self._objects[key] = _Entry(new_rv, store, compact(manifest), uid)
        self._by_store[store].add(key)
        return store

    def _discard(self, store: str, key: Key) -> None:
        keys = self._by_store.get(store)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._by_store[store]

    def _remove_key(self, key: Key) -> str | None:
        old = self._objects.pop(key, None)
        if old is None:
            return None
        self._discard(old.store, key)
        return old.store

    def remove(self, manifest: Manifest) -> str | None:
        """Forget the object; returns the store it belonged to (the one held, else its label)."""
        key = _key(manifest)
        return self._remove_key(key) or store_of(manifest)

    def remove_ref(self, ref: ObjectRef) -> None:
        self._remove_key(_ref_key(ref))

    def replace_kind(self, api_version: str, kind: str, manifests: list[Manifest]) -> set[str]:
        """After a full re-list: make the cache hold exactly ``manifests`` for that kind.
        Returns the stores whose objects changed."""
        touched = {store for m in manifests if (store := self.upsert(m))}
        return touched | self.retain_kind(api_version, kind, {_key(m) for m in manifests})

    def retain_kind(self, api_version: str, kind: str, listed: set[Key]) -> set[str]:
        """The end of a full re-list whose pages were each ``upsert``: forget the kind's
        objects the list did not return (deleted meanwhile). Returns their stores."""
        stale = [
            k for k in self._objects if k[0] == api_version and k[1] == kind and k not in listed
        ]
        return {store for k in stale if (store := self._remove_key(k))}

    @staticmethod
    def key_of(manifest: Manifest) -> Key:
        """Where ``manifest`` is kept (apiVersion, kind, namespace, name)."""
        return _key(manifest)

    def get(self, ref: ObjectRef) -> Manifest | None:
        """A fresh copy of the object (without managedFields), or None."""
        entry = self._objects.get(_ref_key(ref))
        return _load(entry) if entry is not None else None

    def owned(self, store_id: str, namespace: str) -> list[Manifest]:
        """Fresh copies of the store's objects in ``namespace`` (not the Namespace itself)."""
        return [
            _load(self._objects[k])
            for k in self._by_store.get(store_id, ())
            if k[2] == namespace and k[1] != "Namespace"
        ]

    def versions(self, store_id: str, namespace: str) -> tuple[tuple[Key, int, str], ...] | None:
        """Each of the store's objects in ``namespace`` and of the Namespace itself with its
        resourceVersion and uid, in a stable order, without decoding any (what changes when
        any of them is written, removed or added, also in a cluster rebuilt from scratch whose
        versions happen to match). None if one's version is opaque."""
        keys = [
            k
            for k in self._by_store.get(store_id, ())
            if (k[2] == namespace and k[1] != "Namespace")
            or (k[1] == "Namespace" and k[3] == namespace)
        ]
        found = []
        for k in sorted(keys, key=lambda k: (k[0], k[1], k[2] or "", k[3])):
            entry = self._objects[k]
            if entry.version is None:
                return None
            found.append((k, entry.version, entry.uid))
        return tuple(found)
