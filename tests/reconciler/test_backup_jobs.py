"""The S3 target's objects and Jobs (pure): keys by reference only, the uploader from a
ConfigMap, and an egress opening for the Jobs' pods alone."""

from __future__ import annotations

import shlex
from dataclasses import replace
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from storeplane.domain.backups import Backup, BackupKind, RestoreOp, RestoreStage
from storeplane.domain.store import Phase
from storeplane.reconciler.backup_jobs import (
    EGRESS_LABEL,
    S3_SECRET,
    S3_TOOL,
    BackupTargetConfig,
    S3Target,
    backup_job,
    egress_policy,
    restore_job,
    tool_config_map,
)
from storeplane.reconciler.context import ReconcileContext
from storeplane.reconciler.desired import desired_state
from storeplane.render import RenderCache
from storeplane.render.charts import CHARTS_DIR
from tests.domain.test_store import make_store
from tests.reconciler.conftest import NOW

TARGET = S3Target(bucket="shop-backups", prefix="p/", endpoint_url="http://10.0.0.9:9000")


def _backup(store_id: str) -> Backup:
    return Backup.request(
        store_id, engine="medusa", engine_version="2.21.2", target="s3",
        kind=BackupKind.MANUAL, requested_by="ann", now=NOW,
    )  # fmt: skip


def test_the_backup_job_streams_to_the_bucket_with_keys_by_reference_only() -> None:
    store = make_store()
    backup = _backup(store.id)
    job = backup_job(store, backup, BackupTargetConfig(s3=TARGET))
    pod = job["spec"]["template"]
    [container] = pod["spec"]["containers"]
    assert container["image"] == "ghcr.io/storeplane/backup-s3:pg16"
    assert container["command"][:2] == ["sh", "-c"]
    # Two objects: the uploaded files' archive first, then the dump (shell words, quoted).
    words = shlex.split(container["command"][2])
    puts = [words[i + 2] for i, w in enumerate(words) if w == "/opt/storeplane/s3.py"]
    assert puts == [f"p/{store.id}/{backup.id}.uploads.tar.gz", f"p/{store.id}/{backup.id}.dump"]
    script = container["command"][2]
    assert "pg_dump" in script and "--file" not in script and "tar -czf -" in script
    env = {e["name"]: e for e in container["env"]}
    assert env["S3_BUCKET"]["value"] == "shop-backups"
    for name, key in (("AWS_ACCESS_KEY_ID", "access-key-id"),
                      ("AWS_SECRET_ACCESS_KEY", "secret-access-key")):  # fmt: skip
        assert env[name] == {
            "name": name,
            "valueFrom": {"secretKeyRef": {"name": S3_SECRET, "key": key}},
        }
    assert {"name": "tool", "configMap": {"name": S3_TOOL, "defaultMode": 0o444}} in pod["spec"][
        "volumes"
    ]
    claims = [v for v in pod["spec"]["volumes"] if "persistentVolumeClaim" in v]
    assert claims == [{"name": "uploads", "persistentVolumeClaim": {"claimName": "medusa-uploads"}}]
    assert pod["metadata"]["labels"][EGRESS_LABEL] == "s3"


def test_the_restore_job_downloads_the_source_stores_object_then_loads_it() -> None:
    store = make_store()
    op = RestoreOp(backup_id="backup-abcdefghij", source_store_id="store-source1",
                   location="store-source1/backup-abcdefghij.dump", stage=RestoreStage.RESTORING,
                   requested_at=NOW, clone=True)  # fmt: skip
    [container] = restore_job(store, op, BackupTargetConfig(s3=TARGET))["spec"]["template"]["spec"][
        "containers"
    ]
    script = container["command"][-1]
    assert 's3.py get "p/store-source1/backup-abcdefghij.dump" /tmp/restore.dump' in script
    assert script.index("s3.py get") < script.index("pg_restore")


