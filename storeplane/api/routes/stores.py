"""``/api/v1/stores``: create, list, read, change plan, delete, retry, and the event log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Response, status
from pydantic import AfterValidator

from storeplane.api.cachedreads import read
from storeplane.api.deps import (
    CurrentUserDep,
    MaybeBackupsDep,
    NotifyDep,
    RepositoryDep,
    SettingsDep,
)
from storeplane.api.fastjson import page_response, store_response
from storeplane.api.routing import ApiRoute
from storeplane.api.schemas import (
    EventPublic,
    EventsPublic,
    StoreCreate,
    StorePublic,
    StoresPublic,
    StoreUpdate,
    label_terms,
    search_text,
)
from storeplane.domain.backups import BackupPolicy
from storeplane.domain.errors import FeatureUnavailableError, InvalidRequestError
from storeplane.domain.labels import parse_terms
from storeplane.domain.store import Phase, StoreSpec
from storeplane.services import backups as backup_service
from storeplane.services import stores as service

router = APIRouter(prefix="/api/v1/stores", tags=["stores"], route_class=ApiRoute)

StoreId = Annotated[str, Path(description="The store's id, e.g. `store-3k9x2m7q`.")]


def _problems(**codes: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for error replies; ``create_app`` gives them the Problem schema."""
    return {int(code.removeprefix("e")): {"description": text} for code, text in codes.items()}


_NOT_FOUND = "No store has this id, or it is not one of yours."


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=StorePublic,
    summary="Create a store",
    description=(
        "Records a new store in phase `Pending` and returns at once (202): the reconciler "
        "provisions it in the background. Follow `phase` and `conditions` with "
        "`GET /api/v1/stores/{id}` (the `Location` header) or the event log. The store belongs "
        "to the caller. With an `Idempotency-Key`, sending the same request again returns the "
        "store the first one created instead of a new one. With `restore_from` the store is a "
        "clone: its database starts as that backup (see docs/backups.md)."
    ),
    responses=_problems(
        e403="You already own as many live stores as your account allows.",
        e404="`restore_from` names a store or backup that does not exist (or is not yours).",
        e409="A store that is not deleted already has this name, or the `restore_from` "
        "backup holds no data (simulated).",
        e413="The body is larger than the server's limit.",
        e422="The body is invalid (`errors` names each field, a key sent twice included), or "
        "the `Idempotency-Key` was used before with a different body.",
    ),
)
def create_store(
    body: StoreCreate,
    response: Response,
    repo: RepositoryDep,
    backups: MaybeBackupsDep,
    settings: SettingsDep,
    user: CurrentUserDep,
    notify: NotifyDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=255,
            description="Any unique string (a UUID, say). The same key with the same body "
            "returns the same store; the same key with another body is a 422.",
        ),
    ] = None,
) -> StorePublic:
    restore = None
    engine_version = body.engine_version
    if body.restore_from is not None:
        if backups is None:
            raise FeatureUnavailableError("this server keeps no backups (no SQL database)")
        restore, engine_version = backup_service.clone_source(
            repo,
            backups,
            body.restore_from.store_id,
            body.restore_from.backup_id,
            body.engine.value,
            body.engine_version,
            user,
            catalogue_file=settings.engine_catalogue,
            target=backup_service.BackupTarget.from_settings(settings).kind,
        )
    spec = StoreSpec(
        name=body.name,
        engine=body.engine,
        plan=body.plan,
        labels=body.labels,
        engine_version=engine_version or "",
        final_backup=(
            settings.final_backup_default if body.final_backup is None else body.final_backup
        ),
        backup_policy=(
            BackupPolicy(body.backup_policy.every_hours, body.backup_policy.keep)
            if body.backup_policy
            else None
        ),
    )
    store = service.create_store(
        repo, spec, settings, user, idempotency_key=idempotency_key, restore=restore
    )
    notify(store.id)
    response.headers["Location"] = f"{router.prefix}/{store.id}"
    return StorePublic.from_domain(store)


