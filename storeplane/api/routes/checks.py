"""``/api/v1/stores/{id}/checks``: ask for an order check of a store, and read its outcome.

Thin: the service records the request (:mod:`storeplane.services.checks`); a check runner on
the reconciler side runs it. ``notify`` wakes the in-process runner at once; other replicas
find the new check on their next look (about a second).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status

from storeplane.api.deps import ChecksDep, CurrentUserDep, NotifyDep, RepositoryDep
from storeplane.api.routing import ApiRoute
from storeplane.api.schemas import CheckPublic, ChecksPublic
from storeplane.services import checks as service

router = APIRouter(prefix="/api/v1/stores", tags=["checks"], route_class=ApiRoute)

StoreId = Annotated[str, Path(description="The store's id, e.g. `store-3k9x2m7q`.")]
CheckId = Annotated[str, Path(description="The check's id, e.g. `check-4k2m9x7q1z`.")]
_NOT_FOUND = "No store has this id, or it is not one of yours."


def _problems(**codes: str) -> dict[int | str, dict[str, Any]]:
    return {int(code.removeprefix("e")): {"description": text} for code, text in codes.items()}


@router.post(
    "/{store_id}/checks",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=CheckPublic,
    summary="Run an order check",
    description=(
        "Asks for a smoke check that proves the store works as a shop: a guest order placed "
        "through the engine's Store API at the store's URL, then found again through its "
        "Admin API (with the admin login storeplane generated). Returns at once (202) with "
        "the check `Running`; follow it with `GET .../checks/{check_id}` (the `Location` "
        "header) until it is `Passed` (with `order_id`) or `Failed` (with the `step` and the "
        "cause). The outcome is also an event (`SmokeTestPassed` / `SmokeTestFailed`). While a "
        "check of the store runs, asking again returns that check: one order at a time."
    ),
    responses=_problems(
        e404=_NOT_FOUND,
        e409="There is no real store to check: its workloads are simulated, it is not Ready "
        "yet, or it is being deleted (`detail` says which).",
    ),
)
def request_check(
    store_id: StoreId,
    response: Response,
    repo: RepositoryDep,
    checks: ChecksDep,
    user: CurrentUserDep,
    notify: NotifyDep,
) -> CheckPublic:
    check, created = service.request_check(repo, checks, store_id, user)
    if created:
        notify(store_id)
    response.headers["Location"] = f"{router.prefix}/{store_id}/checks/{check.id}"
    return CheckPublic.from_domain(check)


@router.get(
    "/{store_id}/checks",
    response_model=ChecksPublic,
    summary="A store's order checks",
    description="The store's checks, newest first.",
    responses=_problems(e404=_NOT_FOUND),
)
def list_checks(
    store_id: StoreId,
    repo: RepositoryDep,
    checks: ChecksDep,
    user: CurrentUserDep,
    limit: Annotated[int, Query(ge=1, le=100, description="At most this many.")] = 20,
) -> ChecksPublic:
    items = service.list_checks(repo, checks, store_id, user, limit=limit)
    return ChecksPublic(items=[CheckPublic.from_domain(c) for c in items], count=len(items))


@router.get(
    "/{store_id}/checks/{check_id}",
    response_model=CheckPublic,
    summary="An order check",
    description="One check: `Running` with the step under way, then `Passed` or `Failed`.",
    responses=_problems(e404="No such store (or not yours), or the store has no such check."),
)
def get_check(
    store_id: StoreId,
    check_id: CheckId,
    repo: RepositoryDep,
    checks: ChecksDep,
    user: CurrentUserDep,
) -> CheckPublic:
    return CheckPublic.from_domain(service.get_check(repo, checks, store_id, check_id, user))
