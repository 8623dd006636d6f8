"""Backup use cases for the API and CLI: take a backup, list/read/delete backups, restore one
into its store, and check a ``restore_from`` of a new store (a clone).

The API never touches the cluster or the target: it records a ``Running`` backup (and a
``BackupRequested`` event) and a backup runner (:mod:`storeplane.reconciler.backups`) drives
its Job; a restore is a change of the store's intent (phase ``Restoring``) that the reconciler
carries out; a deleted backup is marked expired and the runner removes its dump. Who may see a
store may back it up and restore it; anyone else gets "not found".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from storeplane.domain.backups import (
    Backup,
    BackupKind,
    BackupStatus,
    RestoreOp,
    RestoreStage,
    is_backup_id,
    restore_refusal,
)
from storeplane.domain.conditions import Reason
from storeplane.domain.errors import (
    BackupNotFoundError,
    FeatureUnavailableError,
    InvalidRequestError,
    InvalidTransitionError,
)
from storeplane.domain.events import Event
from storeplane.domain.ports import BackupRepository, StoreRepository
from storeplane.domain.store import Engine, Phase, Store
from storeplane.domain.users import User
from storeplane.engines.backups import engine_version, recipe_for
from storeplane.engines.catalogue import catalogue_from
from storeplane.services.stores import delete_store, get_store, write_intent
from storeplane.settings import Settings

SIMULATED_PREFIX = "simulated:"


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class BackupTarget:
    """What the API knows of the backup target: its kind, or None when there is none."""

    kind: str | None

    @classmethod
    def from_settings(cls, settings: Settings) -> BackupTarget:
        return cls(settings.backup_target if settings.backups_enabled else None)


def _require_target(target: BackupTarget) -> str:
    if target.kind is None:
        raise FeatureUnavailableError(
            "this storeplane has no backup target (STOREPLANE_BACKUPS_ENABLED=false); "
            "ask the operator to configure one"
        )
    return target.kind


def new_backup(
    store: Store, *, kind: BackupKind, requested_by: str, target: str, now: datetime
) -> tuple[Backup, Event]:
    backup = Backup.request(
        store.id,
        engine=store.spec.engine.value,
        engine_version=engine_version(store),
        target=target,
        kind=kind,
        requested_by=requested_by,
        now=now,
    )
    tool = recipe_for(store.spec.engine).dump.split()[0]
    event = Event.normal(
        store.id,
        Reason.BACKUP_REQUESTED,
        f"{kind.value} backup {backup.id} requested by {requested_by}: a Job runs {tool} "
        f"into the {target} target",
        time=now,
        generation=store.generation,
        actor=requested_by,
    )
    return backup, event


def request_backup(
    repo: StoreRepository,
    backups: BackupRepository,
    target: BackupTarget,
    store_id: str,
    user: User,
    *,
    now: datetime | None = None,
) -> tuple[Backup, bool]:
    """Record a backup of the store; (backup, created). While one runs, that one comes back
    (created=False). Raises 409 when the store is not Ready (nothing consistent to dump)."""
    kind = _require_target(target)
    store = get_store(repo, store_id, user)
    if store.is_deleting or store.phase == Phase.DELETED:
        raise InvalidTransitionError(f"store {store.id} is being deleted; nothing to back up")
    if store.observed_generation == 0 or store.restoring:
        raise InvalidTransitionError(
            f"store {store.id} is {store.phase.value}: a backup needs a store that has been "
            "Ready and is not restoring; try again once it is Ready"
        )
    running = backups.running_for(store.id)
    if running is not None:
        return running, False
    backup, event = new_backup(
        store, kind=BackupKind.MANUAL, requested_by=user.name, target=kind, now=_now(now)
    )
    return backups.create(backup, [event]), True


def get_backup(
    repo: StoreRepository, backups: BackupRepository, store_id: str, backup_id: str, user: User
) -> Backup:
    get_store(repo, store_id, user)
    if not is_backup_id(backup_id):
        raise BackupNotFoundError(store_id, backup_id)
    return backups.get(store_id, backup_id)


def list_backups(
    repo: StoreRepository, backups: BackupRepository, store_id: str, user: User, *, limit: int = 100
) -> list[Backup]:
    """The store's backups, newest first (a Deleted store's too: its final backup)."""
    get_store(repo, store_id, user)
    return backups.list_for(store_id, limit=limit)


def delete_backup(
    repo: StoreRepository,
    backups: BackupRepository,
    store_id: str,
    backup_id: str,
    user: User,
    *,
    now: datetime | None = None,
) -> Backup:
    """Mark a finished backup expired now; the backup runner deletes its dump and its row
    (``BackupExpired``) within a tick. A running backup cannot be deleted (409)."""
    backup = get_backup(repo, backups, store_id, backup_id, user)
    if backup.status is BackupStatus.RUNNING:
        raise InvalidTransitionError(
            f"backup {backup.id} is still running; delete it once it finished"
        )
    at = _now(now)
    event = Event.normal(
        store_id,
        Reason.BACKUP_DELETED,
        f"backup {backup.id} deleted by {user.name}; its dump is removed from the "
        f"{backup.target} target",
        time=at,
        generation=0,
        actor=user.name,
    )
    backups.set_expiry_of(backup.id, at, [event])
    return backup.expiring(at)


def _restorable(engine: Engine, version: str, catalogue_file: Path | None) -> tuple[str, ...]:
    try:
        versions = catalogue_from(catalogue_file).for_engine(engine)
    except KeyError:
        return (version,)
    return tuple(versions.restorable(version))


def _loadable(
    backup: Backup,
    store_engine: str,
    version: str,
    at: datetime,
    restorable: tuple[str, ...],
    target: str | None = None,
) -> None:
    why = restore_refusal(
        backup, engine=store_engine, engine_version=version, now=at, restorable=restorable
    )
    if why is None and target is not None and backup.target != target:
        why = (
            f"backup {backup.id} is in the {backup.target} target; this storeplane's backup "
            f"target is {target} (STOREPLANE_BACKUP_TARGET), which cannot read it"
        )
    if why is not None:
        raise InvalidRequestError(why, field="backup_id")
    if backup.message.startswith(SIMULATED_PREFIX) or not backup.size_bytes:
        raise InvalidTransitionError(
            f"backup {backup.id} holds no data: {backup.message or 'it is empty'}"
        )


def request_restore(
    repo: StoreRepository,
    backups: BackupRepository,
    settings: Settings,
    store_id: str,
    backup_id: str,
    user: User,
    *,
    now: datetime | None = None,
) -> Store:
    """Restore one of the store's own backups into it: phase ``Restoring``.

    422 (``backup_id``) for a backup of another engine or engine version, an expired or
    unfinished one; 409 when the store cannot be restored now (deleting, never Ready, already
    restoring, a backup running) or the backup holds no data (a simulated one)."""
    at = _now(now)
    store = get_store(repo, store_id, user)
    if not is_backup_id(backup_id):
        raise BackupNotFoundError(store_id, backup_id)
    backup = backups.get(store.id, backup_id)
    if not recipe_for(store.spec.engine).restorable:
        raise InvalidRequestError(
            f"restoring a {store.spec.engine.value} store is not supported yet (its backups "
            "are taken; load one by hand with the engine's own tools)",
            field="backup_id",
        )
    version = engine_version(store)
    restorable = _restorable(store.spec.engine, version, settings.engine_catalogue)
    target = BackupTarget.from_settings(settings).kind
    _loadable(backup, store.spec.engine.value, version, at, restorable, target)
    if backups.running_for(store.id) is not None:
        raise InvalidTransitionError(
            f"a backup of store {store.id} is running; restore once it finished"
        )
    op = RestoreOp(
        backup_id=backup.id,
        source_store_id=store.id,
        location=backup.location,
        stage=RestoreStage.STOPPING,
        requested_at=at,
        engine_version=backup.engine_version,
    )

    def restore(current: Store, when: datetime) -> tuple[Store, Event | None]:
        changed = current.request_restore(op, now=when, deadline=settings.provision_deadline)
        return changed, Event.normal(
            current.id,
            Reason.RESTORE_REQUESTED,
            f"restore of backup {backup.id} (taken {backup.started_at.isoformat()}, "
            f"{backup.engine} {backup.engine_version}) requested by {user.name}: workloads "
            "stop, the database is loaded, workloads start",
            time=when,
            generation=changed.generation,
            actor=user.name,
        )

    return write_intent(repo, store.id, user, restore, at)


def clone_source(
    repo: StoreRepository,
    backups: BackupRepository,
    source_store_id: str,
    backup_id: str,
    engine: str,
    engine_version: str | None,
    user: User,
    *,
    now: datetime | None = None,
    catalogue_file: Path | None = None,
    target: str | None = None,
) -> tuple[RestoreOp, str]:
    """The first load of a new store created with ``restore_from``, and the engine version
    the new store must run (the backup's). The source store may be Deleted (its final backup
    is cloneable until it expires). 404 for a store or backup the user cannot see; 422 for one
    of another engine or version, expired or unfinished."""
    at = _now(now)
    source = get_store(repo, source_store_id, user)
    if not is_backup_id(backup_id):
        raise BackupNotFoundError(source_store_id, backup_id)
    backup = backups.get(source.id, backup_id)
    if not recipe_for(source.spec.engine).restorable:
        raise InvalidRequestError(
            f"cloning a {source.spec.engine.value} store is not supported yet",
            field="restore_from",
        )
    # The clone runs the backup's version unless asked for another one that restores it.
    version = engine_version or backup.engine_version
    restorable = _restorable(source.spec.engine, version, catalogue_file)
    _loadable(backup, engine, version, at, restorable, target)
    return RestoreOp(
        backup_id=backup.id,
        source_store_id=source.id,
        location=backup.location,
        stage=RestoreStage.STOPPING,
        requested_at=at,
        clone=True,
        engine_version=backup.engine_version,
    ), version


def request_final_backup(
    backups: BackupRepository, target: BackupTarget, store: Store, user: User, now: datetime
) -> Backup | None:
    """Record the final backup of a store about to be deleted, when its policy asks for one
    and there is something to dump (it has been Ready). The teardown waits for it."""
    if not store.spec.final_backup or target.kind is None or store.observed_generation == 0:
        return None
    if store.is_deleting or store.phase == Phase.DELETED:
        return None
    if any(b.kind is BackupKind.FINAL for b in backups.list_for(store.id)):
        return None
    backup, event = new_backup(
        store, kind=BackupKind.FINAL, requested_by=user.name, target=target.kind, now=now
    )
    return backups.create(backup, [event])


def delete_with_final_backup(
    repo: StoreRepository,
    backups: BackupRepository,
    target: BackupTarget,
    store_id: str,
    user: User,
    *,
    now: datetime | None = None,
) -> Store:
    """Delete the store, first recording its final backup when its policy asks for one (the
    teardown waits until that backup finished)."""
    store = get_store(repo, store_id, user)
    request_final_backup(backups, target, store, user, _now(now))
    return delete_store(repo, store_id, user, now=now)