@router.get(
    "",
    response_model=StoresPublic,
    summary="List stores",
    description=(
        "The stores you may see (all for an admin, your own for a member), newest first, a "
        "page at a time. Without `phase`, deleted stores are left out unless "
        "`include_deleted=true`; `phase=Deleted` lists only them. `q` matches part of the name, ignoring case. "
        "`label=key=value` keeps the stores carrying that label (repeat it: all must hold). `count` is "
        "the total over all pages; pass `next_cursor` back as `cursor` for the next page."
    ),
    responses=_problems(
        e422="A query parameter is invalid (unknown phase, limit, cursor, a label term)."
    ),
)
async def list_stores(
    repo: RepositoryDep,
    user: CurrentUserDep,
    phase: Annotated[Phase | None, Query(description="Only stores in this phase.")] = None,
    q: Annotated[
        str | None,
        Query(max_length=100, description="Part of the name, any case; no control characters."),
        AfterValidator(search_text),
    ] = None,
    label: Annotated[
        list[str] | None,
        Query(
            description="`key=value`: only stores with this label; repeat for several (all "
            "must hold).",
            examples=["tier=gold"],
        ),
        AfterValidator(label_terms),
    ] = None,
    include_deleted: Annotated[
        bool, Query(description="Without `phase`: list deleted stores too.")
    ] = False,
    limit: Annotated[int, Query(ge=1, le=200, description="Page size.")] = 50,
    cursor: Annotated[
        str | None, Query(description="`next_cursor` from the previous page.")
    ] = None,
) -> Response:
    page = await read(
        service.list_stores,
        repo,
        user,
        phase=phase,
        query=q,
        limit=limit,
        cursor=cursor,
        include_deleted=include_deleted,
        labels=parse_terms(label or []),
    )
    # The bytes of StoresPublic, made once per cached page, each store's once while it is
    # unchanged (fastjson.py).
    return page_response(page)


@router.get(
    "/{store_id}",
    response_model=StorePublic,
    summary="Get a store",
    description="The store's spec and status. A deleted store stays readable (phase `Deleted`).",
    responses=_problems(e404=_NOT_FOUND),
)
async def get_store(store_id: StoreId, repo: RepositoryDep, user: CurrentUserDep) -> Response:
    return store_response(await read(service.get_store, repo, store_id, user))


@router.patch(
    "/{store_id}",
    response_model=StorePublic,
    summary="Change a store",
    description=(
        "Changes the fields given. A new plan or engine version gives the store a new "
        "`generation` and it goes to `Updating` (or stays `Provisioning` if it was never Ready) "
        "until the reconciler converges. A new engine version must be allowed by the engine "
        "catalogue from the version the store runs (`GET /api/v1/engines`: its "
        "`upgrades_from`), otherwise a 422 names the allowed ones; its migration Job runs "
        "first, server and worker change only once it succeeded. New `labels` replace the "
        "old ones as a whole and need no reconcile (no new generation). New `domains` replace "
        "the old ones as a whole (a new generation); a domain another store has is a 409. "
        "Asking for what the store already has changes nothing."
    ),
    responses=_problems(
        e404=_NOT_FOUND,
        e409="The store is being deleted or is deleted, another store has one of the domains, "
        "or a rollout drives its engine version (the message says how to end it).",
        e422="The body is invalid (`errors` names each field), or the engine version is not "
        "allowed from the one the store runs (the message names the allowed ones).",
    ),
)
def update_store(
    store_id: StoreId,
    body: StoreUpdate,
    repo: RepositoryDep,
    settings: SettingsDep,
    user: CurrentUserDep,
    notify: NotifyDep,
) -> StorePublic:
    if (
        body.plan is None
        and body.labels is None
        and body.engine_version is None
        and body.domains is None
    ):
        raise InvalidRequestError(
            "the body changes nothing: give at least one of plan, engine_version, labels, domains",
            field="body",
        )
    store = service.patch_store(
        repo,
        store_id,
        settings,
        user,
        plan=body.plan,
        engine_version=body.engine_version,
        labels=body.labels,
        domains=body.domains,
    )
    if body.plan is not None or body.engine_version is not None or body.domains is not None:
        notify(store.id)
    return StorePublic.from_domain(store)


