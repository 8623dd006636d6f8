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

The memo outlives the process: each recording is also kept with the store's status
(``Store.converged_key``, a digest of the two digests and of the **code identity**: the
control plane's own modules and the helm binary it renders with). A restarted control plane
whose first lists show a store's objects at the same resourceVersions (and uids: a cluster
rebuilt from scratch has new ones) skips that store's render too; any object changed, added
or deleted while it was down changes the live versions, so that store compares in full and
is healed. A new release or helm binary changes the code identity: every store compares in
full once, as a release may decide differently on the same objects.
"""

from __future__ import annotations

import functools
import hashlib
import os
import secrets
from pathlib import Path

from storeplane.domain.ports import ClusterPort
from storeplane.domain.store import Store
from storeplane.render.helm import HelmNotFoundError, find_helm

MemoKey = tuple[str, str]  # (desired key, live versions)
_PACKAGE = Path(__file__).resolve().parents[1]


@functools.cache
def code_identity() -> str:
    """A digest of what decides a pass besides its inputs: every module of the storeplane
    package but the simulator's (what it imports nothing from), and the helm binary (its
    path, size and modification time). Computed once per process (~10 ms). Installed
    without its sources (no module found), it is unique to the process: then nothing a
    process recorded is trusted by another."""
    digest = hashlib.blake2b(digest_size=16)
    modules = 0
    for path in sorted(_PACKAGE.rglob("*.py")):
        relative = path.relative_to(_PACKAGE).as_posix()
        if relative.startswith("sim/"):
            continue
        content = path.read_bytes()
        digest.update(f"{len(relative)}:{len(content)}:{relative}".encode())
        digest.update(content)
        modules += 1
    if modules == 0:
        digest.update(secrets.token_bytes(16))
    try:
        helm = os.stat(find_helm())
        digest.update(f"helm:{helm.st_size}:{helm.st_mtime_ns}".encode())
    except (HelmNotFoundError, OSError):
        digest.update(b"helm:none")
    return digest.hexdigest()


def persisted_key(key: MemoKey) -> str:
    """What ``Store.converged_key`` keeps for a memo key: one digest of the code identity and
    both of the key's digests (40 hex characters)."""
    desired, versions = key
    text = f"{code_identity()}\0{desired}\0{versions}"
    return hashlib.blake2b(text.encode(), digest_size=20).hexdigest()


class ConvergedMemo:
    """Per store: the (desired key, live versions) of its last converged observation.

    ``hits`` and ``misses`` count the passes of eligible stores that could and could not skip
    (tests read them; a miss is also every store's first pass in a process)."""

    def __init__(self) -> None:
        self._seen: dict[str, MemoKey] = {}
        self.hits = 0
        self.misses = 0
        self.persisted_hits = 0  # of the hits, those only the store's converged_key knew

    def __len__(self) -> int:
        return len(self._seen)

    def unchanged(self, store_id: str, key: MemoKey | None, persisted: str | None = None) -> bool:
        """True if ``key`` is the one recorded for the store's last converged observation, in
        this process or (``persisted``, the store's ``converged_key``) by any process running
        the same code."""
        if key is not None and self._seen.get(store_id) == key:
            self.hits += 1
            return True
        if key is not None and persisted is not None and persisted == persisted_key(key):
            self._seen[store_id] = key
            self.hits += 1
            self.persisted_hits += 1
            return True
        self.misses += 1
        return False

    def record(self, store_id: str, key: MemoKey) -> None:
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
