"""The backup target's objects and the Jobs that dump and load a store's database (pure).

How a dump reaches the target (the folder target; docs/backups.md):

* The target is a folder on the node's file system (``storeplane dev``: ``<data dir>/backups``).
  Each store gets a PersistentVolume ``storeplane-backups-<store id>`` of type ``hostPath``
  pointing at ``<folder>/<store id>`` (reclaim policy Retain) and, in its namespace, the
  claim ``storeplane-backups`` bound to it by name. The simulator's node maps such a claim to
  the PV's host folder, as a kubelet mounts a hostPath PV; on a real single-node cluster
  (kind with an extraMount, k3s) the same objects work; a multi-node cluster needs shared
  storage behind the PV or the S3 target.
* The backup Job mounts the claim at ``/backups`` and runs the engine's dump tool into
  ``<id>.partial``, renamed to ``<id>.dump`` when it succeeded. The restore Job mounts it too
  and loads ``<id>.dump`` in one transaction. The control plane reads the file's size (and
  deletes expired dumps) in the same folder.

Neither Job needs a new NetworkPolicy: they talk only to the database in their own namespace,
which ``allow-same-namespace`` already opens, and write to a volume, not the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storeplane.domain.backups import Backup, RestoreOp
from storeplane.domain.store import Store
from storeplane.engines.backups import MOUNT, BackupRecipe, recipe_for
from storeplane.reconciler.manifests import SERVICE_ACCOUNT, store_labels

CLAIM = "storeplane-backups"
BACKUP_ID_LABEL = "storeplane.dev/backup-id"
BACKUP_OF_LABEL = "storeplane.dev/backup-of"
# Nominal: a hostPath volume has no capacity; the claim's request counts against the quota.
CLAIM_SIZE = "1Gi"
JOB_DEADLINE_SECONDS = 1800

Manifest = dict[str, Any]


@dataclass(frozen=True, slots=True)
class BackupTargetConfig:
    """Where dumps go. ``folder`` None: no backup target, backups are refused."""

    folder: Path | None = None

    @property
    def enabled(self) -> bool:
        return self.folder is not None

    @property
    def kind(self) -> str:
        return "folder"

    def store_folder(self, store_id: str) -> Path:
        assert self.folder is not None
        return self.folder / store_id

    def dump_path(self, location: str) -> Path:
        """The host path of a dump's ``location`` (``<store id>/<backup id>.dump``)."""
        assert self.folder is not None
        return self.folder / location


def volume_name(store: Store) -> str:
    return f"{CLAIM}-{store.id}"


def persistent_volume(store: Store, target: BackupTargetConfig) -> Manifest:
    """The store's slice of the folder target, as a PersistentVolume (cluster-scoped; it
    carries the store's label, and teardown deletes it: the files stay, Retain)."""
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": volume_name(store), "labels": store_labels(store)},
        "spec": {
            "capacity": {"storage": CLAIM_SIZE},
            "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": "",
            "hostPath": {"path": str(target.store_folder(store.id)), "type": "DirectoryOrCreate"},
            "claimRef": {"namespace": store.namespace, "name": CLAIM},
        },
    }


def backup_claim(store: Store) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": CLAIM, "namespace": store.namespace, "labels": store_labels(store)},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": "",
            "volumeName": volume_name(store),
            "resources": {"requests": {"storage": CLAIM_SIZE}},
        },
    }


def _pod_spec(
    recipe: BackupRecipe, container: str, script: str, labels: dict[str, str]
) -> Manifest:
    return {
        "metadata": {"labels": labels},
        "spec": {
            "serviceAccountName": SERVICE_ACCOUNT,
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "restartPolicy": "Never",
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": recipe.uid,
                "runAsGroup": recipe.uid,
                "fsGroup": recipe.uid,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [
                {
                    "name": container,
                    "image": recipe.image,
                    "imagePullPolicy": "IfNotPresent",
                    "command": ["sh", "-c", script],
                    "env": [dict(e) for e in recipe.env],
                    "resources": {
                        "requests": {"cpu": "50m", "memory": "64Mi"},
                        "limits": {"cpu": "500m", "memory": "256Mi"},
                    },
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "runAsNonRoot": True,
                        "capabilities": {"drop": ["ALL"]},
                        "seccompProfile": {"type": "RuntimeDefault"},
                        "readOnlyRootFilesystem": True,
                    },
                    "volumeMounts": [
                        {"name": "backups", "mountPath": MOUNT},
                        {"name": "tmp", "mountPath": "/tmp"},
                    ],
                }
            ],
            "volumes": [
                {"name": "backups", "persistentVolumeClaim": {"claimName": CLAIM}},
                {"name": "tmp", "emptyDir": {}},
            ],
        },
    }


def backup_job(store: Store, backup: Backup) -> Manifest:
    """The Job that dumps the store's database into the target. Not labelled with the store
    id (the reconciler would prune it as "not rendered"); the namespace's deletion takes it."""
    recipe = recipe_for(store.spec.engine)
    labels = {
        BACKUP_ID_LABEL: backup.id,
        BACKUP_OF_LABEL: store.id,
        "app.kubernetes.io/managed-by": "storeplane",
        "app.kubernetes.io/component": "backup",
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": backup.job_name, "namespace": store.namespace, "labels": labels},
        "spec": {
            # One try: a second dump after a failure could only fail the same way, and the
            # outcome must be the first attempt's cause.
            "backoffLimit": 0,
            "activeDeadlineSeconds": JOB_DEADLINE_SECONDS,
            "template": _pod_spec(recipe, "dump", recipe.dump_script(backup.id), labels),
        },
    }


def restore_job(store: Store, op: RestoreOp) -> Manifest:
    """The Job that loads the dump; part of the store's desired workloads while the restore
    is at ``RestoringDatabase`` (so the reconciler applies it, waits for it, then prunes it)."""
    recipe = recipe_for(store.spec.engine)
    labels = {
        BACKUP_ID_LABEL: op.backup_id,
        "app.kubernetes.io/managed-by": "storeplane",
        "app.kubernetes.io/component": "restore",
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": op.job_name, "namespace": store.namespace, "labels": labels},
        "spec": {
            "backoffLimit": 1,
            "activeDeadlineSeconds": JOB_DEADLINE_SECONDS,
            "template": _pod_spec(recipe, "restore", recipe.load_script(op.backup_id), labels),
        },
    }