@router.delete(
    "/{store_id}",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=StorePublic,
    summary="Delete a store",
    description=(
        "Marks the store `Deleting`; the reconciler uninstalls it, deletes its namespace and "
        "verifies nothing is left, then sets `Deleted`. Idempotent: asking again returns 202 "
        "and records nothing new. The record and its events stay readable afterwards."
    ),
    responses=_problems(e404=_NOT_FOUND),
)
def delete_store(
    store_id: StoreId,
    repo: RepositoryDep,
    backups: MaybeBackupsDep,
    settings: SettingsDep,
    user: CurrentUserDep,
    notify: NotifyDep,
) -> StorePublic:
    if backups is None:
        store = service.delete_store(repo, store_id, user)
    else:
        target = backup_service.BackupTarget.from_settings(settings)
        store = backup_service.delete_with_final_backup(repo, backups, target, store_id, user)
    notify(store.id)
    return StorePublic.from_domain(store)


@router.post(
    "/{store_id}/retry",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=StorePublic,
    summary="Retry a store now",
    description=(
        "Starts a fresh attempt at once: the provisioning deadline and the backoff are reset. "
        "A `Failed` store goes back to `Provisioning` or `Updating`."
    ),
    responses=_problems(e404=_NOT_FOUND, e409="The store is deleted."),
)
def retry_store(
    store_id: StoreId,
    repo: RepositoryDep,
    settings: SettingsDep,
    user: CurrentUserDep,
    notify: NotifyDep,
) -> StorePublic:
    store = service.retry_store(repo, store_id, settings, user)
    notify(store.id)
    return StorePublic.from_domain(store)


@router.post(
    "/{store_id}/suspend",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=StorePublic,
    summary="Suspend a store",
    description=(
        "Scales every workload of the store to zero and points its Ingress at a maintenance "
        "page that answers 503 (with `Retry-After`); volumes, claims and secrets are kept. "
        "The store goes to `Updating` and then `Suspended` (events `SuspendRequested`, "
        "`StoreSuspended`); a workload scaled up by hand while suspended is scaled down again. "
        "Idempotent: suspending a suspended store changes nothing."
    ),
    responses=_problems(e404=_NOT_FOUND, e409="The store is being deleted or is deleted."),
)
def suspend_store(
    store_id: StoreId,
    repo: RepositoryDep,
    settings: SettingsDep,
    user: CurrentUserDep,
    notify: NotifyDep,
) -> StorePublic:
    store = service.set_suspended(repo, store_id, True, settings, user)
    notify(store.id)
    return StorePublic.from_domain(store)


@router.post(
    "/{store_id}/resume",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=StorePublic,
    summary="Resume a suspended store",
    description=(
        "Starts the store's workloads again on the same volumes and gives its Ingress back to "
        "the store: `Updating`, then `Ready` once the engine answers its health check "
        "(events `ResumeRequested`, `StoreResumed`). Idempotent: resuming a store that is not "
        "suspended changes nothing."
    ),
    responses=_problems(e404=_NOT_FOUND, e409="The store is being deleted or is deleted."),
)
def resume_store(
    store_id: StoreId,
    repo: RepositoryDep,
    settings: SettingsDep,
    user: CurrentUserDep,
    notify: NotifyDep,
) -> StorePublic:
    store = service.set_suspended(repo, store_id, False, settings, user)
    notify(store.id)
    return StorePublic.from_domain(store)


@router.get(
    "/{store_id}/events",
    response_model=EventsPublic,
    summary="A store's event log",
    description=(
        "Every state change and step outcome, oldest first, with who acted "
        "(the user's name for requests, `system` for the reconciler)."
    ),
    responses=_problems(e404=_NOT_FOUND),
)
def store_events(store_id: StoreId, repo: RepositoryDep, user: CurrentUserDep) -> EventsPublic:
    events = service.store_events(repo, store_id, user)
    return EventsPublic(items=[EventPublic.from_domain(e) for e in events], count=len(events))
