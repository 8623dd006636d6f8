"""The CRD controller: a CustomResourceDefinition's status, and its deletion.

Run by :class:`storeplane.sim.controllers.manager.ControllerManager` as a sync controller,
doing what the apiextensions-apiserver's naming, establishing and finalizing controllers
do. The cluster serves a CRD's kinds as soon as it is stored
(:meth:`storeplane.sim.store.cluster.Cluster._serve_crd`); this controller reports it:

- ``status.acceptedNames`` and ``storedVersions``; the conditions ``NamesAccepted``
  (``NoConflicts``, or False naming the kind or plural another resource already serves)
  and ``Established`` (``InitialNamesAccepted``, or False ``NotAccepted``);
- a deleted CRD (marked with ``customresourcecleanup.apiextensions.k8s.io``) gets the
  condition ``Terminating`` while its custom resources are deleted (those with finalizers
  are only marked, and waited for: their controllers can still update them), then the
  finalizer is removed and the CRD, and with it the served kinds, goes.
"""

from __future__ import annotations

import copy

from ..kinds import CRDS, Kind
from ..store.cluster import Cluster, Obj
from ..store.customresources import CLEANUP_FINALIZER, name_conflict, names_of
from ..store.objects import ObjectKey

MANAGER = "apiextensions-apiserver"
RECHECK = 0.2


def _condition(ctype: str, status: bool, reason: str, message: str, now: str) -> Obj:
    return {
        "type": ctype,
        "status": "True" if status else "False",
        "lastTransitionTime": now,
        "reason": reason,
        "message": message,
    }


def _same(a: list[Obj], b: list[Obj]) -> bool:
    def strip(conditions: list[Obj]) -> list[Obj]:
        return [{k: v for k, v in c.items() if k != "lastTransitionTime"} for c in conditions]

    return strip(a) == strip(b)


class CrdController:
    name = "customresourcedefinition"
    resources = (CRDS.qualified,)

    def keys_for(self, cluster: Cluster, kind: Kind, obj: Obj) -> list[ObjectKey]:
        return [cluster.key(CRDS, None, obj["metadata"]["name"])]

    def sync(self, cluster: Cluster, key: ObjectKey) -> float | None:
        crd = cluster.store.peek(key)
        if crd is None:
            return None
        now = cluster.now()
        conflict = name_conflict(crd, cluster.kinds)
        accepted = conflict is None
        conditions = [
            _condition("NamesAccepted", accepted, "NoConflicts" if accepted else "NameConflict",
                       "no conflicts found" if accepted else str(conflict), now),
            _condition("Established", accepted,
                       "InitialNamesAccepted" if accepted else "NotAccepted",
                       "the initial names have been accepted" if accepted
                       else "not all names are accepted", now),
        ]  # fmt: skip
        again = None
        if crd["metadata"].get("deletionTimestamp"):
            remaining = self._delete_instances(cluster, crd)
            if remaining:
                conditions.append(_condition(
                    "Terminating", True, "InstanceDeletionInProgress",
                    f"CustomResource deletion is in progress: {remaining} remaining", now,
                ))  # fmt: skip
                again = RECHECK
        self._write_status(cluster, key, crd, conditions)
        if crd["metadata"].get("deletionTimestamp") and again is None:
            self._finish(cluster, key)
        return again

    def _write_status(
        self, cluster: Cluster, key: ObjectKey, crd: Obj, conditions: list[Obj]
    ) -> None:
        status = crd.get("status") or {}
        old = status.get("conditions") or []
        # Keep the transition time of a condition that did not change.
        for condition in conditions:
            previous = next((c for c in old if c.get("type") == condition["type"]), None)
            if previous and previous.get("status") == condition["status"]:
                condition["lastTransitionTime"] = previous.get("lastTransitionTime")
        versions = (crd.get("spec") or {}).get("versions") or []
        storage = [str(v.get("name")) for v in versions if isinstance(v, dict) and v.get("storage")]
        stored = list(status.get("storedVersions") or [])
        stored += [v for v in storage if v not in stored]
        accepted = {k: v for k, v in names_of(crd).items() if k != "categories" or v}
        new = {"conditions": conditions, "acceptedNames": accepted, "storedVersions": stored}
        if _same(old, conditions) and {k: v for k, v in status.items() if k != "conditions"} == {
            k: v for k, v in new.items() if k != "conditions"
        }:
            return
        cluster.write_status(CRDS, key, new, MANAGER)

    def _delete_instances(self, cluster: Cluster, crd: Obj) -> int:
        """Delete every object of the CRD's kinds; how many are left (finalizers pending)."""
        kinds = cluster.kinds.crd_kinds(crd["metadata"]["name"])
        if not kinds:
            return 0
        kind = kinds[0]
        left = 0
        for obj in cluster.store.list_objects(kind.qualified):
            meta = obj["metadata"]
            if not meta.get("deletionTimestamp"):
                cluster.delete(kind, meta.get("namespace"), meta["name"])
            if cluster.store.exists(cluster.key(kind, meta.get("namespace"), meta["name"])):
                left += 1
        return left

    def _finish(self, cluster: Cluster, key: ObjectKey) -> None:
        crd = cluster.store.peek(key)
        if crd is None:
            return
        finalizers = crd["metadata"].get("finalizers") or []
        if CLEANUP_FINALIZER not in finalizers:
            return
        new = copy.deepcopy(crd)
        new["metadata"]["finalizers"] = [f for f in finalizers if f != CLEANUP_FINALIZER]
        cluster.replace(CRDS, None, key.name, new, MANAGER)
