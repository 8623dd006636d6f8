"""``/api/v1/stores/{id}/objects``: a store's live resource tree, and one object's YAML.

Thin: :mod:`storeplane.services.objects` reads the store inventory through the port the app
was given (``create_app(store_objects=...)``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from storeplane.api.deps import CurrentUserDep, RepositoryDep, StoreObjectsDep
from storeplane.api.routing import ApiRoute
from storeplane.api.schemas import StoreObjectPublic, StoreObjectsPublic, StoreObjectYaml
from storeplane.services import objects as service

router = APIRouter(prefix="/api/v1/stores", tags=["objects"], route_class=ApiRoute)

StoreId = Annotated[str, Path(description="The store's id, e.g. `store-3k9x2m7q`.")]
_UNAVAILABLE = "This server has no cluster to read from, or the cluster did not answer."


@router.get(
    "/{store_id}/objects",
    response_model=StoreObjectsPublic,
    summary="A store's objects",
    description=(
        "The store's namespace and every object storeplane applied to it (quota, limit range, "
        "network policies, service account, secrets by name, services, workloads and their "
        "pods, jobs, claims, ingress), each with its health by the reconciler's readiness "
        "rules and a one-line status; objects the chart renders that the cluster lacks are "
        "`Missing`; where the reconciler restored an object changed by hand, when and how."
    ),
    responses={
        404: {"description": "No such store, or not one of yours."},
        503: {"description": _UNAVAILABLE},
    },
)
async def store_objects(
    store_id: StoreId, repo: RepositoryDep, inventory: StoreObjectsDep, user: CurrentUserDep
) -> StoreObjectsPublic:
    objects = await service.store_objects(repo, inventory, store_id, user)
    return StoreObjectsPublic(
        store_id=store_id,
        items=[StoreObjectPublic.from_domain(o) for o in objects],
        count=len(objects),
    )


@router.get(
    "/{store_id}/objects/{kind}/{name}",
    response_model=StoreObjectYaml,
    summary="One object's live YAML",
    description=(
        "The object as the cluster has it, as YAML, read-only. A Secret's values are never "
        "sent: each is replaced by `(hidden)`."
    ),
    responses={
        404: {
            "description": "No such store (or not yours), or no such object (`detail` "
            "names the store's objects of that kind)."
        },
        503: {"description": _UNAVAILABLE},
    },
)
async def store_object(
    store_id: StoreId,
    kind: Annotated[str, Path(max_length=63, description="e.g. `Deployment`.")],
    name: Annotated[str, Path(max_length=253, description="The object's name.")],
    repo: RepositoryDep,
    inventory: StoreObjectsDep,
    user: CurrentUserDep,
) -> StoreObjectYaml:
    obj, text = await service.object_yaml(repo, inventory, store_id, user, kind, name)
    return StoreObjectYaml.from_yaml(obj, text)