@pytest.mark.parametrize(
    ("target", "cidrs", "port"),
    [
        (TARGET, [{"ipBlock": {"cidr": "10.0.0.9/32"}}], 9000),
        (S3Target(bucket="b-1"), [{"ipBlock": {"cidr": "0.0.0.0/0"}}], 443),
        (S3Target(bucket="b-1", endpoint_url="http://minio.storage:9000",
                  egress_cidrs=("10.1.0.0/16", "10.2.0.0/16")),
         [{"ipBlock": {"cidr": "10.1.0.0/16"}}, {"ipBlock": {"cidr": "10.2.0.0/16"}}], 9000),
    ],
    ids=["an endpoint at an address opens that address only",
         "AWS (a host name) opens port 443 only",
         "configured CIDRs replace the default"],
)  # fmt: skip
def test_the_egress_policy_selects_only_the_jobs_pods(
    target: S3Target, cidrs: list[dict[str, object]], port: int
) -> None:
    policy = egress_policy(make_store(), target)
    assert policy["spec"]["podSelector"] == {"matchLabels": {EGRESS_LABEL: "s3"}}
    assert policy["spec"]["policyTypes"] == ["Egress"]
    assert policy["spec"]["egress"] == [{"to": cidrs, "ports": [{"protocol": "TCP", "port": port}]}]


def test_the_jobs_run_the_control_planes_own_uploader() -> None:
    source = tool_config_map(make_store())["data"]["s3.py"]
    assert "def main(" in source and "import storeplane" not in source


def _older_op(stage: RestoreStage) -> RestoreOp:
    return RestoreOp(backup_id="backup-abcdefghij", source_store_id="store-abc12345",
                     location="store-abc12345/backup-abcdefghij.dump", stage=stage,
                     requested_at=NOW, engine_version="2.20.1")  # fmt: skip


def test_an_older_versions_dump_replaces_the_whole_schema_in_one_transaction() -> None:
    store = make_store(spec=replace(make_store().spec, engine_version="2.21.2"))
    target = BackupTargetConfig(folder=Path("/srv/backups"))
    [older] = restore_job(store, _older_op(RestoreStage.RESTORING), target)["spec"]["template"][
        "spec"
    ]["containers"]
    script = older["command"][-1]
    assert "--single-transaction" in script and "DROP SCHEMA public CASCADE" in script
    assert script.index("pg_restore") < script.index("psql")  # the SQL is written out first
    same = replace(_older_op(RestoreStage.RESTORING), engine_version="2.21.2")
    [plain] = restore_job(store, same, target)["spec"]["template"]["spec"]["containers"]
    assert (
        "DROP SCHEMA" not in plain["command"][-1] and "pg_restore --clean" in plain["command"][-1]
    )


@pytest.mark.parametrize(
    ("stage", "rendered"),
    [(RestoreStage.STOPPING, False), (RestoreStage.RESTORING, False), (RestoreStage.STARTING, True)],
    ids=["while the workloads stop it is left out", "while the dump loads it is left out",
         "once loaded it is rendered again, to migrate the loaded data"],
)  # fmt: skip
async def test_the_migration_job_runs_again_after_an_older_versions_dump(
    stage: RestoreStage, rendered: bool
) -> None:
    ctx = ReconcileContext(cluster=None, renderer=RenderCache(), charts_dir=CHARTS_DIR)  # type: ignore[arg-type]
    store = make_store(spec=replace(make_store().spec, engine_version="2.21.2"),
                       restore=_older_op(stage), phase=Phase.RESTORING)  # fmt: skip
    desired = await desired_state(store, ctx)
    jobs = [m for m in desired.workloads if m["kind"] == "Job"
            and m["metadata"]["labels"].get("app.kubernetes.io/component") == "migrate"]  # fmt: skip
    assert bool(jobs) is rendered


# --- uploaded files ---------------------------------------------------------------------
FOLDER = BackupTargetConfig(folder=Path("/srv/backups"))
CLONE = RestoreOp(backup_id="backup-abcdefghij", source_store_id="store-source1",
                  location="store-source1/backup-abcdefghij.dump", stage=RestoreStage.RESTORING,
                  requested_at=NOW, clone=True)  # fmt: skip
WITH_FILES = replace(CLONE, uploads="store-source1/backup-abcdefghij.uploads.tar.gz")


def _pod_of(job: dict[str, Any]) -> dict[str, Any]:
    pod: dict[str, Any] = job["spec"]["template"]
    return pod


def _uploads_mount(pod: dict[str, Any]) -> dict[str, Any] | None:
    [container] = pod["spec"]["containers"]
    mounts = [m for m in container["volumeMounts"] if m["name"] == "uploads"]
    return mounts[0] if mounts else None


