"""``/api/v1/stores/{id}/logs``: what a store's containers print, for its owner.

Thin: :mod:`storeplane.services.logs` picks the pod and container and reads the cluster's
pods/log subresource through the port the app was given (``create_app(pod_logs=...)``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from storeplane.api.deps import CurrentUserDep, PodLogsDep, RepositoryDep
from storeplane.api.routing import ApiRoute
from storeplane.api.schemas import StoreLogPublic
from storeplane.services import logs as service

router = APIRouter(prefix="/api/v1/stores", tags=["logs"], route_class=ApiRoute)

StoreId = Annotated[str, Path(description="The store's id, e.g. `store-3k9x2m7q`.")]
DEFAULT_TAIL = 500


def _problems(**codes: str) -> dict[int | str, dict[str, Any]]:
    return {int(code.removeprefix("e")): {"description": text} for code, text in codes.items()}


@router.get(
    "/{store_id}/logs",
    response_model=StoreLogPublic,
    summary="A store's container output",
    description=(
        "The output of one container of one of the store's pods (the cluster's pods/log, as "
        "`kubectl logs` shows it): its last `tail` lines. Without `pod`, or with one the store "
        "does not have, the answer lists the store's pods and their containers; `container` "
        "may be left out for a pod with a single container. A container the simulator only "
        "simulates has no output (empty `text`)."
    ),
    responses=_problems(
        e400="`pod` is missing, or `container` for a pod with several; `detail` lists them.",
        e404="No such store (or not yours), or no such pod or container (`detail` lists "
        "the ones there are).",
        e409="The container has no output yet (it is waiting to start; `detail` says why).",
        e503="This server has no cluster to read from, or the cluster did not answer.",
    ),
)
async def store_logs(
    store_id: StoreId,
    repo: RepositoryDep,
    logs: PodLogsDep,
    user: CurrentUserDep,
    pod: Annotated[str | None, Query(max_length=253, description="The pod's name.")] = None,
    container: Annotated[
        str | None, Query(max_length=63, description="The container's name.")
    ] = None,
    tail: Annotated[
        int, Query(ge=1, le=10_000, description="How many of the last lines to return.")
    ] = DEFAULT_TAIL,
) -> StoreLogPublic:
    log = await service.store_log(
        repo, logs, store_id, user, pod=pod, container=container, tail=tail
    )
    return StoreLogPublic.from_domain(log)
