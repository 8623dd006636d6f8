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

Uploaded files (Medusa's ``medusa-uploads`` claim, the recipe's ``uploads_claim``): both Jobs
mount the claim at ``/uploads``; the backup archives it next to the dump (folder:
``<id>.uploads.tar.gz`` written as ``<id>.uploads.partial`` and renamed, before the dump is;
S3: a second object), the restore replaces the claim's files with the archive's once the
database is loaded. The claim is ReadWriteOnce: the Jobs' pods carry the label and the
required pod affinity the chart's server and worker have, so on a cluster they run on the
node that already mounts it (docs/backups.md).

Neither Job needs a new NetworkPolicy: they talk only to the database in their own namespace,
which ``allow-same-namespace`` already opens, and write to a volume, not the network.

The S3 target (production):

* The operator keeps one Secret (``backup_s3_secret`` in ``backup_s3_secret_namespace``, keys
  ``access-key-id`` and ``secret-access-key``). A pod can only reference Secrets of its own
  namespace, so storeplane copies it, as one of the store's platform objects, into each store's
  namespace as ``storeplane-backup-s3`` (re-read every minute: a rotated key reaches every
  store at its next pass). The Jobs get the keys by ``secretKeyRef`` only; the control plane
  reads the same Secret for its own requests (the dump's size, deleting expired dumps).
* The Jobs run ``<backup_s3_image_repository>:<pg16|mariadb11>`` (images/backup-s3: the
  engine's database image plus python3) with ``storeplane/backup_s3.py`` mounted from the
  ConfigMap ``storeplane-backup-s3-tool``: the backup streams the dump tool's output to
  ``<prefix><store id>/<backup id>.dump`` as a multipart upload completed only when the tool
  succeeded; the restore downloads it to its ``/tmp`` and loads it in one transaction. A clone
  reads the source store's object directly (nothing is copied).
* The NetworkPolicy ``allow-backup-s3-egress`` selects only pods labelled
  ``storeplane.dev/backup-egress: s3`` (the backup and restore Jobs' pods; no chart workload
  carries it) and opens egress to the endpoint's port at its addresses, nothing else.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import logging
import shlex
import time
import urllib.parse
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from storeplane import backup_s3
from storeplane.backup_s3 import S3Client
from storeplane.domain.backups import Backup, RestoreOp, uploads_location
from storeplane.domain.ports import ClusterPort, ObjectRef
from storeplane.domain.store import Store
from storeplane.engines.backups import (
    MOUNT,
    UPLOADS_MOUNT,
    BackupRecipe,
    engine_version,
    recipe_for,
)
from storeplane.reconciler.manifests import SERVICE_ACCOUNT, store_labels

log = logging.getLogger(__name__)

CLAIM = "storeplane-backups"
BACKUP_ID_LABEL = "storeplane.dev/backup-id"
BACKUP_OF_LABEL = "storeplane.dev/backup-of"
# Nominal: a hostPath volume has no capacity; the claim's request counts against the quota.
CLAIM_SIZE = "1Gi"
JOB_DEADLINE_SECONDS = 1800

# The S3 target's objects in each store's namespace, and the label of the pods it opens for.
S3_SECRET = "storeplane-backup-s3"
S3_TOOL = "storeplane-backup-s3-tool"
S3_EGRESS_POLICY = "allow-backup-s3-egress"
EGRESS_LABEL = "storeplane.dev/backup-egress"
SECRET_KEYS = ("access-key-id", "secret-access-key")
TOOL_MOUNT = "/opt/storeplane"
RESTORE_FILE = "/tmp/restore.dump"
RESTORE_UPLOADS_FILE = "/tmp/restore.uploads.tar.gz"
# The label the medusa-store chart gives every pod that mounts its uploads claim, which its
# pod affinity selects (charts/medusa-store/templates/_helpers.tpl "uploadsAffinity").
UPLOADS_LABEL = "storeplane.dev/uploads"
CREDENTIALS_TTL_SECONDS = 60.0

Manifest = dict[str, Any]


class S3CredentialsMissing(Exception):
    """The operator's Secret is missing or lacks a key (the message says which, no values)."""


@dataclass
class _Cached:
    data: dict[str, str] | None = None  # the Secret's base64 values as stored
    error: str = ""  # why it could not be read (also kept for the TTL: one read a minute)
    read_at: float = float("-inf")
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass(frozen=True)
class S3Target:
    """The S3 target's settings; the credentials are read from the operator's Secret."""

    bucket: str
    prefix: str = "storeplane/"
    endpoint_url: str = ""
    region: str = "us-east-1"
    secret: str = "storeplane-backup-s3"
    secret_namespace: str = "storeplane"
    image_repository: str = "ghcr.io/storeplane/backup-s3"
    egress_cidrs: tuple[str, ...] = ()
    _cache: _Cached = field(default_factory=_Cached, compare=False, repr=False)

    def key(self, location: str) -> str:
        return f"{self.prefix}{location}"

    @property
    def where(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def egress(self) -> tuple[tuple[str, ...], int]:
        """(CIDRs, port) the Jobs may reach: the endpoint's port, at its address when the URL
        names one, else anywhere (a NetworkPolicy cannot name a host; narrow it with
        backup_s3_egress_cidrs)."""
        url = urllib.parse.urlsplit(self.endpoint_url or "https://s3.amazonaws.com")
        port = url.port or (443 if url.scheme == "https" else 80)
        if self.egress_cidrs:
            return self.egress_cidrs, port
        try:
            address = ipaddress.ip_address(url.hostname or "")
        except ValueError:
            return ("0.0.0.0/0",), port
        return (f"{address}/{address.max_prefixlen}",), port

    async def _secret_data(self, cluster: ClusterPort) -> dict[str, str]:
        cache = self._cache
        async with cache.lock:
            if time.monotonic() - cache.read_at > CREDENTIALS_TTL_SECONDS:
                ref = ObjectRef("v1", "Secret", self.secret, self.secret_namespace)
                live = await cluster.get(ref)
                data = dict((live or {}).get("data") or {})
                missing = [k for k in SECRET_KEYS if not data.get(k)]
                cache.read_at = time.monotonic()
                if live is None or missing:
                    what = "does not exist" if live is None else f"lacks {', '.join(missing)}"
                    cache.data, cache.error = (
                        None,
                        (
                            f"the S3 backup target's Secret {self.secret_namespace}/{self.secret} "
                            f"{what}: create it with kubectl create secret generic {self.secret} "
                            f"-n {self.secret_namespace} --from-literal=access-key-id=... "
                            "--from-literal=secret-access-key=..."
                        ),
                    )
                    log.warning("%s", cache.error)  # once per read, not once per store
                else:
                    cache.data, cache.error = {k: str(data[k]) for k in SECRET_KEYS}, ""
            if cache.data is None:
                raise S3CredentialsMissing(cache.error)
            return dict(cache.data)

    async def client(self, cluster: ClusterPort) -> S3Client:
        """A client of the bucket with the Secret's keys (raises S3CredentialsMissing)."""
        data = await self._secret_data(cluster)
        return S3Client(
            bucket=self.bucket,
            region=self.region,
            endpoint_url=self.endpoint_url or None,
            access_key_id=base64.b64decode(data["access-key-id"]).decode(),
            secret_access_key=base64.b64decode(data["secret-access-key"]).decode(),
        )

    async def namespace_objects(self, store: Store, cluster: ClusterPort) -> list[Manifest]:
        """The Secret copy (when the operator's Secret is readable), the tool's ConfigMap and
        the egress policy, for the store's namespace."""
        objects = [tool_config_map(store), egress_policy(store, self)]
        try:
            data = await self._secret_data(cluster)
        except S3CredentialsMissing:
            # The store itself works without it; its backups fail saying why.
            return objects
        secret = {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": {"name": S3_SECRET, "namespace": store.namespace,
                         "labels": store_labels(store)},
            "data": data,
        }  # fmt: skip
        return [secret, *objects]


@dataclass(frozen=True)
class BackupTargetConfig:
    """Where dumps go: a ``folder`` or an ``s3`` bucket. Neither: backups are refused."""

    folder: Path | None = None
    s3: S3Target | None = None

    @property
    def enabled(self) -> bool:
        return self.folder is not None or self.s3 is not None

    @property
    def kind(self) -> str:
        return "s3" if self.s3 is not None else "folder"

    @property
    def uses_folder(self) -> bool:
        return self.s3 is None and self.folder is not None

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


def tool_config_map(store: Store) -> Manifest:
    """``storeplane/backup_s3.py`` itself, which the S3 target's Jobs run (so the uploader is
    always this control plane's version; the image only brings the tools and python3)."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": S3_TOOL, "namespace": store.namespace, "labels": store_labels(store)},
        "data": {"s3.py": _tool_source()},
    }


def _tool_source() -> str:
    return Path(backup_s3.__file__).read_text()


def egress_policy(store: Store, target: S3Target) -> Manifest:
    """Egress to the S3 endpoint, for the backup and restore Jobs' pods only."""
    cidrs, port = target.egress()
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": S3_EGRESS_POLICY, "namespace": store.namespace,
                     "labels": store_labels(store)},
        "spec": {
            "podSelector": {"matchLabels": {EGRESS_LABEL: "s3"}},
            "policyTypes": ["Egress"],
            "egress": [{"to": [{"ipBlock": {"cidr": c}} for c in cidrs],
                        "ports": [{"protocol": "TCP", "port": port}]}],
        },
    }  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Container:
    image: str
    command: list[str]
    env: list[dict[str, Any]]
    mounts: list[dict[str, Any]]
    volumes: list[dict[str, Any]]


