"""A restore's stages against the simulator (workloads simulated), and its failure (pure).

The simulated journey proves the order of the moves: the engine's server and worker are
scaled to zero, then the restore Job is applied and waited for, then it is pruned and the
workloads come back, and the store is Ready with the restore cleared. The folder target's
PersistentVolume and claim are applied with the platform objects and removed by teardown.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from storeplane.domain.backups import RestoreOp, RestoreStage, uploads_location
from storeplane.domain.ports import NamespacePhase, NamespaceStatus
from storeplane.domain.state import Observation, ReconcileState, determine_state
from storeplane.domain.store import Phase
from storeplane.reconciler.actions.restore_database import (
    begin_load,
    fail_restore,
    finish_load,
    finish_restore,
)
from storeplane.reconciler.backup_jobs import CLAIM, BackupTargetConfig, volume_name
from tests.domain.test_store import make_store
from tests.reconciler.conftest import NOW, Harness


def _op(store_id: str, stage: RestoreStage = RestoreStage.STOPPING) -> RestoreOp:
    return RestoreOp(
        backup_id="backup-abcdefghij",
        source_store_id=store_id,
        location=f"{store_id}/backup-abcdefghij.dump",
        stage=stage,
        requested_at=NOW,
    )


async def test_a_restore_stops_the_workloads_loads_the_dump_and_starts_them_again(
    harness: Harness, tmp_path: Path
) -> None:
    harness.ctx = replace(harness.ctx, backups=BackupTargetConfig(folder=tmp_path / "backups"))
    store = await harness.until(harness.new_store(), {Phase.READY})
    namespace = store.namespace
    claim = harness.kube.get(f"/api/v1/namespaces/{namespace}/persistentvolumeclaims/{CLAIM}")
    assert claim.status_code == 200
    assert claim.json()["spec"]["volumeName"] == volume_name(store)
    pv = harness.kube.get(f"/api/v1/persistentvolumes/{volume_name(store)}")
    assert pv.json()["spec"]["hostPath"]["path"] == str(tmp_path / "backups" / store.id)

    store = store.request_restore(
        _op(store.id), now=harness.ctx.clock(), deadline=harness.ctx.timing.deadline
    )
    assert store.phase is Phase.RESTORING
    seen: list[RestoreStage] = []
    replicas: dict[RestoreStage, int] = {}
    job_seen = False
    for _ in range(200):
        result = await harness.once(store)
        store = result.store
        if store.restore is not None:
            seen.append(store.restore.stage)
            server = harness.kube.get(
                f"/apis/apps/v1/namespaces/{namespace}/deployments/medusa-server"
            )
            replicas[store.restore.stage] = server.json()["spec"]["replicas"]
            job = harness.kube.get(
                f"/apis/batch/v1/namespaces/{namespace}/jobs/restore-backup-abcdefghij"
            )
            job_seen = job_seen or job.status_code == 200
        if store.phase is Phase.READY:
            break
    assert store.phase is Phase.READY, store.last_error
    assert store.restore is None
    # Several moves may happen in one pass; the stages are seen in order, never backwards.
    order = [RestoreStage.STOPPING, RestoreStage.RESTORING, RestoreStage.STARTING]
    assert [order.index(s) for s in seen] == sorted(order.index(s) for s in seen)
    assert replicas[RestoreStage.RESTORING] == 0
    assert job_seen, "the restore Job was never applied"
    gone = harness.kube.get(f"/apis/batch/v1/namespaces/{namespace}/jobs/restore-backup-abcdefghij")
    assert gone.status_code == 404, "the restore Job is pruned once the dump is loaded"
    reasons = harness.reasons(store)
    assert reasons.count("RestoreProgressing") == 2
    assert "RestoreSucceeded" in reasons

    deleted = await harness.until(
        store.request_deletion(now=harness.ctx.clock()), {Phase.DELETED}, passes=200
    )
    assert deleted.phase is Phase.DELETED
    assert harness.kube.get(f"/api/v1/persistentvolumes/{volume_name(store)}").status_code == 404


ACTIVE = NamespaceStatus(NamespacePhase.ACTIVE)
ready = make_store(phase=Phase.READY, observed_generation=1)
stopping = replace(ready, phase=Phase.RESTORING, restore=_op(ready.id))
loading = replace(stopping, restore=_op(ready.id, RestoreStage.RESTORING))
starting = replace(stopping, restore=_op(ready.id, RestoreStage.STARTING))


@pytest.mark.parametrize(
    ("store", "observed", "expected"),
    [
        (
            stopping,
            Observation(ACTIVE, not_ready=("Deployment medusa-server: 1/0",)),
            ReconcileState.WORKLOADS_NOT_READY,
        ),
        (stopping, Observation(ACTIVE), ReconcileState.RESTORE_WORKLOADS_STOPPED),
        (
            loading,
            Observation(ACTIVE, not_ready=("Job restore-x: running",)),
            ReconcileState.WORKLOADS_NOT_READY,
        ),
        (
            loading,
            Observation(
                ACTIVE, not_ready=("Job x",), restore_failure="Job x: BackoffLimitExceeded"
            ),
            ReconcileState.RESTORE_FAILED,
        ),
        (loading, Observation(ACTIVE), ReconcileState.RESTORE_DATABASE_LOADED),
        (starting, Observation(ACTIVE, reachable=False), ReconcileState.UNREACHABLE),
        (starting, Observation(ACTIVE, reachable=True), ReconcileState.IN_SYNC),
    ],
    ids=[
        "a restore waits until the workloads are stopped",
        "stopped workloads let the dump be loaded",
        "the restore Job is waited for",
        "a failed restore Job fails the restore, before anything else",
        "a finished restore Job starts the workloads again",
        "started workloads are waited for until they answer",
        "answering workloads end the restore",
    ],
)
def test_a_restore_moves_stage_by_stage(store, observed, expected) -> None:  # type: ignore[no-untyped-def]
    assert determine_state(store, observed).state is expected


def test_a_failed_restore_fails_the_store_with_the_cause_and_keeps_saying_so() -> None:
    from storeplane.reconciler.context import ReconcileContext

    ctx = ReconcileContext(cluster=None, renderer=None, charts_dir=Path("."))  # type: ignore[arg-type]
    failed, events = fail_restore(loading, "restore of backup X failed: Job x: exit 1", ctx)
    assert failed.phase is Phase.FAILED
    assert failed.last_error is not None and "exit 1" in failed.last_error
    assert failed.restore is not None and failed.restore.stage is RestoreStage.FAILED
    assert not failed.restoring
    assert [e.reason for e in events] == ["RestoreFailed", "PhaseChanged"]
    # A retry serves the data as it is and clears the failed restore.
    retried = failed.request_retry(now=NOW, deadline=ctx.timing.deadline)
    assert retried.restore is None
    done, events = finish_restore(starting, ctx)
    assert done.restore is None and events[0].reason == "RestoreSucceeded"


# --- uploaded files: the archive beside the dump -------------------------------------------
FILES = [
    pytest.param(False, True, id="a restore of a backup with files replaces the store's files"),
    pytest.param(False, False,
                 id="a backup made before files were backed up says it has none and leaves them"),
    pytest.param(True, True, id="a clone stages the dump and the archive in its own slice"),
]  # fmt: skip


@pytest.mark.parametrize(("clone", "archived"), FILES)
async def test_the_load_begins_with_the_backups_uploaded_files_when_it_has_them(
    harness: Harness, tmp_path: Path, clone: bool, archived: bool
) -> None:
    target = BackupTargetConfig(folder=tmp_path / "backups")
    ctx = replace(harness.ctx, backups=target)
    store = make_store(phase=Phase.RESTORING)
    source = "store-source1" if clone else store.id
    op = replace(_op(source), clone=clone)
    (tmp_path / "backups" / source).mkdir(parents=True)
    target.dump_path(op.location).write_bytes(b"PGDMP dump")
    if archived:
        target.dump_path(uploads_location(op.location)).write_bytes(b"gzip archive")
    store = replace(store, restore=op)

    loading, events = await begin_load(store, ctx)

    assert loading.restore is not None and loading.restore.stage is RestoreStage.RESTORING
    (event,) = events
    if not archived:
        assert loading.restore.uploads == ""
        assert "the backup has no uploaded files" in event.message
        assert "left as they are" in event.message
        return
    assert "uploaded files are replaced by the backup's" in event.message
    if clone:
        staged = f"{store.id}/{op.backup_id}.uploads.tar.gz"
        assert loading.restore.uploads == staged
        assert target.dump_path(staged).read_bytes() == b"gzip archive"
        assert target.dump_path(f"{store.id}/{op.backup_id}.dump").read_bytes() == b"PGDMP dump"
        loaded, _ = finish_load(loading, ctx)
        assert not list((tmp_path / "backups" / store.id).iterdir())  # staged copies gone
        assert target.dump_path(uploads_location(op.location)).is_file()  # the source's stays
        assert loaded.restore is not None and loaded.restore.stage is RestoreStage.STARTING
    else:
        assert loading.restore.uploads == uploads_location(op.location)
