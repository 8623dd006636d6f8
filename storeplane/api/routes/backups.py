"""``/api/v1/stores/{id}/backups`` and ``/restore``: back a store up, list, read and delete its
backups, restore one into it.

Thin: the service (:mod:`storeplane.services.backups`) records the request; the backup runner
and the reconciler carry it out. ``notify`` wakes them in this process at once.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status

from storeplane.api.deps import (
    BackupsDep,
    CurrentUserDep,
    NotifyDep,
    RepositoryDep,
    SettingsDep,
)
from storeplane.api.routing import ApiRoute
from storeplane.api.schemas import BackupPublic, BackupsPublic, RestoreRequest, StorePublic
from storeplane.services import backups as service

router = APIRouter(prefix="/api/v1/stores", tags=["backups"], route_class=ApiRoute)

StoreId = Annotated[str, Path(description="The store's id, e.g. `store-3k9x2m7q`.")]
BackupId = Annotated[str, Path(description="The backup's id, e.g. `backup-4k2m9x7q1z`.")]
_NOT_FOUND = "No store has this id, or it is not one of yours."


def _problems(**codes: str) -> dict[int | str, dict[str, Any]]:
    return {int(code.removeprefix("e")): {"description": text} for code, text in codes.items()}


@router.post(
    "/{store_id}/backups",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=BackupPublic,
    summary="Back a store up",
    description=(
        "Asks for a backup of the store's database: a Job in the store's namespace runs the "
        "engine's own dump tool (`pg_dump` for Medusa, `mariadb-dump` for WooCommerce) into "
        "the backup target. Returns at once (202) with the backup `Running`; follow it with "
        "`GET .../backups/{backup_id}` (the `Location` header) until it is `Succeeded` (with "
        "`size_bytes`) or `Failed` (with the cause). While a backup of the store runs, asking "
        "again returns that one."
    ),
    responses=_problems(
        e404=_NOT_FOUND,
        e409="The store is not Ready (never provisioned, restoring, being deleted).",
        e503="This server has no backup target.",
    ),
)
def request_backup(
    store_id: StoreId,
    response: Response,
    repo: RepositoryDep,
    backups: BackupsDep,
    settings: SettingsDep,
    user: CurrentUserDep,
    notify: NotifyDep,
) -> BackupPublic:
    target = service.BackupTarget.from_settings(settings)
    backup, created = service.request_backup(repo, backups, target, store_id, user)
    if created:
        notify(store_id)
    response.headers["Location"] = f"{router.prefix}/{store_id}/backups/{backup.id}"
    return BackupPublic.from_domain(backup)


@router.get(
    "/{store_id}/backups",
    response_model=BackupsPublic,
    summary="A store's backups",
    description="Newest first; a Deleted store's too (its final backup, until it expires).",
    responses=_problems(e404=_NOT_FOUND),
)
def list_backups(
    store_id: StoreId,
    repo: RepositoryDep,
    backups: BackupsDep,
    user: CurrentUserDep,
    limit: Annotated[int, Query(ge=1, le=500, description="At most this many.")] = 100,
) -> BackupsPublic:
    items = service.list_backups(repo, backups, store_id, user, limit=limit)
    return BackupsPublic(items=[BackupPublic.from_domain(b) for b in items], count=len(items))


@router.get(
    "/{store_id}/backups/{backup_id}",
    response_model=BackupPublic,
    summary="A backup",
    description="One backup: `Running`, then `Succeeded` (with `size_bytes`) or `Failed`.",
    responses=_problems(e404="No such store (or not yours), or the store has no such backup."),
)
def get_backup(
    store_id: StoreId,
    backup_id: BackupId,
    repo: RepositoryDep,
    backups: BackupsDep,
    user: CurrentUserDep,
) -> BackupPublic:
    return BackupPublic.from_domain(service.get_backup(repo, backups, store_id, backup_id, user))


@router.delete(
    "/{store_id}/backups/{backup_id}",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=BackupPublic,
    summary="Delete a backup",
    description=(
        "Marks a finished backup expired now (the answer shows `expires_at`); the backup "
        "runner deletes its dump from the target and then the backup itself, with a "
        "`BackupExpired` event, within a second or so."
    ),
    responses=_problems(
        e404="No such store (or not yours), or the store has no such backup.",
        e409="The backup is still running.",
    ),
)
def delete_backup(
    store_id: StoreId,
    backup_id: BackupId,
    repo: RepositoryDep,
    backups: BackupsDep,
    user: CurrentUserDep,
    notify: NotifyDep,
) -> BackupPublic:
    backup = service.delete_backup(repo, backups, store_id, backup_id, user)
    notify(store_id)
    return BackupPublic.from_domain(backup)


@router.post(
    "/{store_id}/restore",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=StorePublic,
    summary="Restore a backup into its store",
    description=(
        "Puts the store's database back as it was in one of its backups: phase `Restoring` "
        "(`restore.stage` says where it is: the workloads stop, a Job loads the dump in one "
        "transaction, the workloads start), then `Ready` again, and an order check follows "
        "where the store is real. If the load fails the store is `Failed` with the cause and "
        "its data is as it was."
    ),
    responses=_problems(
        e404="No such store (or not yours), or the store has no such backup.",
        e409="The store cannot be restored now (being deleted, never Ready, already "
        "restoring, a backup running), or the backup holds no data (simulated).",
        e422="The backup cannot be loaded into this store: another engine or engine version, "
        "not finished, or expired (`errors` names `backup_id`).",
    ),
)
def restore(
    store_id: StoreId,
    body: RestoreRequest,
    repo: RepositoryDep,
    backups: BackupsDep,
    settings: SettingsDep,
    user: CurrentUserDep,
    notify: NotifyDep,
) -> StorePublic:
    store = service.request_restore(repo, backups, settings, store_id, body.backup_id, user)
    notify(store.id)
    return StorePublic.from_domain(store)