def _folder_container(recipe: BackupRecipe, script: str) -> _Container:
    return _Container(
        image=recipe.image,
        command=["sh", "-c", script],
        env=[dict(e) for e in recipe.env],
        mounts=[{"name": "backups", "mountPath": MOUNT}],
        volumes=[{"name": "backups", "persistentVolumeClaim": {"claimName": CLAIM}}],
    )


def _s3_container(recipe: BackupRecipe, target: S3Target, command: list[str]) -> _Container:
    def key_ref(name: str, key: str) -> dict[str, Any]:
        return {"name": name, "valueFrom": {"secretKeyRef": {"name": S3_SECRET, "key": key}}}

    return _Container(
        image=f"{target.image_repository}:{recipe.s3_tag}",
        command=command,
        env=[
            *(dict(e) for e in recipe.env),
            {"name": "S3_BUCKET", "value": target.bucket},
            {"name": "S3_REGION", "value": target.region},
            {"name": "S3_ENDPOINT_URL", "value": target.endpoint_url},
            key_ref("AWS_ACCESS_KEY_ID", "access-key-id"),
            key_ref("AWS_SECRET_ACCESS_KEY", "secret-access-key"),
        ],
        mounts=[{"name": "tool", "mountPath": TOOL_MOUNT, "readOnly": True}],
        volumes=[{"name": "tool", "configMap": {"name": S3_TOOL, "defaultMode": 0o444}}],
    )


