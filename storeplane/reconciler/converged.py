"""What a pass may skip for a store whose intent and objects did not change since it last
found them converged: the render and the object-by-object comparison.

``reconcile_store`` (reconciler/reconcile.py) uses it. A pass that found every object of a
store applied, in sync and ready records two digests for it:

- the store's **desired key** (``desired.desired_key``): what its chart renders from (the
  chart's content digest, release, namespace, values) and every object storeplane adds itself,
  computed afresh each pass from the spec, plan, engine version, restore state and the
  platform settings that feed them;
- its **live versions** (the cluster adapter's ``live_versions``): the namespace's and each
  labelled object's resourceVersion in the watch-fed cache.

A later pass that computes the same two digests would compare the same desired objects with
the same live ones, so it would find the same: nothing to apply, nothing to prune, everything
ready. It goes straight to the engine's health check (``observe.observe_engine``).

Level-triggered still: both digests are recomputed on every pass, never assumed from a timer.
An object edited, deleted or added by hand changes its resourceVersion (or the set) and the
pass compares in full and heals it; so does any change of intent. Nothing is skipped for a
store that is being deleted, restored, upgraded or suspended (those passes look at more than
the objects), nor when the adapter has no watch-fed cache, or it is not synced (``None``).
The memo is per process and in memory: a restarted process compares every store once.
"""

from __future__ import annotations

from storeplane.domain.ports import ClusterPort
from storeplane.domain.store import Store


class ConvergedMemo:
    """Per store: the (desired key, live versions) of its last converged observation.

    ``hits`` and ``misses`` count the passes of eligible stores that could and could not skip
    (tests read them; a miss is also every store's first pass in a process)."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[str, str]] = {}
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._seen)

    def unchanged(self, store_id: str, key: tuple[str, str] | None) -> bool:
        """True if ``key`` is the one recorded for the store's last converged observation."""
        if key is not None and self._seen.get(store_id) == key:
            self.hits += 1
            return True
        self.misses += 1
        return False

    def record(self, store_id: str, key: tuple[str, str]) -> None:
        self._seen[store_id] = key

    def forget(self, store_id: str) -> None:
        self._seen.pop(store_id, None)


def may_skip(store: Store) -> bool:
    """Whether a pass of ``store`` may take its objects as unchanged at all: not while it is
    deleted, restored, upgraded, suspended or resuming (those look at more than the objects)."""
    return not (
        store.is_deleting
        or store.restoring
        or store.upgrading_from is not None
        or store.spec.suspended
        or store.suspended_at is not None
    )


def live_versions(cluster: ClusterPort, store: Store) -> str | None:
    """The adapter's digest of the store's live objects, or None if it has none to give."""
    versions = getattr(cluster, "live_versions", None)
    if versions is None:
        return None
    result: str | None = versions(store.id, store.namespace)
    return result