JOBS = [
    pytest.param(lambda: backup_job(make_store(), _backup("store-ab12cd34"), FOLDER), True,
                 id="a folder backup mounts the uploads claim read-only"),
    pytest.param(lambda: backup_job(make_store(), _backup("store-ab12cd34"),
                                    BackupTargetConfig(s3=TARGET)), True,
                 id="an S3 backup mounts the uploads claim read-only"),
    pytest.param(lambda: restore_job(make_store(), WITH_FILES, FOLDER), False,
                 id="a restore of a backup with files mounts the claim to write it"),
    pytest.param(lambda: restore_job(make_store(), WITH_FILES, BackupTargetConfig(s3=TARGET)),
                 False, id="an S3 restore of a backup with files mounts the claim to write it"),
]  # fmt: skip


@pytest.mark.parametrize(("make", "read_only"), JOBS)
def test_a_job_with_the_uploads_claim_runs_on_the_node_that_mounts_it(
    make: Any, read_only: bool
) -> None:
    """ReadWriteOnce: the Job's pod carries the chart's label and its required affinity, so it
    lands on the node of the server and worker (or anywhere while none runs); the manifest is
    valid Kubernetes (strict schemas)."""
    job = make()
    kubernetes_validate.validate(job, "1.31.0", strict=True)
    pod = _pod_of(job)
    assert pod["metadata"]["labels"]["storeplane.dev/uploads"] == "medusa-uploads"
    assert "storeplane.dev/uploads" not in job["metadata"]["labels"]
    (term,) = pod["spec"]["affinity"]["podAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]
    assert term == {
        "labelSelector": {"matchLabels": {"storeplane.dev/uploads": "medusa-uploads"}},
        "topologyKey": "kubernetes.io/hostname",
    }
    assert _uploads_mount(pod) == {
        "name": "uploads",
        "mountPath": "/uploads",
        "readOnly": read_only,
    }


def test_the_folder_backup_renames_the_archive_then_the_dump_only_when_both_are_complete() -> None:
    backup = _backup("store-ab12cd34")
    [container] = _pod_of(backup_job(make_store(), backup, FOLDER))["spec"]["containers"]
    script = container["command"][2]
    assert script.startswith("set -e;")
    order = [
        script.index("pg_dump"),
        script.index(f"tar -czf /backups/{backup.id}.uploads.partial"),
        script.index(f'mv "/backups/{backup.id}.uploads.partial" "/backups/{backup.id}.uploads.tar.gz"'),
        script.index(f'mv "$PARTIAL" "/backups/{backup.id}.dump"'),
    ]  # fmt: skip
    assert order == sorted(order)
    assert "! -name .storeplane-restore" in script  # a restore's staging folder is not archived


def test_a_restore_unpacks_the_files_first_and_replaces_them_only_after_the_load() -> None:
    [container] = _pod_of(restore_job(make_store(), WITH_FILES, FOLDER))["spec"]["containers"]
    script = container["command"][2]
    order = [
        script.index('tar -xzf "/backups/backup-abcdefghij.uploads.tar.gz" -C "/uploads/.storeplane-restore"'),
        script.index("pg_restore"),
        script.index("find /uploads -mindepth 1 -maxdepth 1 ! -name .storeplane-restore -exec rm -rf"),
        script.index('find "/uploads/.storeplane-restore" -mindepth 1 -maxdepth 1 -exec mv'),
    ]  # fmt: skip
    assert order == sorted(order)
    s3_script = _pod_of(restore_job(make_store(), WITH_FILES, BackupTargetConfig(s3=TARGET)))[
        "spec"
    ]["containers"][0]["command"][2]
    assert (
        's3.py get "p/store-source1/backup-abcdefghij.uploads.tar.gz" /tmp/restore.uploads.tar.gz'
        in s3_script
    )


@pytest.mark.parametrize("target", [FOLDER, BackupTargetConfig(s3=TARGET)], ids=["folder", "S3"])
def test_a_backup_without_files_restores_the_database_and_leaves_the_files(
    target: BackupTargetConfig,
) -> None:
    """A backup made before files were backed up (no archive: ``uploads`` empty): the Job
    does not mount the claim and does not touch the files."""
    pod = _pod_of(restore_job(make_store(), CLONE, target))
    script = pod["spec"]["containers"][0]["command"][-1]
    assert "pg_restore" in script and "/uploads" not in script and "tar " not in script
    assert _uploads_mount(pod) is None and "affinity" not in pod["spec"]