def _with_uploads(container: _Container, claim: str, *, read_only: bool) -> _Container:
    """``container`` with the engine's uploads claim mounted at ``/uploads``."""
    mount = {"name": "uploads", "mountPath": UPLOADS_MOUNT, "readOnly": read_only}
    volume = {"name": "uploads", "persistentVolumeClaim": {"claimName": claim}}
    return replace(container, mounts=[*container.mounts, mount],
                   volumes=[*container.volumes, volume])  # fmt: skip


def _uploads_affinity(claim: str) -> Manifest:
    """The chart's own term: on the node of the pods that mount the ReadWriteOnce claim (or
    anywhere when none runs, e.g. while a restore has the workloads stopped)."""
    return {
        "podAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [
                {
                    "labelSelector": {"matchLabels": {UPLOADS_LABEL: claim}},
                    "topologyKey": "kubernetes.io/hostname",
                }
            ]
        }
    }


def _pod_spec(
    recipe: BackupRecipe,
    name: str,
    container: _Container,
    labels: dict[str, str],
    uploads: str = "",
) -> Manifest:
    if uploads:
        labels = {**labels, UPLOADS_LABEL: uploads}
    return {
        "metadata": {"labels": labels},
        "spec": {
            **({"affinity": _uploads_affinity(uploads)} if uploads else {}),
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
                    "name": name,
                    "image": container.image,
                    "imagePullPolicy": "IfNotPresent",
                    "command": container.command,
                    "env": container.env,
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
                    "volumeMounts": [*container.mounts, {"name": "tmp", "mountPath": "/tmp"}],
                }
            ],
            "volumes": [*container.volumes, {"name": "tmp", "emptyDir": {}}],
        },
    }


