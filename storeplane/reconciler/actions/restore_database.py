"""The moves of a restore (phase ``Restoring``; a clone's first load too), one per stage.

``determine_state`` names them once the cluster shows the stage's work done:

* workloads stopped (``RestoreWorkloadsStopped``) → :func:`begin_load`: it looks for the
  backup's uploaded files' archive in the target (a backup made before files were backed up
  has none: its event says so, and the store's files are left as they are), a clone's dump
  and archive are copied into its own slice of the folder target, and the stage becomes
  ``RestoringDatabase`` (the restore Job is then one of the store's objects: applied, waited
  for; it loads the dump, then replaces the files with the archive's);
* Job complete (``RestoreDatabaseLoaded``) → :func:`finish_load`: stage ``StartingWorkloads``
  (the Job is pruned, the workloads are rendered as usual again);
* in sync and answering at ``StartingWorkloads`` → :func:`finish_restore`: the restore is
  done, the pass makes the store Ready (and a smoke check follows where the store is real);
* Job failed for good (``RestoreFailed``) → :func:`fail_restore`: stage ``Failed``, the store
  ``Failed`` with the Job's cause; the load ran in one transaction, so the data is as before.

Each returns the changed store and its events; every one is idempotent (a pass that crashed
after the cluster write but before saving is decided the same way again).
"""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import replace
from pathlib import Path

from storeplane.domain.backups import RestoreOp, RestoreStage, uploads_location
from storeplane.domain.conditions import Reason
from storeplane.domain.errors import TerminalError
from storeplane.domain.events import Event
from storeplane.domain.store import Phase, Store
from storeplane.engines.backups import recipe_for
from storeplane.reconciler.actions._events import normal, warning
from storeplane.reconciler.context import ReconcileContext


def _staged_name(store: Store) -> str:
    assert store.restore is not None
    return f"{store.id}/{store.restore.backup_id}.dump"


def _stage(source: Path, staged: Path) -> None:
    """Copy ``source`` to ``staged`` (renamed into place once complete; idempotent)."""
    staged.parent.mkdir(parents=True, exist_ok=True)
    if not staged.is_file() or staged.stat().st_size != source.stat().st_size:
        partial = staged.with_suffix(".copying")
        shutil.copyfile(source, partial)
        partial.replace(staged)


async def _archive_of(store: Store, op: RestoreOp, ctx: ReconcileContext) -> str:
    """The backup's uploaded files' archive in the target ("" when it has none: a backup
    made before files were backed up, or of an engine whose files are not)."""
    if not recipe_for(store.spec.engine).uploads_claim or not ctx.backups.enabled:
        return ""
    archive = uploads_location(op.location)
    s3 = ctx.backups.s3
    if s3 is not None:
        client = await s3.client(ctx.cluster)
        return archive if await asyncio.to_thread(client.size, s3.key(archive)) else ""
    return archive if ctx.backups.dump_path(archive).is_file() else ""


async def begin_load(store: Store, ctx: ReconcileContext) -> tuple[Store, list[Event]]:
    op = store.restore
    assert op is not None
    archive = await _archive_of(store, op, ctx)
    if op.source_store_id != store.id and ctx.backups.s3 is None:
        # A clone reads its own slice of the folder target only: copy the dump (and the
        # files' archive) there first. (From S3 the restore Job reads the source's objects.)
        if not ctx.backups.enabled:
            raise TerminalError(
                "no backup target is configured in this storeplane; cannot load the backup",
                reason=Reason.RESTORE_FAILED,
            )
        source = ctx.backups.dump_path(op.location)
        if not source.is_file():
            raise TerminalError(
                f"backup {op.backup_id} is gone from the backup target ({op.location}); "
                "clone from another backup",
                reason=Reason.RESTORE_FAILED,
            )
        _stage(source, ctx.backups.dump_path(_staged_name(store)))
        if archive:
            staged_archive = uploads_location(_staged_name(store))
            _stage(ctx.backups.dump_path(archive), ctx.backups.dump_path(staged_archive))
            archive = staged_archive
    files = (
        "then the store's uploaded files are replaced by the backup's"
        if archive
        else "the backup has no uploaded files (taken before storeplane backed them up, or "
        "the engine's are not), so the store's files are left as they are"
    )
    changed = replace(
        store,
        restore=replace(
            op.at(RestoreStage.RESTORING, "the restore Job loads the dump"), uploads=archive
        ),
    )
    return changed, [
        normal(
            changed,
            ctx,
            Reason.RESTORE_PROGRESSING,
            f"workloads stopped; restore Job {op.job_name} loads backup {op.backup_id} "
            f"(of store {op.source_store_id}) in one transaction; {files}",
        )
    ]


def finish_load(store: Store, ctx: ReconcileContext) -> tuple[Store, list[Event]]:
    op = store.restore
    assert op is not None
    if op.source_store_id != store.id and ctx.backups.uses_folder:
        # The staged copies are not a backup of this store: they go once loaded.
        ctx.backups.dump_path(_staged_name(store)).unlink(missing_ok=True)
        ctx.backups.dump_path(uploads_location(_staged_name(store))).unlink(missing_ok=True)
    changed = replace(store, restore=op.at(RestoreStage.STARTING, "starting the workloads"))
    return changed, [
        normal(
            changed,
            ctx,
            Reason.RESTORE_PROGRESSING,
            f"backup {op.backup_id} loaded into the database"
            f"{' and its uploaded files restored' if op.uploads else ''}; starting the workloads",
        )
    ]


def finish_restore(store: Store, ctx: ReconcileContext) -> tuple[Store, list[Event]]:
    op = store.restore
    assert op is not None
    what = "clone loaded from" if op.clone else "restored from"
    changed = replace(store, restore=None)
    return changed, [
        normal(
            changed,
            ctx,
            Reason.RESTORE_SUCCEEDED,
            f"store {what} backup {op.backup_id} (of store {op.source_store_id}); "
            "its workloads answer again",
        )
    ]


def fail_restore(store: Store, message: str, ctx: ReconcileContext) -> tuple[Store, list[Event]]:
    op = store.restore
    assert op is not None
    changed = replace(
        store,
        restore=op.at(RestoreStage.FAILED, message),
        phase=Phase.FAILED,
        last_error=message,
    )
    return changed, [
        warning(changed, ctx, Reason.RESTORE_FAILED, message),
        normal(
            changed,
            ctx,
            Reason.PHASE_CHANGED,
            f"{store.phase.value} → {Phase.FAILED.value}: {message}",
        ),
    ]