def _labels(component: str, backup_id: str, target: BackupTargetConfig) -> dict[str, str]:
    labels = {
        BACKUP_ID_LABEL: backup_id,
        "app.kubernetes.io/managed-by": "storeplane",
        "app.kubernetes.io/component": component,
    }
    if target.s3 is not None:
        labels[EGRESS_LABEL] = "s3"  # what the egress policy selects
    return labels


def backup_job(store: Store, backup: Backup, target: BackupTargetConfig) -> Manifest:
    """The Job that dumps the store's database into the target. Not labelled with the store
    id (the reconciler would prune it as "not rendered"); the namespace's deletion takes it."""
    recipe = recipe_for(store.spec.engine)
    labels = {**_labels("backup", backup.id, target), BACKUP_OF_LABEL: store.id}
    claim = recipe.uploads_claim
    if target.s3 is not None:
        tool = [
            "python3", f"{TOOL_MOUNT}/s3.py", "put", target.s3.key(backup.location), "--",
            "sh", "-c", recipe.stream_script(),
        ]  # fmt: skip
        if claim:
            # The uploaded files' archive first, as a second object; then the dump.
            archive = [
                "python3", f"{TOOL_MOUNT}/s3.py", "put",
                target.s3.key(uploads_location(backup.location)), "--",
                "sh", "-c", f"set -e; {recipe.archive_script('-')}",
            ]  # fmt: skip
            script = f"set -e; {shlex.join(archive)}; {shlex.join(tool)}"
            tool = ["sh", "-c", script]
        container = _s3_container(recipe, target.s3, tool)
    else:
        container = _folder_container(recipe, recipe.backup_script(backup.id))
    if claim:
        container = _with_uploads(container, claim, read_only=True)
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": backup.job_name, "namespace": store.namespace, "labels": labels},
        "spec": {
            # One try: a second dump after a failure could only fail the same way, and the
            # outcome must be the first attempt's cause.
            "backoffLimit": 0,
            "activeDeadlineSeconds": JOB_DEADLINE_SECONDS,
            "template": _pod_spec(recipe, "dump", container, labels, claim),
        },
    }


def restore_job(store: Store, op: RestoreOp, target: BackupTargetConfig) -> Manifest:
    """The Job that loads the dump; part of the store's desired workloads while the restore
    is at ``RestoringDatabase`` (so the reconciler applies it, waits for it, then prunes it).
    From S3 it downloads the object (a clone's: the source store's) to its ``/tmp`` first."""
    recipe = recipe_for(store.spec.engine)
    labels = _labels("restore", op.backup_id, target)
    migrate = op.migrates(engine_version(store))
    # Only a backup whose archive the restore found (op.uploads) touches the files.
    claim = recipe.uploads_claim if op.uploads else ""
    if target.s3 is not None:
        key = target.s3.key(op.location)
        fetch = f'python3 {TOOL_MOUNT}/s3.py get "{key}" {RESTORE_FILE}; '
        if claim:
            fetch += (
                f'python3 {TOOL_MOUNT}/s3.py get "{target.s3.key(op.uploads)}" '
                f"{RESTORE_UPLOADS_FILE}; "
            )
        load = recipe.load_script_for(
            RESTORE_FILE, migrate=migrate, uploads=RESTORE_UPLOADS_FILE if claim else ""
        )
        container = _s3_container(recipe, target.s3, ["sh", "-c", f"set -e; {fetch}{load}"])
    else:
        script = recipe.load_script(op.backup_id, migrate=migrate, uploads=bool(claim))
        container = _folder_container(recipe, script)
    if claim:
        container = _with_uploads(container, claim, read_only=False)
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": op.job_name, "namespace": store.namespace, "labels": labels},
        "spec": {
            "backoffLimit": 1,
            "activeDeadlineSeconds": JOB_DEADLINE_SECONDS,
            "template": _pod_spec(recipe, "restore", container, labels, claim),
        },
    }
